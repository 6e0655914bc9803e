from django.apps import AppConfig


class ContentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "content"

    def ready(self):
        from content import account_receivers
        from content.auditing import register_audited_models

        register_audited_models()
        account_receivers.connect()
        # Billing sells our quizzes and premium lessons (its "articles"); it asks us for their names and list prices.
        from billing.models import ItemType
        from billing.purchasables import purchasable_register
        from content.selectors import article_for_sale, quiz_for_sale

        purchasable_register(item_type=ItemType.ARTICLE.value, resolver=lambda item_id: article_for_sale(slug=item_id))
        purchasable_register(item_type=ItemType.QUIZ.value, resolver=lambda item_id: quiz_for_sale(slug=item_id))
