import pytest
from django.core.management import call_command

# The sandbox's fixtures, for billing tests that talk to Stripe (never mocked).
from billing.sandbox.pytest_plugin import stripe_sandbox, stripe_sandbox_server  # noqa: F401
from billing.webhooks import webhook_endpoint_register


@pytest.fixture
def billing_site(stripe_sandbox, live_server):  # noqa: F811 (the fixture imported above)
    """The catalogue in the sandbox, and its webhooks posted to dj-stripe's endpoint on the live server."""
    call_command("billing_setup")
    webhook_endpoint_register(base_url=live_server.url)
    return stripe_sandbox
