"""Product events (raw, kept ANALYTICS_EVENT_RETENTION_DAYS) and their daily rollups (kept for ever)."""

from django.db import models
from django.utils import timezone

from common.events import EVENT_NAMES

EVENT_CHOICES = [(name, name.replace("_", " ")) for name in EVENT_NAMES]


class Event(models.Model):
    """One thing that happened, as `common.events.track` or the events API buffered it.

    Organization and user are plain ids, not foreign keys: events are written in bulk
    from a buffer, must not fail on a row deleted meanwhile, and outlive what they name.
    `uuid` is set when the event is buffered; storing a batch twice stores it once.
    """

    uuid = models.UUIDField(unique=True)
    name = models.CharField(max_length=32, choices=EVENT_CHOICES)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    organization_id = models.BigIntegerField(null=True, blank=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    anonymous_id = models.CharField(max_length=64, blank=True)
    path = models.CharField(max_length=500, blank=True)
    item_type = models.CharField(max_length=32, blank=True)
    item_id = models.CharField(max_length=64, blank=True)
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["occurred_at"], name="analytics_event_occurred"),
            models.Index(fields=["name", "occurred_at"], name="analytics_event_name_time"),
        ]
        # Permissions of the analytics area (granted to staff groups): see docs/analytics.md.
        permissions = [("view_metrics", "Can view business metrics (dashboard and API)")]

    def __str__(self):
        return f"{self.name} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"

    @property
    def visitor(self) -> str:
        return f"u{self.user_id}" if self.user_id else f"a{self.anonymous_id}" if self.anonymous_id else ""


class DailyRollup(models.Model):
    """Events of one UTC day per name and item: how many, and how many distinct visitors.

    Rebuilt for a day by replacing its rows (`rollups_build`), so re-running a day gives
    identical rows; beat re-rolls the last 3 days to catch late events.
    """

    day = models.DateField()
    name = models.CharField(max_length=32, choices=EVENT_CHOICES)
    item_type = models.CharField(max_length=32, blank=True)
    item_id = models.CharField(max_length=64, blank=True)
    events = models.PositiveIntegerField()
    visitors = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "name", "item_type", "item_id"], name="analytics_rollup_unique")
        ]
        ordering = ["day", "name", "item_type", "item_id"]

    def __str__(self):
        return f"{self.day} {self.name} {self.item_type}:{self.item_id} ×{self.events}"


# The funnel's steps that are product events (the last one, paid, is billing's).
FUNNEL_EVENT_STEPS = ("page_view", "signup", "checkout_started")


class StepVisitor(models.Model):
    """When each visitor last did each funnel step: kept by the event flush (`events_store`).

    A visitor is a signed-in user ("u<id>") or, on events without a user, an anonymous
    visitor id ("a<id>"), as `Event.visitor`. Its distinct visitors since an instant are the
    rows with `last_at` at or after it, as long as no event is later than the period's end
    and none since its start was pruned (analytics.selectors checks both). Keeping the latest
    time is idempotent, so replayed batches change nothing; `step_visitors_rebuild` recomputes
    the table from the events.
    """

    name = models.CharField(max_length=32)
    visitor = models.CharField(max_length=80)
    last_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "visitor"], name="analytics_step_visitor_unique")]
        indexes = [models.Index(fields=["name", "last_at"], name="analytics_stepvisitor_last")]

    def __str__(self):
        return f"{self.visitor} {self.name} last at {self.last_at:%Y-%m-%d %H:%M:%S}"
