from django.conf import settings
from django.db import models
from django.utils import timezone


class LoginEvent(models.Model):
    """One login attempt, successful or not, from the pages or the API."""

    class Method(models.TextChoices):
        PASSWORD = "password", "Password (web)"
        MFA = "mfa", "Password + TOTP (web)"
        JWT = "jwt", "API token"
        ADMIN = "admin", "Admin"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="login_events"
    )
    email = models.CharField(max_length=254, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    success = models.BooleanField()
    method = models.CharField(max_length=16, choices=Method.choices)
    reason = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} {'ok' if self.success else 'failed'} {self.created_at:%Y-%m-%d %H:%M}"
