from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "marketplace"

    def ready(self):
        from auditlog.registry import auditlog

        from accounts.services.gdpr import gdpr_export_section_register
        from billing.purchasables import purchasable_register
        from marketplace.models import PromptTemplate
        from marketplace.selectors import (
            ITEM_TYPE,
            marketplace_data_for_person,
            prompt_template_may_buy,
            prompt_template_priced,
        )
        from marketplace.services.ledger import (
            template_purchase_settled,
            template_refund_recorded,
            template_refund_reversed,
        )

        purchasable_register(
            item_type=ITEM_TYPE,
            resolver=prompt_template_priced,
            may_buy=prompt_template_may_buy,
            on_settled=template_purchase_settled,
            on_refund_recorded=template_refund_recorded,
            on_refund_reversed=template_refund_reversed,
        )
        # Publishing and price changes leave a trail (actor, before, after).
        auditlog.register(
            PromptTemplate,
            exclude_fields=["updated_at", "search_vector", "rating_count", "rating_sum", "rating_average"],
        )
        # A person's reviews and review reports go into their GDPR export (accounts cannot import us).
        gdpr_export_section_register(
            section="marketplace", export=lambda user: marketplace_data_for_person(user=user)
        )
