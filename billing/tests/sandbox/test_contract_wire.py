"""Contract: the sandbox speaks Stripe's wire format to the official client."""

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe

from billing.tests.sandbox.paying import paying_subscription


def test_nested_parameters_and_metadata_round_trip(stripe_sandbox):
    customer = stripe.Customer.create(
        email="wire@example.com", metadata={"org": "42", "plan": "pro"}, preferred_locales=["fr", "en"]
    )
    assert customer.metadata.to_dict() == {"org": "42", "plan": "pro"}
    assert customer.preferred_locales == ["fr", "en"]

    updated = stripe.Customer.modify(customer.id, metadata={"plan": "", "seats": "3"})

    assert updated.metadata.to_dict() == {"org": "42", "seats": "3"}


def test_lists_paginate_newest_first_with_cursors(stripe_sandbox):
    ids = [stripe.Customer.create(email=f"c{n}@example.com").id for n in range(5)]
    newest_first = list(reversed(ids))

    first = stripe.Customer.list(limit=2)
    second = stripe.Customer.list(limit=2, starting_after=first.data[-1].id)
    last = stripe.Customer.list(limit=2, starting_after=second.data[-1].id)
    back = stripe.Customer.list(limit=2, ending_before=last.data[0].id)

    assert [c.id for c in first.data] == newest_first[:2] and first.has_more is True
    assert [c.id for c in second.data] == newest_first[2:4] and second.has_more is True
    assert [c.id for c in last.data] == newest_first[4:] and last.has_more is False
    assert [c.id for c in back.data] == newest_first[2:4]
    assert [c.id for c in stripe.Customer.list(limit=2).auto_paging_iter()] == newest_first
    assert first.url == "/v1/customers"


def test_expand_replaces_ids_with_objects_including_inside_lists(stripe_sandbox):
    customer, subscription = paying_subscription(email="expand@example.com", name="X", amount=700)

    plain = stripe.Subscription.retrieve(subscription.id)
    expanded = stripe.Subscription.retrieve(subscription.id, expand=["customer", "latest_invoice"])
    listed = stripe.Subscription.list(expand=["data.customer"])

    assert plain.customer == customer.id
    assert (expanded.customer.email, expanded.latest_invoice.amount_paid) == ("expand@example.com", 700)
    assert listed.data[0].customer.id == customer.id


def test_fields_stripe_includes_only_on_request_appear_when_expanded(stripe_sandbox):
    customer, subscription = paying_subscription(email="include@example.com", name="X", amount=700)

    plain = stripe.Customer.retrieve(customer.id).last_response.data
    # What dj-stripe asks for whenever it re-fetches a customer from a webhook.
    asked = stripe.Customer.retrieve(customer.id, expand=["default_source", "sources"]).last_response.data
    everything = stripe.Customer.retrieve(customer.id, expand=["sources", "tax_ids", "subscriptions"])
    priced = stripe.Price.retrieve(subscription["items"].data[0].price.id, expand=["currency_options", "product"])

    assert "sources" not in plain and "subscriptions" not in plain
    assert asked["default_source"] is None
    assert asked["sources"] == {
        "object": "list",
        "data": [],
        "has_more": False,
        "url": f"/v1/customers/{customer.id}/sources",
    }
    assert everything.tax_ids.data == [] and everything.tax_ids.url == f"/v1/customers/{customer.id}/tax_ids"
    assert [s.id for s in everything.subscriptions.data] == [subscription.id]
    assert everything.subscriptions.url == f"/v1/customers/{customer.id}/subscriptions"
    assert priced.last_response.data["currency_options"] == {
        "usd": {
            "custom_unit_amount": None,
            "tax_behavior": "unspecified",
            "unit_amount": 700,
            "unit_amount_decimal": "700",
        }
    }
    assert priced.product.name == "X"


def test_an_idempotency_key_replays_the_first_response_without_a_second_object(stripe_sandbox):
    first = stripe.Customer.create(email="once@example.com", idempotency_key="signup-1")
    replay = stripe.Customer.create(email="once@example.com", idempotency_key="signup-1")

    assert replay.id == first.id
    assert replay.last_response.headers["Idempotent-Replayed"] == "true"
    assert [c.id for c in stripe.Customer.list().data] == [first.id]
    with pytest.raises(stripe.IdempotencyError):
        stripe.Customer.create(email="other@example.com", idempotency_key="signup-1")
    assert len(stripe.Customer.list().data) == 1
    assert stripe.Customer.create(email="once@example.com", idempotency_key="signup-1").id == first.id


def test_an_error_is_replayed_for_its_idempotency_key_too(stripe_sandbox):
    with pytest.raises(stripe.CardError):
        stripe.PaymentIntent.create(
            amount=400, currency="usd", payment_method="pm_card_chargeDeclined", confirm=True, idempotency_key="pay-1"
        )
    with pytest.raises(stripe.CardError) as replayed:
        stripe.PaymentIntent.create(
            amount=400, currency="usd", payment_method="pm_card_chargeDeclined", confirm=True, idempotency_key="pay-1"
        )

    assert replayed.value.headers["Idempotent-Replayed"] == "true"
    assert len(stripe.PaymentIntent.list().data) == 1


def test_errors_have_stripes_body_status_and_exception_class(stripe_sandbox, settings):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe.Customer.retrieve("cus_doesnotexist")
    assert (missing.value.http_status, missing.value.code, missing.value.param) == (404, "resource_missing", "id")
    assert missing.value.user_message == "No such customer: 'cus_doesnotexist'"

    with pytest.raises(stripe.InvalidRequestError) as bad_param:
        stripe.Price.create(currency="usd", unit_amount=100)
    assert (bad_param.value.http_status, bad_param.value.param) == (400, "product")

    with pytest.raises(stripe.CardError) as declined:
        stripe.PaymentIntent.create(amount=900, currency="usd", payment_method="pm_card_chargeDeclined", confirm=True)
    assert (declined.value.http_status, declined.value.code) == (402, "card_declined")
    assert declined.value.error.decline_code == "generic_decline"

    with pytest.raises(stripe.AuthenticationError):
        stripe.Customer.list(api_key="sk_test_NotTheSandboxKey0000000000000000")
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"{stripe_sandbox.url}/v1/customers")
    assert anonymous.value.code == 401
    assert json.loads(anonymous.value.read())["error"]["message"].startswith("You did not provide an API key.")

    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe.Quote.list()
    assert unknown.value.http_status == 404


def test_a_pinned_stripe_version_is_accepted(stripe_sandbox, settings):
    client = stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, base_addresses={"api": stripe_sandbox.url}, stripe_version="2025-03-31.basil"
    )
    customer = client.v1.customers.create(params={"email": "pinned@example.com"})

    assert customer.last_response.headers["Stripe-Version"] == "2025-03-31.basil"
    assert client.v1.customers.retrieve(customer.id).email == "pinned@example.com"


def test_concurrent_requests_are_each_applied_once(stripe_sandbox, settings):
    client = stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": stripe_sandbox.url})
    customer = client.v1.customers.create(params={"email": "many@example.com"})

    def pay(n: int) -> str:
        return client.v1.payment_intents.create(
            params={
                "amount": 100 + n,
                "currency": "usd",
                "customer": customer.id,
                "payment_method": "pm_card_visa",
                "confirm": True,
            }
        ).id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(pay, range(24)))

    assert len(set(ids)) == 24
    charges = list(client.v1.charges.list(params={"customer": customer.id, "limit": 100}).auto_paging_iter())
    assert sorted(c.amount for c in charges) == [100 + n for n in range(24)]
