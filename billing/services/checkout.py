"""Starting Stripe Checkout for a subscription, and the billing portal."""

from django.conf import settings
from django.db import transaction
from rest_framework import status
from rest_framework.exceptions import APIException

from accounts.models import Organization
from billing import gateway
from billing.models import SubscriptionCheckout, SubscriptionState
from billing.plans import PRICES
from billing.selectors import subscription_known
from billing.services.customers import customer_ensure
from billing.services.entitlements import ENTITLING_STATUSES
from common.events import EventSource, track


class AlreadySubscribed(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "already_subscribed"
    default_detail = "This organization already has a subscription: change its plan instead."


class UnknownPrice(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "unknown_price"
    default_detail = "No such price in the catalogue."


class CatalogueNotSynced(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "catalogue_not_synced"
    default_detail = "Prices are not set up in Stripe yet: run `manage.py billing_setup`."


def price_for_lookup_key(*, lookup_key: str):
    """The active Stripe price with this lookup key, asked of Stripe itself.

    The mirror may still hold prices of an earlier Stripe account or sandbox with the
    same lookup key; Stripe knows which one is current.
    """
    prices = gateway.price_list(lookup_keys=[lookup_key])
    if not prices:
        raise CatalogueNotSynced()
    return prices[0]


def subscription_checkout_start(
    *,
    organization: Organization,
    lookup_key: str,
    success_url: str,
    cancel_url: str,
    source: EventSource | None = None,
) -> str:
    """A hosted Checkout URL where the organization subscribes to the price `lookup_key`.

    One open subscription Checkout per organization: a second start (another tab, a double
    click, a concurrent API call) gets the open session's URL back for the same price, or
    closes it first for another price, so it can never be paid beside the new one.
    Concurrent starts queue on the organization's state row (PostgreSQL). A new session is a
    `checkout_started` event (after the commit); the open one answered again is not.
    """
    if lookup_key not in PRICES:
        raise UnknownPrice()
    state = SubscriptionState.objects.filter(organization=organization).first()
    if state is not None and state.status in {*ENTITLING_STATUSES, "past_due"}:
        raise AlreadySubscribed()
    price = price_for_lookup_key(lookup_key=lookup_key)
    customer = customer_ensure(organization=organization)  # writes the state row with its grants if missing
    with transaction.atomic():
        state = SubscriptionState.objects.select_for_update().get(organization=organization)
        if state.status in {*ENTITLING_STATUSES, "past_due"}:
            raise AlreadySubscribed()
        reused = _open_checkout_reuse(organization=organization, lookup_key=lookup_key)
        if reused:
            return reused
        record = SubscriptionCheckout.objects.create(organization=organization, lookup_key=lookup_key)
        subscription_data = {"metadata": {"organization_id": str(organization.pk)}}
        if settings.BILLING_TRIAL_DAYS:
            subscription_data["trial_period_days"] = settings.BILLING_TRIAL_DAYS
        session = gateway.checkout_session_create(
            mode="subscription",
            line_items=[{"price": price.id, "quantity": 1}],
            success_url=success_url,
            cancel_url=cancel_url,
            customer=customer.stripe_customer_id,
            client_reference_id=str(organization.pk),
            metadata={"organization_id": str(organization.pk), "kind": "subscription"},
            subscription_data=subscription_data,
            allow_promotion_codes=True,
            idempotency_key=f"plateau-subscription-checkout-{record.pk}",
        )
        record.stripe_checkout_session_id = session.id
        record.save(update_fields=["stripe_checkout_session_id"])
        track(
            "checkout_started",
            source=source,
            organization_id=organization.pk,
            item_type="subscription",
            item_id=lookup_key,
            properties={"mode": "subscription"},
        )
    return session.url


def _open_checkout_reuse(*, organization: Organization, lookup_key: str) -> str:
    """The open session's URL when it is for this price; otherwise it is closed (or found paid) first."""
    record = SubscriptionCheckout.objects.filter(
        organization=organization, status=SubscriptionCheckout.Status.OPEN
    ).first()
    if record is None:
        return ""
    session = (
        gateway.checkout_session_retrieve(session_id=record.stripe_checkout_session_id)
        if record.stripe_checkout_session_id
        else None
    )
    if session is not None and session.status == "open":
        if record.lookup_key == lookup_key:
            return session.url
        session = gateway.checkout_session_expire(session_id=session.id) or gateway.checkout_session_retrieve(
            session_id=session.id
        )
    if session is not None and session.status == "complete":
        SubscriptionCheckout.objects.filter(pk=record.pk).update(status=SubscriptionCheckout.Status.COMPLETE)
        subscription_id = getattr(session.subscription, "id", session.subscription)
        if not subscription_known(subscription_id=subscription_id):
            # Paid, and the webhook that makes it a subscription here has not landed yet.
            raise AlreadySubscribed("Your subscription is being set up: it shows here within a minute.")
        return ""  # an earlier subscription, since ended: a new one may start
    SubscriptionCheckout.objects.filter(pk=record.pk).update(status=SubscriptionCheckout.Status.EXPIRED)
    return ""


def billing_portal_url(*, organization: Organization, return_url: str) -> str:
    """The Stripe billing portal (payment methods, invoices, cancellation) for the organization."""
    customer = customer_ensure(organization=organization)
    return gateway.billing_portal_session_create(customer=customer.stripe_customer_id, return_url=return_url).url
