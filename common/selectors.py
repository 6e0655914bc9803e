"""Reads of operations: what `monitor` shows and alerts on."""

import dataclasses
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from common import metrics
from common.models import BackupLog, SystemLog


@dataclasses.dataclass(frozen=True)
class Reading:
    name: str
    value: float | int | None  # None: could not be read
    threshold: float | int | None
    unit: str = ""
    note: str = ""

    @property
    def alerting(self) -> bool:
        return self.value is not None and self.threshold is not None and self.value > self.threshold

    @property
    def state(self) -> str:
        return "UNKNOWN" if self.value is None else ("ALERT" if self.alerting else "ok")


def broker_queue_depth(*, queue: str | None = None) -> int | None:
    """Messages waiting in the Celery queue; None when the broker cannot be read (0 when tasks run eagerly)."""
    if not settings.CELERY_BROKER_URL:
        return 0
    from kombu.exceptions import ChannelError

    from config.celery import app

    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
            declared = connection.default_channel.queue_declare(
                queue=queue or settings.CELERY_TASK_DEFAULT_QUEUE, passive=True
            )
            return int(declared.message_count)
    except ChannelError:  # no such queue (Redis drops an empty one): nothing waits in it
        return 0
    except Exception:  # any transport error: unknown, and said so
        return None


def system_log_counts(*, since) -> dict[str, int]:
    rows = SystemLog.objects.filter(created_at__gte=since)
    return {
        "errors": rows.filter(level__gte=SystemLog.Level.ERROR).count(),
        "webhook_failures": rows.filter(event="webhook_failed").count(),
        "payment_failures": rows.filter(event="payment_failed").count(),
    }


def backup_age_hours(*, now=None) -> float | None:
    last = (
        BackupLog.objects.filter(kind=BackupLog.Kind.BACKUP, status=BackupLog.Status.SUCCEEDED)
        .filter(Q(pruned_at__isnull=True))
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    if last is None:
        return None
    return round(((now or timezone.now()) - last).total_seconds() / 3600, 2)


def beat_age_seconds(*, now=None) -> float | None:
    from common.services.system_log import BEAT_HEARTBEAT_EVENT

    heartbeats = SystemLog.objects.filter(event=BEAT_HEARTBEAT_EVENT).order_by("-created_at")
    last = heartbeats.values_list("created_at", flat=True).first()
    return None if last is None else round(((now or timezone.now()) - last).total_seconds(), 1)


def monitor_readings(*, window_minutes: int = 5, now=None) -> list[Reading]:
    now = now or timezone.now()
    thresholds = settings.MONITOR_THRESHOLDS
    requests = metrics.request_stats(window_minutes=window_minutes, now=now.timestamp())
    logged = system_log_counts(since=now - timedelta(minutes=window_minutes))
    backup_age = backup_age_hours(now=now)
    beat_age = beat_age_seconds(now=now)
    return [
        Reading("request_rate", requests["request_rate"], None, "req/s", f"{requests['requests']} requests"),
        Reading("error_rate", requests["error_rate"], thresholds["error_rate"], "", f"{requests['server_errors']} 5xx"),
        Reading("p95_latency", requests["p95_ms"] if requests["p95_ms"] is not None else 0.0,
                thresholds["p95_ms"], "ms", "no requests" if requests["p95_ms"] is None else "bucket upper bound"),
        Reading("queue_depth", broker_queue_depth(), thresholds["queue_depth"], "tasks"),
        Reading("failed_webhooks", logged["webhook_failures"], thresholds["failed_webhooks"], "", "system log"),
        Reading("system_errors", logged["errors"], thresholds["system_errors"], "", "system log, level error+"),
        Reading("backup_age", backup_age, thresholds["backup_age_hours"], "h",
                "no successful backup yet" if backup_age is None else "newest successful backup"),
        Reading("beat_age", beat_age, thresholds["beat_age_seconds"], "s",
                "no heartbeat yet: is beat running?" if beat_age is None else "newest beat heartbeat"),
    ]
