from datetime import UTC, datetime

import factory

from accounts.tests.factories import MembershipFactory, OrganizationFactory
from billing.models import StaffQuotaGrant, SubscriptionState

__all__ = ["MembershipFactory", "OrganizationFactory", "SubscriptionStateFactory", "StaffQuotaGrantFactory"]

CYCLE_START = datetime(2026, 11, 14, tzinfo=UTC)
CYCLE_END = datetime(2026, 12, 14, tzinfo=UTC)


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
