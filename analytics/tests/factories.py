from datetime import UTC, datetime

import factory

from accounts.tests.factories import OrganizationFactory
from billing.models import Purchase, PurchaseStatus

__all__ = ["OrganizationFactory", "PurchaseFactory"]

PAID_AT = datetime(2026, 11, 14, 12, 0, tzinfo=UTC)


class PurchaseFactory(factory.django.DjangoModelFactory):
    """A quiz bought for $40.00 at list price, paid on 14 Nov 2026 at noon UTC.

    billing has no Purchase factory yet; this one belongs in billing/tests/factories.py.
    """

    class Meta:
        model = Purchase

    organization = factory.SubFactory(OrganizationFactory)
    item_type = "quiz"
    item_id = factory.Sequence(lambda n: f"q{n}")
    item_name = factory.LazyAttribute(lambda o: f"Quiz {o.item_id}")
    list_amount = factory.LazyAttribute(lambda o: o.amount)
    amount = 4000
    currency = "usd"
    status = PurchaseStatus.PAID
    refunded_amount = 0
    stripe_payment_intent_id = factory.Sequence(lambda n: f"pi_test{n}")
    paid_at = PAID_AT
    created_at = factory.LazyAttribute(lambda o: o.paid_at or PAID_AT)
