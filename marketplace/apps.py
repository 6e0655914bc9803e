from django.apps import AppConfig

# What a version keeps: the template as buyers see and use it (not its figures or search column).
VERSIONED_FIELDS = [
    "seller",
    "title",
    "slug",
    "description",
    "category",
    "tags",
    "body",
    "variables",
    "example_output",
    "price_amount",
    "currency",
    "status",
    "visibility",
    "published_at",
]


class MarketplaceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "marketplace"

    def ready(self):
        import reversion
        from auditlog.registry import auditlog

        from billing.purchasables import purchasable_register
        from marketplace.models import PromptTemplate
        from marketplace.selectors import ITEM_TYPE, prompt_template_may_buy, prompt_template_priced
        from marketplace.services.ledger import template_purchase_settled, template_refund_recorded

        purchasable_register(
            item_type=ITEM_TYPE,
            resolver=prompt_template_priced,
            may_buy=prompt_template_may_buy,
            on_settled=template_purchase_settled,
            on_refund_recorded=template_refund_recorded,
        )
        # Publishing and price changes leave a trail (actor, before, after).
        auditlog.register(
            PromptTemplate,
            exclude_fields=["updated_at", "search_vector", "rating_count", "rating_sum", "rating_average"],
        )
        # Every published change is a version (the services open the revision); buyers keep theirs.
        reversion.register(PromptTemplate, fields=VERSIONED_FIELDS)
