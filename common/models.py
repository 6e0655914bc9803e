"""Tables every app shares: the outbox of jobs, the system log and the backup log."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class SystemLog(models.Model):
    """A warning, an error or a business event, written by `common.system_log.SystemLogHandler`.

    No foreign keys: a row must survive the deletion of its user or organization (it is
    evidence), and writing it must never fail on a missing row.
    """

    class Level(models.IntegerChoices):
        DEBUG = 10, "debug"
        INFO = 20, "info"
        WARNING = 30, "warning"
        ERROR = 40, "error"
        CRITICAL = 50, "critical"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    logger = models.CharField(max_length=200)
    # A business event's name (`payment_failed`, `webhook_failed`, `backup_failed`); empty for plain log lines.
    event = models.CharField(max_length=64, blank=True, db_index=True)
    message = models.TextField()
    request_id = models.CharField(max_length=128, blank=True, db_index=True)
    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    organization_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # Where it was written: host and process, so a line of one of several machines can be traced back.
    source = models.CharField(max_length=200, blank=True)
    context = models.JSONField(default=dict, blank=True)
    traceback = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["level", "-created_at"])]

    def __str__(self):
        return f"{self.get_level_display()} {self.logger}: {self.message[:80]}"


class BackupLog(models.Model):
    """One run of a backup, a verification or a restore, and how it ended."""

    class Kind(models.TextChoices):
        BACKUP = "backup", "Backup"
        VERIFY = "verify", "Verify"
        RESTORE = "restore", "Restore"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.BACKUP)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    path = models.CharField(max_length=500, blank=True)
    # Where a copy went besides the local file (the `backups` storage), empty when none.
    remote_name = models.CharField(max_length=500, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    # sha256 of the whole backup file (hex).
    checksum = models.CharField(max_length=64, blank=True)
    database_vendor = models.CharField(max_length=32, blank=True)
    row_counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # Set when retention deleted the file; the row stays as history.
    pruned_at = models.DateTimeField(null=True, blank=True)
    triggered_by = models.CharField(max_length=200, blank=True, help_text="command, beat, or a staff email")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["kind", "status", "-started_at"])]

    def __str__(self):
        return f"{self.kind} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


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
