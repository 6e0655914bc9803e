"""Stripe webhooks in two steps: accept (verify, store, answer) and process (in Celery).

dj-stripe's own view verifies, stores *and* processes each delivery before answering,
so Stripe waits on dj-stripe's sync and our entitlement refresh. Here the request only
checks the signature and stores dj-stripe's `WebhookEventTrigger` row (one INSERT), and a
Celery job runs the processing of that same row after the commit. The admin lists each
trigger with its error, and "Reprocess" replays it.

What is guaranteed (docs/billing.md says it for users):

- **Verified.** The signature is checked against the endpoint's secret with Stripe's
  scheme, and the timestamp must lie within the tolerance on *both* sides. dj-stripe's
  `X-Djstripe-Webhook-Secret` override (accepted when DEBUG is on) is never consulted:
  it is dropped from the stored headers and our check does not read it. A refused
  delivery stores no body: one small `WebhookRejection` row per sender, reason and
  minute, and one WARNING line without a traceback.
- **At least once.** A valid delivery is stored before it is answered; a trigger that is
  not processed (broker down, worker lost, processing failed) is queued again by
  `webhook_triggers_redrive`, which beat runs every few minutes.
- **Effects exactly once.** Processing takes a lock on the event (PostgreSQL advisory
  lock, so concurrent deliveries of one event run one after the other) and, when it will
  fetch the object, on the object too (fetches of one object run one after the other),
  then: an event already stored was applied in full by the transaction that stored it
  (dj-stripe's sync and ours commit together), so a duplicate does nothing; otherwise the
  object is synced and our part applied, and the Event row is committed with them. Our
  part locks the organization's state row before it reads the mirror, so two events of
  one organization write their state one after the other. Every effect of ours also has a business key (emails, usage,
  refunds, purchases), so even a replay by hand converges.
- **Order does not matter.** dj-stripe re-fetches the object from Stripe instead of
  trusting the event's copy, and our part re-reads that mirror; purchases are settled
  from the Checkout session re-read from Stripe. An older event processed after a newer
  one therefore lands in the same, current state.

Speed without dropping anything: when the object of a trigger was fetched from Stripe
*after* that trigger was accepted (by another trigger about the same object, under the
same lock), the fetch already saw the change the event reports, so dj-stripe's re-fetch
and sync are skipped for it; its Event is stored and our part applied against the
mirror as usual. Such deliveries take no object lock, so a burst about one object is
processed by several workers at once. The moment of the last fetch per object is noted
in the cache after the commit; with no note (cache cleared, local memory in another
process) nothing is skipped.
"""

import json
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from traceback import format_exc

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from djstripe import signals
from djstripe.enums import APIKeyType
from djstripe.models import APIKey, Event, WebhookEndpoint, WebhookEventTrigger
from djstripe.settings import djstripe_settings

from billing import gateway
from billing.djstripe_owner import owner_account_known
from billing.models import WebhookRejection
from billing.services.webhooks import HANDLED_EVENT_TYPES, stripe_event_apply
from common.outbox import task_publish

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
# Headers never stored with a delivery: dj-stripe's debug override of the secret, and credentials.
DROPPED_HEADERS = {"x-djstripe-webhook-secret", "cookie", "authorization"}
SYNCED_NOTE_SECONDS = 3600


@dataclass(frozen=True)
class WebhookAcceptance:
    trigger: WebhookEventTrigger | None  # stored and queued; None when refused or the endpoint is unknown
    endpoint_found: bool
    refused_because: str = ""


def webhook_accept(*, endpoint_uuid, body: bytes, headers: dict, remote_ip: str) -> WebhookAcceptance:
    """Verify one delivery against the endpoint's secret; store and queue it only if it is genuine."""
    # Only what acceptance needs: the account's (large) Stripe copy is not read for each delivery.
    endpoint = (
        WebhookEndpoint.objects.only("id", "secret", "djstripe_tolerance", "livemode", "djstripe_owner_account_id")
        .filter(djstripe_uuid=endpoint_uuid)
        .first()
    )
    if endpoint is None:
        return WebhookAcceptance(trigger=None, endpoint_found=False)
    reason, data = _verify(body=body, headers=headers, secret=endpoint.secret, tolerance=endpoint.djstripe_tolerance)
    if reason:
        webhook_rejection_record(remote_ip=remote_ip, reason=reason, size=len(body))
        return WebhookAcceptance(trigger=None, endpoint_found=True, refused_because=reason)
    trigger = WebhookEventTrigger(
        headers={name: value for name, value in headers.items() if name.lower() not in DROPPED_HEADERS},
        body=body.decode("utf-8"),
        remote_ip=remote_ip,
        stripe_trigger_account_id=endpoint.djstripe_owner_account_id,
        webhook_endpoint=endpoint,
        valid=True,
    )
    # One INSERT; outside a transaction it is committed when it returns (no BEGIN/COMMIT round
    # trips), and the job is published only then. Inside a caller's transaction, after its commit.
    trigger.save()
    transaction.on_commit(lambda: _queue(trigger.pk), robust=True)
    return WebhookAcceptance(trigger=trigger, endpoint_found=True)


