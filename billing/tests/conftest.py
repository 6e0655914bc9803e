# The sandbox's fixtures, for billing tests that talk to Stripe (never mocked).
from billing.sandbox.pytest_plugin import stripe_sandbox, stripe_sandbox_server  # noqa: F401
