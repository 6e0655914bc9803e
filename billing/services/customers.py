"""The organization as a Stripe customer."""

from django.db import transaction
from djstripe.models import Customer
from djstripe.settings import djstripe_settings

from accounts.models import Organization
from billing import gateway
from billing.models import SubscriptionState


def customer_ensure(*, organization: Organization) -> Customer:
    """The organization's Stripe customer, created (once) if it has none.

    The idempotency key is derived from the organization, so a retried or concurrent
    call cannot create a second customer; the subscriber metadata lets dj-stripe link
    the customer back to the organization whenever it re-syncs it from a webhook.
    """
    existing = Customer.objects.filter(subscriber=organization, date_purged__isnull=True).order_by("created").first()
    if existing is not None:
        return existing
    created = gateway.customer_create(
        email=organization.email,
        name=organization.name,
        metadata={djstripe_settings.SUBSCRIBER_CUSTOMER_KEY: str(organization.pk)},
        idempotency_key=f"plateau-org-{organization.pk}-customer",
    )
    with transaction.atomic():
        customer = Customer.sync_from_stripe_data(created)
        if customer.subscriber_id != organization.pk:
            customer.subscriber = organization
            customer.save(update_fields=["subscriber"])
        state, _ = SubscriptionState.objects.get_or_create(organization=organization)
        if state.stripe_customer_id != customer.id:
            SubscriptionState.objects.filter(pk=state.pk).update(stripe_customer_id=customer.id)
    return customer
