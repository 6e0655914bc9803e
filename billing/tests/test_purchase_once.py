"""A buyer pays for an item once: one open Checkout per buyer and item, whatever they click.

Found by a hostile review: every Buy opened a new Checkout, so coming back before the
webhook landed and clicking "Buy" again charged twice, and concurrent claims of a quiz
free with the plan spent two units. Stripe is the local sandbox; the races run on
PostgreSQL.
"""

import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from billing import purchasables
from billing.models import Purchase, UsageCounter
from billing.purchasables import PricedItem
from billing.services.entitlements import entitlements_refresh
from billing.tests.checkout_helpers import pay_hosted_checkout
from billing.tests.factories import MembershipFactory

PURCHASES = "/api/v1/purchases/"
BUY = "/billing/purchase/"
ITEMS = {
    ("quiz", "q40"): PricedItem("quiz", "q40", "Prompting basics quiz", 4000, "usd"),
    ("prompt_template", "t5"): PricedItem("prompt_template", "t5", "Meeting notes template", 500, "usd"),
}
CARD = "4242424242424242"


@pytest.fixture(autouse=True)
def items_for_sale(monkeypatch):
    for item_type in ("quiz", "prompt_template"):
        monkeypatch.setitem(purchasables._resolvers, item_type, lambda item_id, t=item_type: ITEMS.get((t, item_id)))


def api_client(membership) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=membership.user)
    return client


def buy_template(client):
    return client.post(PURCHASES, {"item_type": "prompt_template", "item_id": "t5"}, format="json")


def checkout_sessions() -> list:
    return list(stripe.checkout.Session.list(limit=100).auto_paging_iter())


@pytest.mark.django_db
def test_a_second_buy_answers_the_same_open_checkout(stripe_sandbox):
    client = api_client(MembershipFactory())
    first, second = buy_template(client), buy_template(client)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["purchase"]["id"] == second.json()["purchase"]["id"]
    assert first.json()["checkout_url"] == second.json()["checkout_url"] != ""
    assert Purchase.objects.count() == 1
    assert len(checkout_sessions()) == 1


@pytest.mark.django_db
def test_paid_but_webhook_not_landed_a_second_buy_is_refused_and_nothing_is_charged_again(stripe_sandbox):
    member = MembershipFactory()
    client = api_client(member)
    started = buy_template(client).json()
    # Paid on Stripe's page; no webhook endpoint is registered, so no event reaches us.
    assert pay_hosted_checkout(started["checkout_url"], card=CARD, email=member.user.email) == 303

    again = buy_template(client)

    assert again.status_code == 409
    assert again.json()["code"] == "already_owned"
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.amount) == ("paid", 500)
    assert purchase.stripe_payment_intent_id.startswith("pi_")
    assert len(checkout_sessions()) == 1
    assert len(list(stripe.PaymentIntent.list(limit=100).auto_paging_iter())) == 1


def _return_url(checkout_url: str) -> str:
    """Where the sandbox's Checkout sends the browser after paying (Stripe fills in the session's id)."""
    session_id = checkout_url.rstrip("/").rsplit("/", 1)[-1]
    session = stripe.checkout.Session.retrieve(session_id)
    return session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id)


@pytest.mark.django_db
def test_coming_back_from_checkout_the_page_shows_the_item_owned_not_buy(stripe_sandbox):
    member = MembershipFactory()
    browser = Client()
    browser.force_login(member.user)
    response = browser.post(BUY, {"item_type": "prompt_template", "item_id": "t5", "next": "/marketplace/"})
    checkout_url = response["Location"]
    assert pay_hosted_checkout(checkout_url, card=CARD, email=member.user.email) == 303

    back = _return_url(checkout_url)
    path = urlsplit(back)
    landed = browser.get(f"{path.path}?{path.query}", follow=False)

    assert (landed.status_code, landed["Location"]) == (302, "/marketplace/")
    purchase = Purchase.objects.get()
    assert purchase.status == "paid"
    messages = [str(m) for m in get_messages(landed.wsgi_request)]
    assert messages == ["Meeting notes template is yours. A receipt is on its way."]
    # And a Buy from the page now is refused as owned, with no new Checkout.
    again = browser.post(BUY, {"item_type": "prompt_template", "item_id": "t5", "next": "/marketplace/"})
    assert again["Location"] == "/marketplace/"
    assert len(checkout_sessions()) == 1


