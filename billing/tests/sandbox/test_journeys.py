"""End to end: the official client creates a Checkout session, a customer pays on the sandbox's
hosted page in headless Chromium, and dj-stripe mirrors the result from signed webhooks."""

import pytest
import stripe
from djstripe import models as djstripe_models

from billing import gateway
from billing.webhooks import webhook_endpoint_register

DAY = 86_400


def _checkout(live_server, *, trial_days: int | None = None):
    price = stripe.Price.create(
        product_data={"name": "Plateau Pro"}, currency="usd", unit_amount=2900, recurring={"interval": "month"}
    )
    return gateway.checkout_session_create(
        mode="subscription",
        line_items=[{"price": price.id, "quantity": 1}],
        success_url=f"{live_server.url}/?checkout={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{live_server.url}/",
        customer_email="buyer@example.com",
        subscription_data={"trial_period_days": trial_days} if trial_days else None,
    )


def _pay(page, session, card: str) -> None:
    page.goto(session.url)
    page.fill("#card_number", card)
    page.shot("checkout-filled")
    page.click("button[type=submit]")


def _all_delivered(results: list[dict]) -> bool:
    return bool(results) and all(result["status"] == "delivered" for result in results)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_paid_checkout_is_mirrored_by_djstripe_from_signed_webhooks(stripe_sandbox, live_server, page):
    webhook_endpoint_register(base_url=live_server.url)
    session = _checkout(live_server)

    _pay(page, session, "4242 4242 4242 4242")
    page.wait_for_url(f"{live_server.url}/?checkout={session.id}")
    page.shot("after-payment")
    results = stripe_sandbox.flush()

    assert _all_delivered(results), results
    completed = stripe.checkout.Session.retrieve(session.id)
    assert (completed.status, completed.payment_status) == ("complete", "paid")
    customer = djstripe_models.Customer.objects.get(id=completed.customer)
    assert customer.email == "buyer@example.com"
    subscription = djstripe_models.Subscription.objects.get(id=completed.subscription)
    assert (subscription.status, subscription.customer_id) == ("active", customer.id)
    invoice = djstripe_models.Invoice.objects.get(id=completed.invoice)
    assert (invoice.status, invoice.stripe_data["amount_paid"]) == ("paid", 2900)
    charge = djstripe_models.Charge.objects.get(customer_id=customer.id)
    assert (charge.status, charge.stripe_data["amount"]) == ("succeeded", 2900)
    assert djstripe_models.WebhookEventTrigger.objects.filter(valid=True, processed=True).count() == len(results)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_declined_card_shows_the_decline_and_changes_nothing(stripe_sandbox, live_server, page):
    webhook_endpoint_register(base_url=live_server.url)
    session = _checkout(live_server)
    stripe_sandbox.flush()  # the product and price

    _pay(page, session, "4000 0000 0000 0002")

    assert page.get_by_test_id("card-error").inner_text() == "Your card was declined."
    page.shot("declined")
    assert stripe_sandbox.flush() == []
    assert stripe.checkout.Session.retrieve(session.id).status == "open"
    assert stripe.Customer.list().data == []
    assert djstripe_models.Customer.objects.count() == 0
    assert djstripe_models.Subscription.objects.count() == 0
    assert djstripe_models.Charge.objects.count() == 0


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_renewal_with_a_failing_card_leaves_the_subscription_past_due(stripe_sandbox, live_server, page):
    webhook_endpoint_register(base_url=live_server.url)
    session = _checkout(live_server, trial_days=7)

    _pay(page, session, "4000 0000 0000 0341")
    page.wait_for_url(f"{live_server.url}/?checkout={session.id}")
    assert _all_delivered(stripe_sandbox.flush())
    subscription_id = stripe.checkout.Session.retrieve(session.id).subscription
    assert djstripe_models.Subscription.objects.get(id=subscription_id).status == "trialing"

    stripe_sandbox.advance_clock(8 * DAY)
    results = stripe_sandbox.flush()

    assert _all_delivered(results), results
    assert {"invoice.payment_failed", "charge.failed", "customer.subscription.updated"} <= {r["type"] for r in results}
    assert djstripe_models.Subscription.objects.get(id=subscription_id).status == "past_due"
    renewal = djstripe_models.Invoice.objects.get(id=stripe.Subscription.retrieve(subscription_id).latest_invoice)
    assert (renewal.status, renewal.stripe_data["billing_reason"], renewal.stripe_data["attempt_count"]) == (
        "open",
        "subscription_cycle",
        1,
    )
    failed = djstripe_models.Charge.objects.get(status="failed")
    assert (failed.stripe_data["amount"], failed.stripe_data["failure_code"]) == (2900, "card_declined")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_customer_cancels_and_resumes_in_the_billing_portal(stripe_sandbox, live_server, page):
    webhook_endpoint_register(base_url=live_server.url)
    session = _checkout(live_server)
    _pay(page, session, "4242 4242 4242 4242")
    page.wait_for_url(f"{live_server.url}/?checkout={session.id}")
    completed = stripe.checkout.Session.retrieve(session.id)
    portal = gateway.billing_portal_session_create(customer=completed.customer, return_url=f"{live_server.url}/")
    assert _all_delivered(stripe_sandbox.flush())

    page.goto(portal.url)
    assert page.get_by_test_id("invoice").count() == 1
    page.get_by_role("button", name="Cancel subscription").click()
    page.get_by_role("button", name="Resume subscription").wait_for()
    page.shot("portal-canceled")
    assert _all_delivered(stripe_sandbox.flush())
    mirrored = djstripe_models.Subscription.objects.get(id=completed.subscription)
    assert (mirrored.status, mirrored.cancel_at_period_end) == ("active", True)

    page.get_by_role("button", name="Resume subscription").click()
    page.get_by_role("button", name="Cancel subscription").wait_for()
    assert _all_delivered(stripe_sandbox.flush())
    mirrored.refresh_from_db()
    assert mirrored.cancel_at_period_end is False
    page.get_by_role("link", name="Return").click()
    page.wait_for_url(f"{live_server.url}/")
