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


def events_flush_when_due(waiting: int, pushed: int = 1) -> None:
    """Called after each push to the buffer: flush now when this push took the buffer past a
    multiple of ANALYTICS_FLUSH_AT events, or when Celery is eager.

    Past the threshold, not at or above it: while a worker is slow or away the buffer stays
    long, and publishing a flush on every push then cost every tracked request a broker
    round trip and queued a task per event. Now it is one task per ANALYTICS_FLUSH_AT events
    pushed; beat flushes every ANALYTICS_FLUSH_SECONDS whatever waits.
    """
    every = settings.ANALYTICS_FLUSH_AT
    crossed = waiting // every > max(0, waiting - pushed) // every
    if crossed or events_flush.app.conf.task_always_eager:
        events_flush.delay()
