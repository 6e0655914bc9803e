"""Celery tasks of the shared building blocks: thin wrappers."""

from celery import shared_task

from common import outbox


@shared_task(name="common.outbox_run", ignore_result=True)
def outbox_run_task(*, message_id: int) -> bool:
    return outbox.outbox_run(message_id=message_id)


@shared_task(name="common.outbox_relay", ignore_result=True)
def outbox_relay_task() -> int:
    return outbox.outbox_relay()
