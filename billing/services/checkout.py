"""Starting Stripe Checkout for a subscription, and the billing portal."""

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException

from accounts.models import Organization
from billing import gateway
from billing.models import SubscriptionState
from billing.plans import PRICES
from billing.services.customers import customer_ensure
from billing.services.entitlements import ENTITLING_STATUSES


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
    *, organization: Organization, lookup_key: str, success_url: str, cancel_url: str
) -> str:
    """A hosted Checkout URL where the organization subscribes to the price `lookup_key`."""
    if lookup_key not in PRICES:
        raise UnknownPrice()
    state = SubscriptionState.objects.filter(organization=organization).first()
    if state is not None and state.status in {*ENTITLING_STATUSES, "past_due"}:
        raise AlreadySubscribed()
    price = price_for_lookup_key(lookup_key=lookup_key)
    customer = customer_ensure(organization=organization)
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
    )
    return session.url


def billing_portal_url(*, organization: Organization, return_url: str) -> str:
    """The Stripe billing portal (payment methods, invoices, cancellation) for the organization."""
    customer = customer_ensure(organization=organization)
    return gateway.billing_portal_session_create(customer=customer.stripe_customer_id, return_url=return_url).url
