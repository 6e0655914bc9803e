"""Stripe webhooks in two steps: accept (verify, store, answer) and process (in Celery).

dj-stripe's own view verifies, stores *and* processes each delivery before answering,
so Stripe waits on dj-stripe's sync and our entitlement refresh (tens of milliseconds of
CPU per event) and a slow moment turns into Stripe's timeouts and retries. Here the
request only checks the signature and stores dj-stripe's `WebhookEventTrigger` row
(one INSERT), and a Celery job runs dj-stripe's processing of that same row after the
commit. Everything dj-stripe offers on the trigger stays true: the admin lists it with
its error and "Reprocess" replays it, and duplicates are dropped by dj-stripe's
`Event.process`.

Nothing is lost between the two steps: a trigger that is valid but not processed
(broker down at the time, worker died, processing raised) is picked up again by
`webhook_triggers_redrive`, which beat runs every few minutes.

Superseded triggers skip dj-stripe's sync. For the object types below, dj-stripe's
handler ignores the event's copy of the object and fetches the object's current state
from Stripe, then syncs it. When several events about one object are queued (a new
subscription alone sends `created`, `updated` and four events about its first invoice),
every sync after the last event's acceptance gives the same result, so only the
latest accepted trigger for an object runs dj-stripe's handler; the earlier ones store
their Event (duplicates still dropped) and apply what is theirs alone (a purchase, the
customer's details, the event's email) without re-syncing the organization's state,
which the latest one's job does. The latest trigger per object is noted in the cache at
acceptance; with no shared cache (local memory in development) nothing is skipped.
"""

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from traceback import format_exc

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from djstripe import signals
from djstripe.models import Event, WebhookEndpoint, WebhookEventTrigger
from djstripe.settings import djstripe_settings

from billing.services.webhooks import HANDLED_EVENT_TYPES, stripe_event_apply

logger = logging.getLogger(__name__)

# Stripe retries a delivery for 3 days; a trigger still failing after that needs a person.
REDRIVE_WINDOW = timedelta(days=3)
# Give the job queued at acceptance time this long before assuming it was lost.
REDRIVE_AFTER = timedelta(minutes=2)
# Event types whose dj-stripe handler re-fetches `data.object` from Stripe and syncs it.
REFETCHED_PREFIXES = (
    "customer.subscription.",
    "invoice.",
    "payment_intent.",
    "charge.",
    "checkout.session.",
    "price.",
    "product.",
)
REFETCHED_TYPES = ("customer.created", "customer.updated")


def webhook_accept(*, endpoint_uuid, body: bytes, headers: dict, remote_ip: str) -> WebhookEventTrigger | None:
    """Store one delivery as dj-stripe's trigger, verified against the endpoint's secret.

    None when no endpoint has this uuid. The trigger is stored whether or not it is
    valid (as dj-stripe does, so forged deliveries are visible in the admin); a valid
    one is queued for processing once the row is committed.
    """
    endpoint = (
        WebhookEndpoint.objects.select_related("djstripe_owner_account").filter(djstripe_uuid=endpoint_uuid).first()
    )
    if endpoint is None:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = "(error decoding body)"
    trigger = WebhookEventTrigger(
        headers=headers,
        body=text,
        remote_ip=remote_ip,
        stripe_trigger_account=endpoint.djstripe_owner_account,
        webhook_endpoint=endpoint,
    )
    trigger.valid = trigger.validate(secret=endpoint.secret, api_key=_api_key(trigger))
    with transaction.atomic():
        trigger.save()
        if trigger.valid:
            transaction.on_commit(lambda: _accepted(trigger), robust=True)
    return trigger


def _accepted(trigger: WebhookEventTrigger) -> None:
    _queue(trigger.pk)  # first: if noting it below fails, the trigger is processed in full all the same
    key = _latest_key(trigger)
    if key:
        cache.set(key, trigger.pk, timeout=int(REDRIVE_WINDOW.total_seconds()))


def _latest_key(trigger: WebhookEventTrigger) -> str:
    """The cache key naming the latest accepted trigger about this event's object ("" if not re-fetched)."""
    data = trigger.json_body
    event_type = data.get("type") or ""
    obj = (data.get("data") or {}).get("object") or {}
    if not obj.get("id") or not (event_type in REFETCHED_TYPES or event_type.startswith(REFETCHED_PREFIXES)):
        return ""
    return f"billing:webhook-latest:{obj.get('object', '')}:{obj['id']}"


def _superseded(trigger: WebhookEventTrigger) -> bool:
    """A later trigger about the same object was accepted: its processing syncs the object anyway."""
    key = _latest_key(trigger)
    latest = cache.get(key) if key else None
    return latest is not None and latest > trigger.pk


def _queue(trigger_id: int) -> None:
    from billing.tasks import stripe_webhook_process

    stripe_webhook_process.delay(trigger_id=trigger_id)


