"""What a Stripe event means for us: re-sync the customer's state from the mirror, send emails.

dj-stripe has stored the event and synced the object it carries before this runs
(the receiver schedules it on commit), so the mirror is the source of truth here and
the event only says which customer to look at and which email to send. Re-running
it for the same event, or for events in any order, converges on the same state.
"""

import logging

from django.db import transaction
from djstripe.models import Customer as MirroredCustomer
from djstripe.models import Event
from djstripe.models import Invoice as MirroredInvoice

from accounts.models import Organization
from billing.models import SubscriptionState
from billing.money import money_display
from billing.plans import PLANS
from billing.services.customers import customer_apply_stripe
from billing.services.emails import billing_email_queue
from billing.services.entitlements import ENTITLING_STATUSES
from billing.services.purchases import purchase_refund_sync_from_stripe, purchase_settle_from_stripe
from billing.services.revenue import subscription_payment_record, subscription_refund_record_from_stripe
from billing.services.subscriptions import subscription_state_sync

logger = logging.getLogger(__name__)

HANDLED_EVENT_TYPES = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "customer.subscription.trial_will_end",
    "invoice.paid",
    "invoice.payment_failed",
    "checkout.session.completed",
    "checkout.session.expired",
    "refund.created",
    "refund.updated",
)


def stripe_customer_id_of(*, event_type: str, obj: dict) -> str:
    if event_type.startswith("customer.") and not event_type.startswith("customer.subscription."):
        return obj.get("id") or ""
    customer = obj.get("customer")
    return (customer.get("id") if isinstance(customer, dict) else customer) or ""


def stripe_event_apply(*, event_id: str, event: Event | None = None) -> Organization | None:
    """Apply one stored Stripe event to its customer's organization; None if it names none of ours.

    The event only says what to look at: the organization's state is re-read from the
    mirror, and a Checkout session is re-read from Stripe before a purchase is settled, so
    a replayed, reordered or forged event cannot invent state. `event` is the stored Event
    when the caller just stored it (the webhook intake), saving a read.
    """
    if event is None or event.id != event_id:
        event = Event.objects.filter(id=event_id).first()
    if event is None:
        return None
    obj = (event.data or {}).get("object") or {}
    if event.type in ("checkout.session.completed", "checkout.session.expired") and obj.get("mode") == "payment":
        # One-time purchases may be anonymous: settle them before looking for an organization.
        purchase_settle_from_stripe(session_id=obj.get("id") or "")
    if event.type in ("refund.created", "refund.updated"):
        purchase_refund_sync_from_stripe(refund=obj)
        subscription_refund_record_from_stripe(refund=obj)
        return None
    if event.type == "customer.updated":
        customer_apply_stripe(data=_customer_mirrored(obj))
    elif event.type == "customer.deleted":
        customer_apply_stripe(data=obj, deleted=True)
    customer_id = stripe_customer_id_of(event_type=event.type, obj=obj)
    organization = Organization.objects.filter(djstripe_customers__id=customer_id).first() if customer_id else None
    if organization is None:
        return None
    if event.type == "invoice.paid":
        # The invoice as dj-stripe fetched it from Stripe, not the event's copy.
        subscription_payment_record(invoice=_invoice_mirrored(obj), organization=organization)
    state = subscription_state_sync(organization=organization)
    _emails_for_event(event_type=event.type, obj=obj, organization=organization, state=state)
    return organization


def _invoice_mirrored(obj: dict) -> dict:
    """The invoice as dj-stripe last fetched it from Stripe (the event's copy only if it was never mirrored)."""
    mirrored = MirroredInvoice.objects.filter(id=obj.get("id", "")).first()
    return mirrored.stripe_data if mirrored is not None and mirrored.stripe_data else obj


def _customer_mirrored(obj: dict) -> dict:
    """The customer as dj-stripe last fetched it from Stripe: the latest, whatever order the events came in."""
    mirrored = MirroredCustomer.objects.filter(id=obj.get("id", "")).first()
    return mirrored.stripe_data if mirrored is not None and mirrored.stripe_data else obj


def _emails_for_event(*, event_type: str, obj: dict, organization: Organization, state: SubscriptionState) -> None:
    """Each email has a business key, so a replayed or duplicated event sends nothing twice."""
    base = {"organization_name": organization.name, "plan_name": PLANS[state.plan].name}
    queue = {"organization": organization, "recipient": organization.email}
    subscription_id = obj.get("id", "")
    # The mirror's status, not the event body's: events arrive in any order.
    if event_type.startswith("customer.subscription.") and state.status in ENTITLING_STATUSES:
        billing_email_queue(
            key=f"subscription_started:{state.stripe_subscription_id}",
            template="subscription_started",
            context=base,
            **queue,
        )
    elif event_type == "customer.subscription.deleted":
        billing_email_queue(
            key=f"subscription_cancelled:{subscription_id}", template="subscription_cancelled", context=base, **queue
        )
    elif event_type == "invoice.payment_failed":
        grace = state.grace_until.strftime("%-d %b %Y") if state.grace_until else "now"
        queued = billing_email_queue(
            key=f"payment_failed:{obj.get('id')}:{obj.get('attempt_count', 1)}",
            template="payment_failed",
            context={**base, "grace_until": grace},
            **queue,
        )
        if queued is not None:  # the same business key: one system-log event per failed attempt
            _payment_failed_log(obj=obj, organization=organization, state=state)
    elif event_type == "invoice.paid" and obj.get("amount_paid"):
        billing_email_queue(
            key=f"payment_receipt:{obj.get('id')}",
            template="payment_receipt",
            context={
                **base,
                "amount": money_display(amount=obj["amount_paid"], currency=obj.get("currency", "usd")),
                "invoice_url": obj.get("hosted_invoice_url") or "",
            },
            **queue,
        )


def _payment_failed_log(*, obj: dict, organization: Organization, state: SubscriptionState) -> None:
    """The `payment_failed` business event in the system log, written once the event's effects are committed."""
    context = {
        "invoice": obj.get("id") or "",
        "attempt_count": obj.get("attempt_count", 1),
        "amount_due": obj.get("amount_due"),
        "currency": obj.get("currency") or "",
        "subscription": state.stripe_subscription_id,
        "grace_until": state.grace_until.isoformat() if state.grace_until else None,
    }
    message = f"payment failed for invoice {context['invoice']} of organization {organization.pk}"
    transaction.on_commit(
        lambda: logger.warning(
            message, extra={"event": "payment_failed", "organization_id": organization.pk, "context": context}
        )
    )
