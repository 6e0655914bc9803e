"""The sandbox keeps its state across restarts, can be reset, and serves its hosted pages."""

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
import stripe
from django.core.management import CommandError, call_command

from billing.sandbox.server import SandboxServer
from billing.tests.sandbox.paying import paying_subscription


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _post(url: str, form: dict) -> tuple[int, str, str]:
    """POST a form like a browser would; returns (status, Location, body) without following redirects."""
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST")
    try:
        with urllib.request.build_opener(_NoRedirect).open(request) as response:
            return response.status, "", response.read().decode()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers.get("Location", ""), answer.read().decode()


def _get(url: str) -> str:
    with urllib.request.urlopen(url) as response:
        return response.read().decode()


def test_state_survives_a_restart_and_reset_forgets_it(tmp_path, settings):
    db = tmp_path / "stripe.sqlite3"
    key = settings.STRIPE_SECRET_KEY
    first = SandboxServer(db_path=db, api_keys=(key,), deliver_in_background=False).start()
    client = stripe.StripeClient(key, base_addresses={"api": first.url})
    customer = client.v1.customers.create(params={"email": "kept@example.com"})
    first.stop()

    second = SandboxServer(db_path=db, api_keys=(key,), deliver_in_background=False).start()
    try:
        client = stripe.StripeClient(key, base_addresses={"api": second.url})
        assert client.v1.customers.retrieve(customer.id).email == "kept@example.com"
        reset = json.loads(_post(f"{second.url}/_sandbox/reset", {})[2])
        assert reset == {"reset": True}
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.customers.retrieve(customer.id)
    finally:
        second.stop()


def test_the_command_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="does not run in production"):
        call_command("stripe_sandbox", "--port", "0")


def test_checkout_page_shows_items_and_total_and_redirects_after_payment(stripe_sandbox):
    price = stripe.Price.create(product_data={"name": "Launch kit"}, currency="usd", unit_amount=1250)
    session = stripe.checkout.Session.create(
        mode="payment",
        line_items=[{"price": price.id, "quantity": 2}],
        success_url="http://127.0.0.1:8000/thanks?session={CHECKOUT_SESSION_ID}",
        cancel_url="http://127.0.0.1:8000/cart",
        client_reference_id="org_7",
    )

    page = _get(session.url)
    assert "Launch kit" in page and "USD 25.00" in page
    declined = _post(session.url, {"email": "buyer@example.com", "card_number": "4000000000000002"})
    assert declined[0] == 402 and "Your card was declined." in declined[2]
    status, location, _ = _post(session.url, {"email": "buyer@example.com", "card_number": "4242 4242 4242 4242"})

    assert (status, location) == (303, f"http://127.0.0.1:8000/thanks?session={session.id}")
    done = stripe.checkout.Session.retrieve(session.id, expand=["payment_intent"])
    assert (done.status, done.payment_status, done.client_reference_id) == ("complete", "paid", "org_7")
    assert (done.payment_intent.amount_received, done.subscription, done.invoice) == (2500, None, None)
    assert stripe.Customer.retrieve(done.customer).email == "buyer@example.com"


def test_the_portal_cancels_resumes_and_lists_invoices(stripe_sandbox):
    customer, subscription = paying_subscription(
        email="portal@example.com", name="Team plan", amount=4000, expand=["latest_invoice"]
    )
    portal = stripe.billing_portal.Session.create(customer=customer.id, return_url="http://127.0.0.1:8000/billing")

    page = _get(portal.url)
    assert "Team plan" in page and subscription.latest_invoice.number in page and "Cancel subscription" in page
    assert _post(f"{portal.url}/subscriptions/{subscription.id}/cancel", {})[:2] == (303, f"/p/session/{portal.id}")
    assert stripe.Subscription.retrieve(subscription.id).cancel_at_period_end is True
    assert "Resume subscription" in _get(portal.url)
    _post(f"{portal.url}/subscriptions/{subscription.id}/resume", {})
    assert stripe.Subscription.retrieve(subscription.id).cancel_at_period_end is False

    stranger = stripe.Customer.create(email="stranger@example.com")
    other_portal = stripe.billing_portal.Session.create(customer=stranger.id, return_url="http://127.0.0.1:8000/")
    refused = _post(f"{other_portal.url}/subscriptions/{subscription.id}/cancel", {})
    assert (refused[0], "No such subscription" in refused[2]) == (404, True)
    assert stripe.Subscription.retrieve(subscription.id).cancel_at_period_end is False

    invoice = subscription.latest_invoice
    assert "paid" in _get(invoice.hosted_invoice_url)
    with urllib.request.urlopen(invoice.invoice_pdf) as pdf:
        assert (pdf.headers["Content-Type"], pdf.read(5)) == ("application/pdf", b"%PDF-")


def test_the_sandbox_clock_endpoint_renews_subscriptions(stripe_sandbox):
    customer, subscription = paying_subscription(email="daily@example.com", name="Daily", amount=100, interval="day")

    result = json.loads(_post(f"{stripe_sandbox.url}/_sandbox/clock/advance", {"seconds": 2 * 86_400 + 60})[2])

    assert result["processed"] == 2
    assert [i.billing_reason for i in stripe.Invoice.list(subscription=subscription.id).data] == [
        "subscription_cycle",
        "subscription_cycle",
        "subscription_create",
    ]


