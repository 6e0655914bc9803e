"""Tables shared by every app."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    """A job that a request or a service started, written in the same transaction as the change.

    The row is the promise: the job runs after the commit through Celery, and if the broker
    is down or the worker dies, beat's relay publishes it again until a run completes.
    `key` is the business key: starting the same job twice is a no-op.
    """

    key = models.CharField(max_length=255, unique=True)
    handler = models.CharField(max_length=200, help_text="Dotted path of the function run with `kwargs`.")
    kwargs = models.JSONField(default=dict, blank=True)
    # Secrets in kwargs (a one-time link's token) are dropped once the job is done.
    redact_when_done = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now, help_text="Not before: the retry backoff.")
    published_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["available_at"], condition=Q(done_at__isnull=True), name="outbox_pending"),
        ]

    def __str__(self):
        return f"{self.handler} ({self.key})"