def _verify(*, body: bytes, headers: dict, secret: str, tolerance: int) -> tuple[str, dict]:
    """("", event) for a genuine delivery, else (reason, {}). Never raises for bad input."""
    signature = next((value for name, value in headers.items() if name.lower() == "stripe-signature"), "")
    timestamps = [part[2:] for part in signature.split(",") if part.startswith("t=")]
    if not signature or len(timestamps) != 1 or not timestamps[0].isdigit():
        return "malformed_signature", {}
    if abs(timezone.now().timestamp() - int(timestamps[0])) > tolerance:
        return "timestamp_outside_tolerance", {}
    try:
        text = body.decode("utf-8")
        gateway.webhook_signature_verify(payload=text, header=signature, secret=secret, tolerance=tolerance)
    except UnicodeDecodeError:
        return "malformed_body", {}
    except gateway.SignatureError:
        return "signature_mismatch", {}
    try:
        data = json.loads(text)
    except ValueError:
        return "malformed_body", {}
    if not isinstance(data, dict) or not data.get("id") or "livemode" not in data or not data.get("type"):
        return "malformed_body", {}
    return "", data


def webhook_rejection_record(*, remote_ip: str, reason: str, size: int) -> None:
    """Count a refused delivery in its minute's row; one WARNING line, no traceback, no body kept."""
    logger.warning("refused a Stripe webhook delivery from %s: %s (%d bytes)", remote_ip, reason, size)
    now = timezone.now()
    minute = now.replace(second=0, microsecond=0)
    window = {"minute": minute, "remote_ip": remote_ip or None, "reason": reason}
    bump = {"count": F("count") + 1, "bytes": F("bytes") + size, "last_at": now}
    if WebhookRejection.objects.filter(**window).update(**bump):
        return
    try:
        with transaction.atomic():
            WebhookRejection.objects.create(**window, bytes=size, last_at=now)
    except IntegrityError:  # another refused delivery of that minute created the row first
        WebhookRejection.objects.filter(**window).update(**bump)


def _queue(trigger_id: int) -> None:
    """Publish the processing job; with the broker down the stored trigger waits for the redrive."""
    from billing.tasks import stripe_webhook_process

    task_publish(task=stripe_webhook_process, kwargs={"trigger_id": trigger_id})


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


def _object_of(data: dict) -> tuple[str, bool]:
    """The key of the event's object (for the lock and the fetch note), and whether dj-stripe re-fetches it."""
    event_type = data.get("type") or ""
    obj = (data.get("data") or {}).get("object") or {}
    if not obj.get("id"):
        return f"event:{data.get('id', '')}", False
    refetched = event_type in REFETCHED_TYPES or event_type.startswith(REFETCHED_PREFIXES)
    return f"{obj.get('object', '')}:{obj['id']}", refetched


def _synced_note_key(object_key: str) -> str:
    return f"billing:webhook-synced:{object_key}"