def test_subscription_checkout_bills_one_time_items_on_the_first_invoice(stripe_sandbox):
    monthly = stripe.Price.create(
        product_data={"name": "Seat"}, currency="usd", unit_amount=2000, recurring={"interval": "month"}
    )
    setup = stripe.Price.create(product_data={"name": "Onboarding"}, currency="usd", unit_amount=500)
    session = stripe.checkout.Session.create(
        mode="subscription",
        line_items=[{"price": monthly.id, "quantity": 1}, {"price": setup.id, "quantity": 1}],
        success_url="http://127.0.0.1:8000/done",
    )
    assert session.amount_total == 2500

    assert _post(session.url, {"email": "setup@example.com", "card_number": "4242424242424242"})[0] == 303

    invoice = stripe.Invoice.retrieve(stripe.checkout.Session.retrieve(session.id).invoice)
    assert (invoice.amount_paid, sorted(line.amount for line in invoice.lines.data)) == (2500, [500, 2000])
    assert stripe.Subscription.retrieve(invoice.parent.subscription_details.subscription).status == "active"


def test_a_promotion_code_typed_on_the_checkout_page_discounts_the_payment(stripe_sandbox):
    price = stripe.Price.create(product_data={"name": "Course"}, currency="usd", unit_amount=8000)
    coupon = stripe.Coupon.create(percent_off=10, duration="once")
    stripe.PromotionCode.create(promotion={"type": "coupon", "coupon": coupon.id}, code="SPRING")
    session = stripe.checkout.Session.create(
        mode="payment",
        line_items=[{"price": price.id, "quantity": 1}],
        success_url="http://127.0.0.1:8000/done",
        allow_promotion_codes=True,
    )
    assert "name=promotion_code" in _get(session.url)

    wrong = _post(session.url, {"email": "p@example.com", "card_number": "4242424242424242", "promotion_code": "NOPE"})
    assert wrong[0] == 400 and "This code is invalid." in wrong[2]
    assert stripe.checkout.Session.retrieve(session.id).amount_total == 8000
    assert stripe.Coupon.retrieve(coupon.id).times_redeemed == 0

    right = _post(
        session.url, {"email": "p@example.com", "card_number": "4242424242424242", "promotion_code": "spring"}
    )
    assert right[0] == 303
    done = stripe.checkout.Session.retrieve(session.id, expand=["payment_intent"])
    assert (done.amount_total, done.total_details.amount_discount, done.payment_intent.amount_received) == (
        7200,
        800,
        7200,
    )
    assert stripe.Coupon.retrieve(coupon.id).times_redeemed == 1


def test_a_checkout_discount_is_redeemed_only_when_the_customer_pays(stripe_sandbox):
    price = stripe.Price.create(
        product_data={"name": "Studio"}, currency="usd", unit_amount=3000, recurring={"interval": "month"}
    )
    coupon = stripe.Coupon.create(amount_off=1000, currency="usd", duration="forever", max_redemptions=1)
    session = stripe.checkout.Session.create(
        mode="subscription",
        line_items=[{"price": price.id, "quantity": 1}],
        discounts=[{"coupon": coupon.id}],
        success_url="http://127.0.0.1:8000/done",
    )
    abandoned = stripe.checkout.Session.create(
        mode="subscription",
        line_items=[{"price": price.id, "quantity": 1}],
        discounts=[{"coupon": coupon.id}],
        success_url="http://127.0.0.1:8000/done",
    )
    assert (session.amount_total, session.discounts[0].coupon) == (2000, coupon.id)
    assert stripe.Coupon.retrieve(coupon.id).times_redeemed == 0

    assert _post(session.url, {"email": "d@example.com", "card_number": "4242424242424242"})[0] == 303

    invoice = stripe.Invoice.retrieve(stripe.checkout.Session.retrieve(session.id).invoice)
    assert (invoice.subtotal, invoice.total, invoice.amount_paid) == (3000, 2000, 2000)
    assert stripe.Coupon.retrieve(coupon.id).times_redeemed == 1
    used_up = _post(abandoned.url, {"email": "e@example.com", "card_number": "4242424242424242"})
    assert used_up[0] == 400 and "max redemptions" in used_up[2]
    assert stripe.checkout.Session.retrieve(abandoned.id).status == "open"


def test_an_open_invoice_can_be_paid_on_its_hosted_page(stripe_sandbox):
    price = stripe.Price.create(
        product_data={"name": "Renewing"}, currency="usd", unit_amount=1800, recurring={"interval": "month"}
    )
    customer = stripe.Customer.create(email="dunning@example.com")
    failing = stripe.PaymentMethod.attach("pm_card_chargeCustomerFail", customer=customer.id)
    subscription = stripe.Subscription.create(
        customer=customer.id, items=[{"price": price.id}], default_payment_method=failing.id, trial_period_days=3
    )
    stripe_sandbox.advance_clock(3 * 86_400 + 60)
    invoice = stripe.Invoice.retrieve(stripe.Subscription.retrieve(subscription.id).latest_invoice)
    assert (invoice.status, stripe.Subscription.retrieve(subscription.id).status) == ("open", "past_due")

    declined = _post(f"{invoice.hosted_invoice_url}/pay", {"card_number": "4000000000000002"})
    assert declined[0] == 402 and "Your card was declined." in declined[2]
    assert stripe.Invoice.retrieve(invoice.id).status == "open"
    status, location, _ = _post(f"{invoice.hosted_invoice_url}/pay", {"card_number": "4242424242424242"})

    assert (status, location) == (303, f"/i/{invoice.id}")
    assert (stripe.Invoice.retrieve(invoice.id).status, stripe.Invoice.retrieve(invoice.id).amount_paid) == (
        "paid",
        1800,
    )
    assert stripe.Subscription.retrieve(subscription.id).status == "active"
