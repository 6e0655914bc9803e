"""pytest fixtures for the Stripe sandbox.

`stripe_sandbox` gives a test an empty sandbox on a free port, with the project's
settings, the `stripe` module and dj-stripe pointed at it. Webhooks are not delivered in
the background here: a test calls `stripe_sandbox.flush()` to deliver every pending
event synchronously, so it never has to sleep or poll.
"""

import pytest
import stripe

from billing.sandbox.server import SandboxServer


@pytest.fixture(scope="session")
def stripe_sandbox_server(tmp_path_factory):
    """One sandbox process-wide; `stripe_sandbox` empties it for each test."""
    from django.conf import settings

    server = SandboxServer(
        db_path=tmp_path_factory.mktemp("stripe-sandbox") / "stripe.sqlite3",
        api_keys=(settings.STRIPE_SECRET_KEY,),
        deliver_in_background=False,
        # One post at a time: pytest-django's live server shares one SQLite connection
        # between its request threads, so concurrent webhooks would interleave transactions.
        # Concurrent delivery is tested against a plain receiver and on PostgreSQL.
        delivery_workers=1,
    ).start()
    yield server
    server.stop()


@pytest.fixture
def stripe_sandbox(stripe_sandbox_server, settings):
    server = stripe_sandbox_server
    server.reset()
    server.deliverer.shuffle = server.deliverer.duplicate = False
    server.deliverer.workers = 1
    settings.STRIPE_API_BASE = server.url
    settings.STRIPE_API_HOST = server.url
    previous_base, previous_key = stripe.api_base, stripe.api_key
    # dj-stripe calls the module-level client, which it points at STRIPE_API_HOST only at import.
    stripe.api_base = server.url
    stripe.api_key = settings.STRIPE_SECRET_KEY
    yield server
    stripe.api_base, stripe.api_key = previous_base, previous_key


@pytest.fixture(autouse=True)
def _stripe_unreachable_unless_asked(settings):
    """A test that did not ask for the sandbox finds no Stripe, never the one `make run` serves on its port."""
    settings.STRIPE_API_BASE = settings.STRIPE_API_HOST = "http://127.0.0.1:1"  # refused at once
    previous_base = stripe.api_base
    stripe.api_base = settings.STRIPE_API_BASE
    yield
    stripe.api_base = previous_base
