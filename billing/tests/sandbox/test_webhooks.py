"""Events are recorded for state changes and delivered, signed, to every registered endpoint."""

import json
import threading

import pytest
import stripe

from billing.sandbox.server import SandboxServer
from billing.tests.sandbox.paying import paying_subscription

from .receiver import WebhookReceiver


@pytest.fixture
def receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def _subscribed_customer():
    return paying_subscription(email="hooks@example.com", name="Pro", amount=1500)


def test_events_are_posted_with_a_signature_that_verifies_with_the_endpoint_secret(stripe_sandbox, receiver):
    endpoint = stripe.WebhookEndpoint.create(url=receiver.url, enabled_events=["*"])
    customer = stripe.Customer.create(email="signed@example.com")

    results = stripe_sandbox.flush()

    assert [r["status"] for r in results] == ["delivered"]
    [post] = receiver.received
    event = stripe.Webhook.construct_event(post["body"], post["signature"], endpoint.secret, tolerance=300)
    assert (event.type, event.data.object.id, event.data.object.email) == (
        "customer.created",
        customer.id,
        "signed@example.com",
    )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(post["body"], post["signature"], "whsec_someone_else", tolerance=300)
    assert stripe.Event.retrieve(event.id).pending_webhooks == 0


def test_a_subscription_purchase_sends_stripes_event_types(stripe_sandbox, receiver):
    stripe.WebhookEndpoint.create(url=receiver.url, enabled_events=["*"])
    customer, subscription = _subscribed_customer()

    stripe_sandbox.flush()

    types = [event["type"] for event in receiver.events()]
    for expected in (
        "customer.created",
        "payment_method.attached",
        "customer.subscription.created",
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "payment_intent.created",
        "payment_intent.succeeded",
        "charge.succeeded",
    ):
        assert expected in types
    paid = next(event for event in receiver.events() if event["type"] == "invoice.paid")
    assert paid["data"]["object"]["parent"]["subscription_details"]["subscription"] == subscription.id
    assert paid["data"]["object"]["amount_paid"] == 1500
    assert paid["data"]["previous_attributes"]["status"] == "open"


def test_an_update_event_carries_previous_attributes(stripe_sandbox, receiver):
    stripe.WebhookEndpoint.create(url=receiver.url, enabled_events=["customer.subscription.updated"])
    _, subscription = _subscribed_customer()
    stripe_sandbox.flush()
    receiver.received.clear()

    stripe.Subscription.modify(subscription.id, cancel_at_period_end=True)
    stripe_sandbox.flush()

    [event] = receiver.events()
    assert event["type"] == "customer.subscription.updated"
    assert event["data"]["object"]["cancel_at_period_end"] is True
    assert event["data"]["previous_attributes"]["cancel_at_period_end"] is False


def test_endpoints_only_receive_the_events_they_enabled(stripe_sandbox, receiver):
    stripe.WebhookEndpoint.create(url=receiver.url, enabled_events=["invoice.paid"])
    _subscribed_customer()

    stripe_sandbox.flush()

    assert [event["type"] for event in receiver.events()] == ["invoice.paid"]


def test_a_failed_delivery_is_retried_and_logged(stripe_sandbox, receiver):
    stripe.WebhookEndpoint.create(url=receiver.url, enabled_events=["customer.created"])
    receiver.statuses = [500]
    stripe.Customer.create(email="retry@example.com")

    first = stripe_sandbox.flush()
    second = stripe_sandbox.flush()

    assert [r["status"] for r in first] == ["retrying"]
    assert [r["status"] for r in second] == ["delivered"]
    [delivery] = stripe_sandbox.store.deliveries()
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)
    assert [attempt["status"] for attempt in delivery["log"]] == [500, 200]
    assert stripe_sandbox.flush() == []


def test_duplicate_delivery_setting_posts_each_event_twice(stripe_sandbox, receiver):
    stripe.WebhookEndpoint.create(url=receiver.url, enabled_events=["customer.created"])
    stripe_sandbox.deliverer.duplicate = True
    stripe.Customer.create(email="twice@example.com")

    stripe_sandbox.flush()

    ids = [event["id"] for event in receiver.events()]
    assert len(ids) == 2 and ids[0] == ids[1]


def test_shuffled_delivery_still_delivers_every_event_once(stripe_sandbox, receiver):
    stripe.WebhookEndpoint.create(url=receiver.url, enabled_events=["customer.created"])
    stripe_sandbox.deliverer.shuffle = True
    created = {stripe.Customer.create(email=f"c{n}@example.com").id for n in range(6)}

    stripe_sandbox.flush()

    assert sorted(event["data"]["object"]["id"] for event in receiver.events()) == sorted(created)


def test_delivery_workers_post_events_concurrently(stripe_sandbox, receiver):
    stripe.WebhookEndpoint.create(url=receiver.url, enabled_events=["customer.created"])
    created = {stripe.Customer.create(email=f"p{n}@example.com").id for n in range(3)}
    stripe_sandbox.deliverer.workers = 3
    receiver.barrier = threading.Barrier(3)  # answered only once all three posts are in flight together

    results = stripe_sandbox.flush()

    assert [r["status"] for r in results] == ["delivered"] * 3
    assert sorted(event["data"]["object"]["id"] for event in receiver.events()) == sorted(created)
    assert {d["status"] for d in stripe_sandbox.store.deliveries()} == {"delivered"}
    assert all(stripe.Event.retrieve(r["event"]).pending_webhooks == 0 for r in results)


def test_the_background_deliverer_retries_with_backoff_on_its_own(tmp_path, settings, receiver):
    server = SandboxServer(db_path=tmp_path / "s.sqlite3", api_keys=(settings.STRIPE_SECRET_KEY,), retry_backoff=0.05)
    server.start()
    try:
        client = stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": server.url})
        client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["customer.created"]})
        receiver.statuses = [503, 503]
        customer = client.v1.customers.create(params={"email": "bg@example.com"})

        assert receiver.wait_for(3)
        assert [post["status"] for post in receiver.received] == [503, 503, 200]
        assert json.loads(receiver.received[-1]["body"])["data"]["object"]["id"] == customer.id
    finally:
        server.stop()


def test_the_clock_ticker_runs_renewals_that_fall_due_as_time_passes(tmp_path, settings, receiver):
    server = SandboxServer(db_path=tmp_path / "s.sqlite3", api_keys=(settings.STRIPE_SECRET_KEY,), tick_seconds=0.05)
    client = stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": server.url})
    server.start()
    try:
        price = client.v1.prices.create(
            params={
                "product_data": {"name": "D"},
                "currency": "usd",
                "unit_amount": 100,
                "recurring": {"interval": "day"},
            }
        )
        customer = client.v1.customers.create(params={"email": "tick@example.com"})
        client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
        pm = client.v1.customers.payment_methods.list(customer.id).data[0]
        client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price.id}], "default_payment_method": pm.id}
        )
        client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["invoice.paid"]})
        with server.store:
            # A day passes without anyone advancing the clock.
            server.store.meta_set("clock_offset", 86_400 + 60)

        assert receiver.wait_for(1)
        assert json.loads(receiver.received[0]["body"])["data"]["object"]["billing_reason"] == "subscription_cycle"
    finally:
        server.stop()
