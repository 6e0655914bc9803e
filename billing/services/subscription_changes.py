"""Changes to a subscription: cancel at period end (or at once, staff), resume, change plan.

Each change goes to Stripe through the gateway and the answer is mirrored at once (so
the page shows it without waiting for the webhook, which then converges on the same).
"""

from datetime import datetime

from django.utils import timezone
from djstripe.models import Customer as MirroredCustomer
from djstripe.models import Subscription
from rest_framework.exceptions import NotFound, PermissionDenied

from accounts.models import Organization, User
from billing import gateway
from billing.models import Customer, SubscriptionCheckout, SubscriptionState
from billing.plans import PRICES
from billing.services.checkout import UnknownPrice, price_for_lookup_key
from billing.services.customers import customer_ensure
from billing.services.pricing import ProrationPreview, proration_from_invoice
from billing.services.subscriptions import subscription_state_sync


def subscription_for(*, organization: Organization, subscription_id: str) -> Subscription:
    """The organization's mirrored subscription; 404 for anybody else's."""
    subscription = Subscription.objects.filter(id=subscription_id, customer__subscriber=organization).first()
    if subscription is None:
        raise NotFound("No such subscription.")
    return subscription


def _apply(*, organization: Organization, stripe_subscription) -> SubscriptionState:
    Subscription.sync_from_stripe_data(stripe_subscription)
    return subscription_state_sync(organization=organization)


def subscription_start_with_card_on_file(
    *, organization: Organization, lookup_key: str, payment_method: str
) -> SubscriptionState:
    """Start a subscription without Checkout, paid with a card attached to the customer now.

    For setting an account up by hand (the demo data does): customers subscribe through
    Checkout. Stripe charges the first invoice at once; the answer is mirrored at once.
    """
    price = price_for_lookup_key(lookup_key=lookup_key)
    customer = customer_ensure(organization=organization)
    card = gateway.payment_method_attach(payment_method=payment_method, customer=customer.stripe_customer_id)
    created = gateway.subscription_create(
        customer=customer.stripe_customer_id, price=price.id, default_payment_method=card.id
    )
    return _apply(organization=organization, stripe_subscription=created)


def subscription_cancel(
    *, organization: Organization, subscription_id: str, at_period_end: bool = True, actor: User | None = None
):
    """Cancel at the end of the paid period (customers), or at once (only staff: `actor` must be staff)."""
    if not at_period_end and not (actor is not None and actor.is_staff):
        raise PermissionDenied("Only staff cancel a subscription at once.")
    subscription = subscription_for(organization=organization, subscription_id=subscription_id)
    if at_period_end:
        result = gateway.subscription_update(subscription_id=subscription.id, params={"cancel_at_period_end": True})
    else:
        result = gateway.subscription_cancel(subscription_id=subscription.id)
    return _apply(organization=organization, stripe_subscription=result)


# Stripe's statuses of a subscription that may still bill or be paid; the others are over.
LIVE_STATUSES = ("active", "trialing", "past_due", "unpaid", "incomplete", "paused")


def organization_subscriptions_end(*, organization: Organization) -> list[str]:
    """Cancel at once every live subscription of the organization, and close its open subscription Checkout.

    For an organization that loses its last member (account deletion): nobody is left to
    use or manage what it pays for. Stripe is asked, not the mirror, so a subscription
    whose webhook has not landed yet is cancelled too; each answer is mirrored at once.
    Returns the cancelled subscriptions' ids. Calling it again cancels nothing more.
    """
    customer_ids = set(MirroredCustomer.objects.filter(subscriber=organization).values_list("id", flat=True))
    customer_ids |= set(Customer.objects.filter(organization=organization).values_list("stripe_customer_id", flat=True))
    cancelled = []
    for customer_id in sorted(customer_ids):
        for subscription in gateway.subscription_list(customer=customer_id):
            if subscription.status in LIVE_STATUSES:
                Subscription.sync_from_stripe_data(gateway.subscription_cancel(subscription_id=subscription.id))
                cancelled.append(subscription.id)
    for checkout in SubscriptionCheckout.objects.filter(
        organization=organization, status=SubscriptionCheckout.Status.OPEN
    ).exclude(stripe_checkout_session_id=""):
        gateway.checkout_session_expire(session_id=checkout.stripe_checkout_session_id)
        SubscriptionCheckout.objects.filter(pk=checkout.pk).update(status=SubscriptionCheckout.Status.EXPIRED)
    if cancelled:
        subscription_state_sync(organization=organization)
    return cancelled


def subscription_resume(*, organization: Organization, subscription_id: str) -> SubscriptionState:
    """Undo a cancellation at period end."""
    subscription = subscription_for(organization=organization, subscription_id=subscription_id)
    result = gateway.subscription_update(subscription_id=subscription.id, params={"cancel_at_period_end": False})
    return _apply(organization=organization, stripe_subscription=result)


def _price_change(*, organization: Organization, subscription_id: str, lookup_key: str) -> tuple[Subscription, dict]:
    """The organization's subscription and the Stripe change that moves it to `lookup_key`, prorated."""
    if lookup_key not in PRICES:
        raise UnknownPrice()
    price = price_for_lookup_key(lookup_key=lookup_key)
    subscription = subscription_for(organization=organization, subscription_id=subscription_id)
    item_id = subscription.stripe_data["items"]["data"][0]["id"]
    return subscription, {"items": [{"id": item_id, "price": price.id}], "proration_behavior": "create_prorations"}


def subscription_change_plan(*, organization: Organization, subscription_id: str, lookup_key: str) -> SubscriptionState:
    """Move the subscription to another price of the catalogue, prorated."""
    subscription, change = _price_change(
        organization=organization, subscription_id=subscription_id, lookup_key=lookup_key
    )
    result = gateway.subscription_update(subscription_id=subscription.id, params=change)
    return _apply(organization=organization, stripe_subscription=result)


def subscription_change_preview(
    *, organization: Organization, subscription_id: str, lookup_key: str, now: datetime | None = None
) -> ProrationPreview:
    """What moving the subscription to `lookup_key` would cost, from Stripe's preview of exactly that change.

    Stripe computes it, so discounts on the subscription, taxes and the exact second
    count as they will on the real invoice.
    """
    subscription, change = _price_change(
        organization=organization, subscription_id=subscription_id, lookup_key=lookup_key
    )
    moment = int((now or timezone.now()).timestamp())
    preview = gateway.invoice_preview(
        customer=subscription.customer_id,
        subscription_id=subscription.id,
        subscription_details={**change, "proration_date": moment},
    )
    return proration_from_invoice(preview.to_dict())
