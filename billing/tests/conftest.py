from datetime import UTC, datetime, timedelta

import pytest
import stripe
from django.core.management import call_command
from djstripe.models import WebhookEndpoint

from billing.services.entitlements import entitlements_refresh
from billing.tests.checkout_helpers import subscribe
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


@pytest.fixture
def endpoint(billing_site):
    return WebhookEndpoint.objects.get()


@pytest.fixture
def subscription_created(billing_site, endpoint):
    """A paid subscription whose events the sandbox recorded; our test endpoint has not seen them."""
    membership = MembershipFactory()
    endpoint_url = f"/stripe/webhook/{endpoint.djstripe_uuid}/"
    assert subscribe(membership) == 303
    # Delivered to nobody: these tests post the events themselves.
    stripe.WebhookEndpoint.modify(endpoint.id, disabled=True)
    listed = stripe.Event.list(limit=100).auto_paging_iter()
    event_id = next(e.id for e in listed if e.type == "customer.subscription.created")
    # The event's JSON exactly as the API sends it (the client's objects turn decimals into Decimal).
    return membership, endpoint_url, stripe.Event.retrieve(event_id).last_response.body
