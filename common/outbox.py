"""The transactional outbox: every job a request starts survives a broker outage.

`outbox_enqueue(...)` writes an `OutboxMessage` inside the caller's transaction and,
after the commit, publishes one small Celery task that runs it. Publishing is bounded:
the broker's connection timeout is short, and after one failure publishing is skipped
for `BROKER_DOWN_SECONDS` (the relay catches up), so a down broker neither fails nor
slows a request. Beat's `common.outbox_relay` publishes again what was never published,
what was published but not done after `REPUBLISH_AFTER` (a lost worker), and what
failed once its backoff has passed. Runs are at least once; handlers are idempotent
(business keys), and a run first claims the message so two runs at once do not both
call the handler.
"""

import logging
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from common.models import OutboxMessage

logger = logging.getLogger(__name__)

BROKER_DOWN_KEY = "common:outbox:broker-down"
BROKER_DOWN_SECONDS = 30
REPUBLISH_AFTER = timedelta(minutes=10)
RUNNING_CLAIM = timedelta(minutes=5)  # a run that claimed a message and died frees it after this
MAX_ATTEMPTS = 10


def outbox_enqueue(*, key: str, handler: str, kwargs: dict, redact_when_done: bool = False) -> OutboxMessage | None:
    """Start `handler(**kwargs)` after the current transaction commits, at least once; None if `key` exists."""
    message, created = OutboxMessage.objects.get_or_create(
        key=key, defaults={"handler": handler, "kwargs": kwargs, "redact_when_done": redact_when_done}
    )
    if not created:
        return None
    message_id = message.pk
    transaction.on_commit(lambda: outbox_publish(message_id=message_id), robust=True)
    return message


def outbox_publish(*, message_id: int) -> bool:
    """Hand the message to Celery; False (and the relay's job later) when the broker does not answer."""
    from common.tasks import outbox_run_task  # tasks import this module

    if not task_publish(task=outbox_run_task, kwargs={"message_id": message_id}):
        return False
    OutboxMessage.objects.filter(pk=message_id, published_at__isnull=True).update(published_at=timezone.now())
    return True


def task_publish(*, task, kwargs: dict) -> bool:
    """`task.delay(**kwargs)`, or False at once while the broker is known to be down (then for a short while)."""
    if cache.get(BROKER_DOWN_KEY):
        return False
    try:
        task.delay(**kwargs)
    except Exception as error:  # any broker failure: kombu's OperationalError, a refused socket, a timeout
        if getattr(task.app.conf, "task_always_eager", False):
            raise  # eager: the job itself failed, not the broker
        cache.set(BROKER_DOWN_KEY, True, BROKER_DOWN_SECONDS)
        logger.warning("broker unavailable, %s left for the relay: %s", task.name, error)
        return False
    return True


def outbox_run(*, message_id: int) -> bool:
    """Run one message's handler once it is claimed; True when it is done (now or before)."""
    now = timezone.now()
    # The claim: published_at moves forward and attempts up in one conditional UPDATE, so a
    # duplicate delivery of the same task finds the claim fresh and leaves it.
    claimed = OutboxMessage.objects.filter(
        Q(published_at__isnull=True) | Q(published_at__lt=now - RUNNING_CLAIM) | Q(attempts=0),
        pk=message_id,
        done_at__isnull=True,
    ).update(published_at=now, attempts=F("attempts") + 1)
    message = OutboxMessage.objects.filter(pk=message_id).first()
    if message is None:
        return False
    if not claimed:
        return message.done_at is not None
    try:
        import_string(message.handler)(**message.kwargs)
    except Exception as error:
        backoff = timedelta(seconds=min(3600, 30 * 2 ** min(message.attempts, 7)))
        OutboxMessage.objects.filter(pk=message.pk).update(
            last_error=f"{type(error).__name__}: {error}"[:2000], available_at=now + backoff, published_at=None
        )
        logger.warning(
            "outbox: %s failed (attempt %d), retried after %s: %s", message, message.attempts, backoff, error
        )
        return False
    done = {"done_at": timezone.now(), "last_error": ""}
    if message.redact_when_done:
        done["kwargs"] = {}
    OutboxMessage.objects.filter(pk=message.pk).update(**done)
    return True


def outbox_relay(*, now=None, limit: int = 500) -> int:
    """Publish again what is due: never published, failed and past its backoff, or lost after publishing."""
    now = now or timezone.now()
    cache.delete(BROKER_DOWN_KEY)  # beat reached the broker to run this: try again
    due = (
        OutboxMessage.objects.filter(done_at__isnull=True, attempts__lt=MAX_ATTEMPTS, available_at__lte=now)
        .filter(Q(published_at__isnull=True) | Q(published_at__lt=now - REPUBLISH_AFTER))
        .order_by("available_at")
        .values_list("pk", flat=True)[:limit]
    )
    published = 0
    for message_id in list(due):
        if not outbox_publish(message_id=message_id):
            break
        published += 1
    return published
