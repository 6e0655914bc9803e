"""The one place that listens to dj-stripe's webhook signals.

Deliveries that come through our webhook intake (`billing/services/webhook_intake.py`)
are applied by the intake itself; this catches dj-stripe processing them any other way,
such as the admin's "Reprocess".

dj-stripe sends them inside its webhook transaction, in no fixed order with its own
handlers, so this only schedules a Celery job after that transaction commits; the job
reads the then-complete mirror. A job lost here is caught by the periodic reconcile.
"""

from django.db import transaction
from djstripe.signals import WEBHOOK_SIGNALS

from billing.services.webhook_intake import is_applying_inline
from billing.services.webhooks import HANDLED_EVENT_TYPES
from billing.tasks import stripe_event_handle


def stripe_event_received(sender, event, **kwargs):
    if is_applying_inline():
        return  # our webhook intake applies it itself, in the same transaction as dj-stripe's sync
    event_id = event.id
    # robust: a failure to queue (broker down) is logged and does not undo the stored
    # event; the periodic reconcile catches the organization up instead.
    transaction.on_commit(lambda: stripe_event_handle.delay(event_id=event_id), robust=True)


def connect() -> None:
    for event_type in HANDLED_EVENT_TYPES:
        WEBHOOK_SIGNALS[event_type].connect(stripe_event_received, dispatch_uid=f"billing:{event_type}")
