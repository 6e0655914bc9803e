from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from billing.services.entitlements import entitlements_refresh
from billing.tests.conftest import billing_site  # noqa: F401  (the sandbox wired to the live server's webhooks)
from billing.tests.factories import MembershipFactory, SubscriptionStateFactory


@pytest.fixture
def premium():
    """A member of an organization on Premium, in the middle of its billing cycle."""
    now = datetime.now(tz=UTC)
    state = SubscriptionStateFactory(
        current_period_start=now - timedelta(days=1), current_period_end=now + timedelta(days=29)
    )
    membership = MembershipFactory(organization=state.organization)
    entitlements_refresh(organization=state.organization)
    return membership


@pytest.fixture
def free_member():
    """A member of an organization on the Free plan."""
    membership = MembershipFactory()
    entitlements_refresh(organization=membership.organization)
    return membership


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client
