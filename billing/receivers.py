"""The one place that listens to dj-stripe's webhook signals.

Deliveries that come through our webhook intake (`billing/services/webhook_intake.py`)
are applied by the intake itself; this catches dj-stripe processing them any other way,
such as the admin's "Reprocess".

dj-stripe sends them inside its webhook transaction, in no fixed order with its own
handlers, so this only schedules a Celery job after that transaction commits; the job
reads the then-complete mirror. A job lost here is caught by the periodic reconcile.
"""

from djstripe.signals import WEBHOOK_SIGNALS

from billing.services.webhook_intake import is_applying_inline
from billing.services.webhooks import HANDLED_EVENT_TYPES
from common.outbox import outbox_enqueue


def stripe_event_received(sender, event, **kwargs):
    if is_applying_inline():
        return  # our webhook intake applies it itself, in the same transaction as dj-stripe's sync
    # Through the outbox, in dj-stripe's transaction: the job runs after the commit, and a broker
    # outage only delays it.
    outbox_enqueue(
        key=f"stripe_event_apply:{event.id}",
        handler="billing.services.webhooks.stripe_event_apply",
        kwargs={"event_id": event.id},
    )


def connect() -> None:
    for event_type in HANDLED_EVENT_TYPES:
        WEBHOOK_SIGNALS[event_type].connect(stripe_event_received, dispatch_uid=f"billing:{event_type}")
