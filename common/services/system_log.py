"""The system log's writes (the handler that feeds it lives in common.system_log)."""

from datetime import timedelta

from django.utils import timezone

from common.models import SystemLog


def system_log_prune(*, days: int, now=None) -> int:
    """Delete rows older than `days`; returns how many went."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = SystemLog.objects.filter(created_at__lt=cutoff).delete()
    return deleted


BEAT_HEARTBEAT_EVENT = "beat_heartbeat"


def beat_heartbeat_record(*, task_id: str, source: str) -> SystemLog:
    return SystemLog.objects.create(
        level=SystemLog.Level.INFO, logger="common.tasks", event=BEAT_HEARTBEAT_EVENT,
        message="beat heartbeat", source=source[:200], context={"task_id": task_id},
    )
