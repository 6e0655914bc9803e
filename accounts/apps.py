from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self):
        from accounts.auditing import register_audited_models

        register_audited_models()

        # Auth signals (logins, logouts, failures) → sessions and login history.
        from accounts import receivers  # noqa: F401

        # A used TOTP code stays refused for its whole validity, not just 30 s.
        from accounts.mfa_replay import remember_used_codes_while_valid

        remember_used_codes_while_valid()