def _lock(key: str) -> None:
    """Serialise processing per `key` until the transaction ends (PostgreSQL; SQLite has one writer)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"stripe:{key}"])


def webhook_trigger_process(*, trigger_id: int) -> bool:
    """Process a stored trigger: dj-stripe's sync and our part in one transaction; True once processed.

    A failure rolls both back, records the error and traceback on the trigger (the admin
    shows them) and is raised for Celery to retry; the redrive catches it later too.
    """
    account_keys = APIKey.objects.filter(
        djstripe_owner_account=OuterRef("stripe_trigger_account"), type=APIKeyType.secret
    ).order_by("pk")
    trigger = (
        WebhookEventTrigger.objects.select_related("webhook_endpoint", "stripe_trigger_account")
        .annotate(
            account_api_key=Subquery(account_keys.values("secret")[:1]),
            account_api_key_livemode=Subquery(account_keys.values("livemode")[:1]),
        )
        .filter(pk=trigger_id, valid=True)
        .first()
    )
    if trigger is None:
        return False
    if trigger.processed:
        return True
    api_key = _api_key(trigger)
    data = trigger.json_body
    object_key, refetched = _object_of(data)
    # Notes only move forward and are written after their fetch committed, so reading one
    # before taking any lock is as good as after.
    synced_at = _synced_note(object_key) if refetched else None
    already_fetched = synced_at is not None and trigger.created.timestamp() < synced_at
    fetched_at = None
    try:
        with (
            transaction.atomic(),
            owner_account_known(
                api_key=api_key,
                account=_key_owner(trigger),
                key_livemode=getattr(trigger, "account_api_key_livemode", None),
            ),
        ):
            # Deliveries of one event run one after the other; so do fetches of one object. A
            # delivery whose object was already fetched since it came needs no object lock:
            # those of one object run side by side, and our part serialises on the
            # organization's state row where it writes.
            _lock(f"event:{data['id']}")
            if not already_fetched:
                _lock(object_key)
            # Under the lock: a concurrent job may have processed this very trigger meanwhile.
            if WebhookEventTrigger.objects.filter(pk=trigger.pk, processed=True).exists():
                return True
            signals.webhook_pre_process.send(sender=WebhookEventTrigger, instance=trigger)
            trigger.exception, trigger.traceback = "", ""
            event = Event.objects.filter(id=data["id"]).first()
            if event is None:
                if already_fetched:
                    event = Event._create_from_stripe_object(data, api_key=api_key)
                else:
                    fetched_at = timezone.now().timestamp()
                    with applying_inline():
                        event = Event.process(data, api_key=api_key)
                if event.type in HANDLED_EVENT_TYPES:
                    stripe_event_apply(event_id=event.id, event=event)
            # else: a duplicate; the transaction that stored the event applied it in full.
            trigger.event = event
            trigger.processed = True
            signals.webhook_post_process.send(sender=WebhookEventTrigger, instance=trigger, api_key=api_key)
            # Only what processing changes: the stored body and headers are not written again.
            trigger.save(update_fields=["event", "processed", "exception", "traceback", "updated"])
            if fetched_at is not None and refetched:
                transaction.on_commit(lambda: _note_synced(object_key, fetched_at), robust=True)
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


def _synced_note(object_key: str) -> float | None:
    """When this object was last fetched, or None: never noted, or the cache is down (then fetch)."""
    try:
        return cache.get(_synced_note_key(object_key))
    except Exception:  # noqa: BLE001 — without the note the delivery fetches: slower, never wrong
        logger.warning("webhooks: cache unavailable, %s is fetched from Stripe", object_key)
        return None


def _note_synced(object_key: str, fetched_at: float) -> None:
    """After the commit: deliveries about this object accepted before `fetched_at` need no fetch of their own."""
    key = _synced_note_key(object_key)
    previous = cache.get(key)
    if previous is None or previous < fetched_at:
        cache.set(key, fetched_at, SYNCED_NOTE_SECONDS)


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
    """Delete stored deliveries older than WEBHOOK_TRIGGER_RETENTION_DAYS that are settled, and old refusals.

    Settled: processed, or never valid (stored before refused deliveries stopped being
    stored). A valid trigger that was never processed is kept for a person to look at.
    dj-stripe's Event rows stay.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOK_TRIGGER_RETENTION_DAYS)
    settled = Q(processed=True) | Q(valid=False)
    deleted, _ = WebhookEventTrigger.objects.filter(settled, created__lt=cutoff).delete()
    WebhookRejection.objects.filter(minute__lt=cutoff).delete()
    return deleted


def _api_key(trigger: WebhookEventTrigger) -> str:
    """The key dj-stripe itself would process this trigger with (`Account.default_api_key`, read with the trigger)."""
    livemode = trigger.webhook_endpoint.livemode if trigger.webhook_endpoint else False
    return getattr(trigger, "account_api_key", None) or djstripe_settings.get_default_api_key(livemode)


def _key_owner(trigger: WebhookEventTrigger):
    """The account that owns the key `_api_key` chose, when that key is the trigger account's own; else None."""
    return trigger.stripe_trigger_account if getattr(trigger, "account_api_key", None) else None
