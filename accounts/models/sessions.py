from django.conf import settings
from django.db import models
from django.utils import timezone


class AuthSession(models.Model):
    """One signed-in device: a browser session or a JWT refresh-token family.

    For JWT, `family` is carried in every refresh token of the family and
    `current_jti` is the only refresh token of it that may still be used; rotation
    swaps it with one conditional UPDATE, so of two concurrent refreshes exactly one
    wins, and presenting an older token revokes the whole family.
    """

    class Kind(models.TextChoices):
        WEB = "web", "Browser session"
        JWT = "jwt", "API token"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auth_sessions")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    session_key = models.CharField(max_length=40, blank=True, db_index=True)
    family = models.CharField(max_length=64, blank=True, db_index=True)
    current_jti = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_used_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self):
        return f"{self.user} {self.kind} {self.ip_address or ''}"