_applying_inline: ContextVar[bool] = ContextVar("billing_webhook_applying_inline", default=False)


@contextmanager
def applying_inline():
    """While set, `billing.receivers` leaves an event to the intake, which applies it in its own transaction."""
    token = _applying_inline.set(True)
    try:
        yield
    finally:
        _applying_inline.reset(token)


def is_applying_inline() -> bool:
    return _applying_inline.get()


def webhook_trigger_process(*, trigger_id: int) -> bool:
    """Run dj-stripe's processing of a stored trigger, then ours, in one transaction; True once processed.

    Ours (subscription state, grants, purchases, emails: `stripe_event_apply`) runs right
    after dj-stripe's sync, so a trigger counts as processed only when both succeeded. A
    failure rolls both back, records the error and traceback on the trigger (the admin
    shows them) and is raised for Celery to retry; the redrive catches it later too.
    Processing an already processed trigger does nothing.
    """
    trigger = (
        WebhookEventTrigger.objects.select_related("webhook_endpoint", "stripe_trigger_account")
        .filter(pk=trigger_id, valid=True)
        .first()
    )
    if trigger is None:
        return False
    if trigger.processed:
        return True
    api_key = _api_key(trigger)
    try:
        with transaction.atomic():
            signals.webhook_pre_process.send(sender=WebhookEventTrigger, instance=trigger)
            if _superseded(trigger):
                trigger.exception, trigger.traceback = "", ""
                trigger.event = _event_store_without_sync(data=trigger.json_body, api_key=api_key)
                trigger.processed = True
            else:
                new = not Event.objects.filter(id=trigger.json_body.get("id", "")).exists()
                with applying_inline():
                    trigger.process(save=False, api_key=api_key)
                if new and trigger.event.type in HANDLED_EVENT_TYPES:
                    # dj-stripe's sync is done (in this transaction): apply ours on top of it.
                    stripe_event_apply(event_id=trigger.event.id)
            signals.webhook_post_process.send(sender=WebhookEventTrigger, instance=trigger, api_key=api_key)
            trigger.save()
    except Exception as error:
        trigger.exception = str(error)[: WebhookEventTrigger._meta.get_field("exception").max_length]
        trigger.traceback = format_exc()
        trigger.processed = False
        WebhookEventTrigger.objects.filter(pk=trigger.pk).update(
            exception=trigger.exception, traceback=trigger.traceback, updated=timezone.now()
        )
        signals.webhook_processing_error.send(
            sender=WebhookEventTrigger, instance=trigger, api_key=api_key, exception=error, data=""
        )
        raise
    return True


def _event_store_without_sync(*, data: dict, api_key: str) -> Event:
    """dj-stripe's Event.process minus dj-stripe's handler: store the event once, apply what is its own.

    Our part runs here, in the same transaction (a failure retries the whole trigger),
    without re-syncing the organization's state: the later trigger's job does that.
    """
    existing = Event.objects.filter(id=data["id"]).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            event = Event._create_from_stripe_object(data, api_key=api_key)
    except IntegrityError:  # the same event, stored by a concurrent delivery
        existing = Event.objects.filter(id=data["id"]).first()
        if existing is None:
            raise
        return existing
    if event.type in HANDLED_EVENT_TYPES:
        stripe_event_apply(event_id=event.id, sync_state=False)
    return event


def webhook_triggers_redrive(*, now=None) -> int:
    """Queue again every valid trigger left unprocessed; how many were queued."""
    now = now or timezone.now()
    stuck = WebhookEventTrigger.objects.filter(
        valid=True, processed=False, created__lt=now - REDRIVE_AFTER, created__gte=now - REDRIVE_WINDOW
    ).values_list("pk", flat=True)
    count = 0
    for trigger_id in stuck.iterator():
        _queue(trigger_id)
        count += 1
    if count:
        logger.warning("re-queued %d unprocessed Stripe webhook triggers", count)
    return count


def webhook_triggers_prune(*, now=None) -> int:
    """Delete stored deliveries older than WEBHOOK_TRIGGER_RETENTION_DAYS that are settled.

    Settled: processed, or never valid (forged, stale, malformed). A valid trigger that
    was never processed is kept for a person to look at. dj-stripe's Event rows stay.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOK_TRIGGER_RETENTION_DAYS)
    settled = Q(processed=True) | Q(valid=False)
    deleted, _ = WebhookEventTrigger.objects.filter(settled, created__lt=cutoff).delete()
    return deleted


def _api_key(trigger: WebhookEventTrigger) -> str:
    """The key dj-stripe itself would process this trigger with."""
    account = trigger.stripe_trigger_account
    livemode = trigger.webhook_endpoint.livemode if trigger.webhook_endpoint else False
    return (account.default_api_key if account else None) or djstripe_settings.get_default_api_key(livemode)
