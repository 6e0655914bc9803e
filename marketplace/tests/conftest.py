# Billing's fixture: the sandbox's catalogue, and its webhooks posted to the live server.
from billing.tests.conftest import billing_site  # noqa: F401
