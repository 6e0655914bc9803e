from datetime import UTC, datetime

import factory

from accounts.tests.factories import MembershipFactory, OrganizationFactory
from billing.models import (
    Purchase,
    PurchaseRefund,
    PurchaseStatus,
    RefundSource,
    StaffQuotaGrant,
    SubscriptionState,
)

__all__ = [
    "MembershipFactory",
    "OrganizationFactory",
    "PurchaseFactory",
    "SubscriptionStateFactory",
    "StaffQuotaGrantFactory",
]

CYCLE_START = datetime(2026, 11, 14, tzinfo=UTC)
CYCLE_END = datetime(2026, 12, 14, tzinfo=UTC)
PAID_AT = datetime(2026, 11, 14, 12, 0, tzinfo=UTC)


class SubscriptionStateFactory(factory.django.DjangoModelFactory):
    """A Premium subscription in its 14 Nov – 14 Dec 2026 cycle."""

    class Meta:
        model = SubscriptionState

    organization = factory.SubFactory(OrganizationFactory)
    plan = "premium"
    status = "active"
    price_lookup_key = "premium_monthly"
    stripe_customer_id = factory.Sequence(lambda n: f"cus_test{n}")
    stripe_subscription_id = factory.Sequence(lambda n: f"sub_test{n}")
    current_period_start = CYCLE_START
    current_period_end = CYCLE_END


class StaffQuotaGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffQuotaGrant

    organization = factory.SubFactory(OrganizationFactory)
    feature = "premium_article"
    quantity = 2
    expires_at = datetime(2027, 1, 1, tzinfo=UTC)
    reason = "Goodwill after an outage"


def _status_after_refunds(purchase: Purchase) -> str:
    if not purchase.refunded_amount:
        return PurchaseStatus.PAID
    if purchase.refunded_amount >= purchase.amount:
        return PurchaseStatus.REFUNDED
    return PurchaseStatus.PARTIALLY_REFUNDED


class PurchaseFactory(factory.django.DjangoModelFactory):
    """A quiz bought for $40.00 at list price, paid on 14 Nov 2026 at noon UTC.

    `refunded_amount=n` (n > 0) also records the refund as billing does: one
    PurchaseRefund row of n by staff, made at `refunded_at` (default: when the purchase
    was paid), so the rows add up to `refunded_amount`. The status follows the refunds
    (paid, partially_refunded, refunded) unless given. A second refund on the same
    purchase: create its row and raise `refunded_amount` in the test.
    """

    class Meta:
        model = Purchase
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    item_type = "quiz"
    item_id = factory.Sequence(lambda n: f"q{n}")
    item_name = factory.LazyAttribute(lambda o: f"Quiz {o.item_id}")
    list_amount = factory.LazyAttribute(lambda o: o.amount)
    amount = 4000
    currency = "usd"
    refunded_amount = 0
    status = factory.LazyAttribute(_status_after_refunds)
    stripe_payment_intent_id = factory.Sequence(lambda n: f"pi_test{n}")
    paid_at = PAID_AT
    created_at = factory.LazyAttribute(lambda o: o.paid_at or PAID_AT)

    @factory.post_generation
    def refunded_at(purchase: Purchase, create: bool, refunded_at: datetime | None, **kwargs) -> None:
        if create and purchase.refunded_amount > 0:
            PurchaseRefund.objects.create(
                purchase=purchase,
                amount=purchase.refunded_amount,
                source=RefundSource.STAFF,
                created_at=refunded_at or purchase.paid_at or purchase.created_at,
            )
