"""Celery tasks: thin, idempotent wrappers around analytics services."""

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from analytics import services

RETRY = {"autoretry_for": (Exception,), "retry_backoff": True, "retry_jitter": True, "max_retries": 5}


# Set while a flush is queued and not yet started: pushes meanwhile need not ask for another.
FLUSH_PENDING_KEY = "analytics:events-flush-pending"
FLUSH_PENDING_SECONDS = 10  # a flush lost with its worker stops holding the next one back after this


@shared_task(name="analytics.tasks.events_flush", ignore_result=True, **RETRY)
def events_flush() -> int:
    cache.delete(FLUSH_PENDING_KEY)  # from now on a push may ask again: this run may miss what comes next
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

    And not while one is queued and has not started: each flush drains the whole buffer
    (up to FLUSH_MAX_BATCHES batches), so with batches of 100 events from the API a task per
    request queued thousands of flushes that each found a few events (a quarter of the
    worker's time per event). The flag is set with the cache's `add` (one process wins) and
    cleared by the flush when it starts.
    """
    if events_flush.app.conf.task_always_eager:
        events_flush.delay()
        return
    every = settings.ANALYTICS_FLUSH_AT
    crossed = waiting // every > max(0, waiting - pushed) // every
    if not crossed or not cache.add(FLUSH_PENDING_KEY, True, FLUSH_PENDING_SECONDS):
        return
    try:
        events_flush.delay()
    except Exception:
        cache.delete(FLUSH_PENDING_KEY)  # nothing is queued: the next crossing asks again
        raise
