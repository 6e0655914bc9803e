"""Celery tasks: thin, idempotent wrappers around analytics services."""

from celery import shared_task

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
