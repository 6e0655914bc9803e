"""A local, stateful stand-in for the Stripe API, for development and tests.

The official `stripe` client and dj-stripe talk to it over HTTP exactly as they talk to
Stripe; see docs/stripe-sandbox.md. It never runs in production.
"""