@pytest.mark.django_db
def test_leaving_checkout_closes_it_and_the_next_buy_starts_afresh(stripe_sandbox):
    member = MembershipFactory()
    browser = Client()
    browser.force_login(member.user)
    response = browser.post(BUY, {"item_type": "prompt_template", "item_id": "t5", "next": "/marketplace/"})
    purchase = Purchase.objects.get()
    session = stripe.checkout.Session.retrieve(purchase.stripe_checkout_session_id)
    cancel = urlsplit(session.cancel_url)
    assert parse_qs(cancel.query)["outcome"] == ["cancel"]

    landed = browser.get(f"{cancel.path}?{cancel.query}")

    assert landed["Location"] == "/marketplace/"
    purchase.refresh_from_db()
    assert purchase.status == "expired"
    assert stripe.checkout.Session.retrieve(purchase.stripe_checkout_session_id).status == "expired"
    # The closed session can no longer be paid.
    assert pay_hosted_checkout(response["Location"], card=CARD, email=member.user.email) != 303
    fresh = buy_template(api_client(member))
    assert fresh.status_code == 201
    assert fresh.json()["purchase"]["id"] != purchase.pk


@pytest.mark.django_db
def test_another_organizations_member_cannot_close_my_checkout(stripe_sandbox):
    mine = MembershipFactory()
    buy_template(api_client(mine))
    stranger = Client()
    stranger.force_login(MembershipFactory().user)
    stranger.get("/billing/purchase/return/?next=/&outcome=cancel&item_type=prompt_template&item_id=t5")
    purchase = Purchase.objects.get()
    assert purchase.status == "pending"
    assert stripe.checkout.Session.retrieve(purchase.stripe_checkout_session_id).status == "open"


@pytest.mark.django_db
def test_an_expired_checkout_is_replaced_by_a_new_one(stripe_sandbox):
    client = api_client(MembershipFactory())
    first = buy_template(client).json()
    stripe.checkout.Session.expire(Purchase.objects.get().stripe_checkout_session_id)

    second = buy_template(client)

    assert second.status_code == 201
    assert second.json()["checkout_url"] != first["checkout_url"]
    assert sorted(Purchase.objects.values_list("status", flat=True)) == ["expired", "pending"]


# --- Races, on PostgreSQL ------------------------------------------------------------------


def race(calls):
    """Run every call at the same moment, each on its own database connection."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_five_concurrent_buys_open_one_checkout(require_postgres, stripe_sandbox):
    member = MembershipFactory()
    responses = race([lambda: buy_template(api_client(member)) for _ in range(5)])

    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["checkout_url"] for r in responses}) == 1
    assert len({r.json()["purchase"]["id"] for r in responses}) == 1
    assert Purchase.objects.count() == 1
    assert len(checkout_sessions()) == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_five_concurrent_claims_of_a_quiz_free_with_the_plan_take_one_unit(require_postgres, premium):
    org = premium.organization

    def claim():
        return api_client(premium).post(PURCHASES, {"item_type": "quiz", "item_id": "q40"}, format="json")

    responses = race([claim for _ in range(5)])

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_owned"}
    assert list(Purchase.objects.values_list("status", "amount")) == [("paid", 0)]
    assert UsageCounter.objects.get(organization=org, feature="free_quiz").used == 1


@pytest.mark.django_db
def test_a_paid_for_item_is_owned_even_if_the_plan_changed_meanwhile(premium, stripe_sandbox):
    """The free unit is counted when claimed: a second claim after a refresh still finds it owned."""
    client = api_client(premium)
    assert client.post(PURCHASES, {"item_type": "quiz", "item_id": "q40"}, format="json").status_code == 201
    entitlements_refresh(organization=premium.organization)
    again = client.post(PURCHASES, {"item_type": "quiz", "item_id": "q40"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_owned")
    assert UsageCounter.objects.get(organization=premium.organization, feature="free_quiz").used == 1
