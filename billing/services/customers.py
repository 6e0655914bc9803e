"""The organization as a Stripe customer, with our own indexed record of it."""

from django.db import transaction
from django.utils import timezone
from djstripe.models import Customer as MirroredCustomer
from djstripe.settings import djstripe_settings
from rest_framework import status
from rest_framework.exceptions import APIException

from accounts.models import Organization
from billing import gateway
from billing.models import Customer, SubscriptionState
from billing.services.entitlements import entitlements_refresh


class CustomerExists(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "customer_exists"
    default_detail = "This organization is already a customer."


class CustomerArchived(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "customer_archived"
    default_detail = "This customer is archived."


def customer_ensure(*, organization: Organization, email: str = "", name: str = "") -> Customer:
    """The organization's customer, created in Stripe (once) if it has none.

    The idempotency key is derived from the organization, so a retried or concurrent
    call cannot create a second Stripe customer; the subscriber metadata lets dj-stripe
    link the customer back to the organization whenever it re-syncs it from a webhook.
    """
    existing = Customer.objects.filter(organization=organization).first()
    if existing is not None:
        if existing.archived_at is not None:
            raise CustomerArchived()
        return existing
    created = gateway.customer_create(
        email=email or organization.email,
        name=name or organization.name,
        metadata={djstripe_settings.SUBSCRIBER_CUSTOMER_KEY: str(organization.pk)},
        idempotency_key=f"plateau-org-{organization.pk}-customer",
    )
    with transaction.atomic():
        mirrored = MirroredCustomer.sync_from_stripe_data(created)
        if mirrored.subscriber_id != organization.pk:
            mirrored.subscriber = organization
            mirrored.save(update_fields=["subscriber"])
        customer, _ = Customer.objects.get_or_create(
            organization=organization,
            defaults={"stripe_customer_id": created.id, "email": created.email or "", "name": created.name or ""},
        )
        # The state row must come with its grants (a bare row would read as "no rights").
        entitlements_refresh(organization=organization)
        SubscriptionState.objects.filter(organization=organization).update(stripe_customer_id=created.id)
    return customer


def customer_create(*, organization: Organization, email: str = "", name: str = "") -> Customer:
    if Customer.objects.filter(organization=organization).exists():
        raise CustomerExists()
    return customer_ensure(organization=organization, email=email, name=name)


def customer_update(*, customer: Customer, email: str | None = None, name: str | None = None) -> Customer:
    """Change the billing contact here and in Stripe."""
    if customer.archived_at is not None:
        raise CustomerArchived()
    customer.email = email if email is not None else customer.email
    customer.name = name if name is not None else customer.name
    gateway.customer_update(customer_id=customer.stripe_customer_id, email=customer.email, name=customer.name)
    customer.save(update_fields=["email", "name", "updated_at"])
    return customer


def customer_archive(*, customer: Customer) -> Customer:
    """Soft delete: history stays, new checkouts are refused. Archiving twice changes nothing."""
    if customer.archived_at is None:
        customer.archived_at = timezone.now()
        customer.save(update_fields=["archived_at", "updated_at"])
    return customer


def customer_apply_stripe(*, data: dict, deleted: bool = False) -> Customer | None:
    """A `customer.*` webhook: Stripe's email and name win; a deleted customer is archived.

    `customer.deleted` carries the customer as it was, without a `deleted` flag, so the
    caller says so; the deleted stub that the API answers afterwards has the flag.
    """
    customer = Customer.objects.filter(stripe_customer_id=data.get("id", "")).first()
    if customer is None:
        return None
    if deleted or data.get("deleted"):
        return customer_archive(customer=customer)
    customer.email = data.get("email") or customer.email
    customer.name = data.get("name") or customer.name
    customer.save(update_fields=["email", "name", "updated_at"])
    return customer
