from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from billing.services.entitlements import entitlements_refresh
from billing.tests.factories import MembershipFactory, SubscriptionStateFactory
from billing.webhooks import webhook_endpoint_register


@pytest.fixture
def billing_site(stripe_sandbox, live_server):
    """The catalogue in the sandbox, and its webhooks posted to the site's webhook endpoint on the live server."""
    call_command("billing_setup")
    webhook_endpoint_register(base_url=live_server.url)
    return stripe_sandbox


@pytest.fixture
def premium():
    """A member (admin) of an organization on Premium, a few days into its billing cycle (local state, no Stripe)."""
    now = datetime.now(tz=UTC)
    state = SubscriptionStateFactory(
        current_period_start=now - timedelta(days=3), current_period_end=now + timedelta(days=27)
    )
    membership = MembershipFactory(organization=state.organization)
    entitlements_refresh(organization=state.organization)
    return membership
