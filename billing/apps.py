from django.apps import AppConfig


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"

    def ready(self):
        from billing import account_receivers, djstripe_owner, receivers
        from billing.auditing import register_audited_models

        djstripe_owner.install()
        receivers.connect()
        account_receivers.connect()
        register_audited_models()
