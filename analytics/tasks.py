"""Celery tasks: thin, idempotent wrappers around analytics services."""

from celery import shared_task
from django.conf import settings

from analytics import services

RETRY = {"autoretry_for": (Exception,), "retry_backoff": True, "retry_jitter": True, "max_retries": 5}


@shared_task(name="analytics.tasks.events_flush", ignore_result=True, **RETRY)
def events_flush() -> int:
    return services.events_flush()


@shared_task(name="analytics.tasks.events_prune", ignore_result=True, **RETRY)
def events_prune() -> int:
    return services.events_prune()


@shared_task(name="analytics.tasks.rollups_refresh", ignore_result=True, **RETRY)
def rollups_refresh() -> int:
    return services.rollups_refresh()


def events_flush_when_due(waiting: int) -> None:
    """Called after each push to the buffer: flush now if ANALYTICS_FLUSH_AT events wait, or when Celery is eager.

    Beat flushes every ANALYTICS_FLUSH_SECONDS whatever waits.
    """
    if waiting >= settings.ANALYTICS_FLUSH_AT or events_flush.app.conf.task_always_eager:
        events_flush.delay()
