import pytest
from django.core.management import call_command

from billing.webhooks import webhook_endpoint_register


@pytest.fixture
def billing_site(stripe_sandbox, live_server):
    """The catalogue in the sandbox, and its webhooks posted to the site's webhook endpoint on the live server."""
    call_command("billing_setup")
    webhook_endpoint_register(base_url=live_server.url)
    return stripe_sandbox
