"""The "Buy" button that quiz, article and prompt template pages post to (billing:purchase_buy)."""

import pytest
import stripe
from django.test import Client

from billing import purchasables
from billing.anonymous import SESSION_FIELD
from billing.models import Purchase, UsageCounter
from billing.purchasables import PricedItem
from billing.selectors import purchased_item_ids
from billing.services.entitlements import entitlements_refresh
from billing.tests.factories import MembershipFactory

BUY = "/billing/purchase/"
ITEMS = {
    ("quiz", "q40"): PricedItem("quiz", "q40", "Prompting basics quiz", 4000, "usd"),
    ("article", "a10"): PricedItem("article", "a10", "RAG in practice", 1000, "usd"),
    ("quiz", "q40" + "x" * 61): PricedItem("quiz", "q40" + "x" * 61, "Long id quiz", 4000, "usd"),
}


@pytest.fixture(autouse=True)
def items_for_sale(monkeypatch):
    for item_type in ("quiz", "article"):
        monkeypatch.setitem(purchasables._resolvers, item_type, lambda item_id, t=item_type: ITEMS.get((t, item_id)))


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


@pytest.mark.django_db
def test_a_premium_subscriber_gets_an_article_from_the_plan_at_once(premium):
    client = signed_in(premium)
    response = client.post(
        BUY, {"item_type": "article", "item_id": "a10", "next": "/learn/articles/a10/"}, follow=False
    )
    assert (response.status_code, response["Location"]) == (302, "/learn/articles/a10/")
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.amount, purchase.discount_rule) == ("paid", 0, "premium_article")
    assert UsageCounter.objects.get(organization=premium.organization, feature="premium_article").used == 1
    assert purchased_item_ids(item_type="article", organization_id=premium.organization.pk) == {"a10"}
    page = client.get("/billing/settings/")
    assert "RAG in practice is yours, included in your plan." in page.content.decode()

    # A second click (another tab, a resubmitted form) neither buys again nor spends another unit.
    again = client.post(BUY, {"item_type": "article", "item_id": "a10", "next": "/billing/settings/"}, follow=True)
    assert "You already own this item." in again.content.decode()
    assert Purchase.objects.count() == 1
    assert UsageCounter.objects.get(organization=premium.organization, feature="premium_article").used == 1


@pytest.mark.django_db
def test_a_free_member_is_sent_to_checkout_at_the_list_price(stripe_sandbox):
    member = MembershipFactory()
    entitlements_refresh(organization=member.organization)
    response = signed_in(member).post(BUY, {"item_type": "quiz", "item_id": "q40", "next": "/learn/"})
    assert response.status_code == 302
    assert response["Location"].startswith(stripe_sandbox.url)
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.amount, purchase.organization) == ("pending", 4000, member.organization)
    assert purchase.stripe_checkout_session_id in response["Location"]
    assert purchased_item_ids(item_type="quiz", organization_id=member.organization.pk) == set()


@pytest.mark.django_db
def test_a_visitor_buys_with_the_session_id_and_a_foreign_next_url_is_ignored(stripe_sandbox):
    client = Client()
    response = client.post(BUY, {"item_type": "quiz", "item_id": "q40", "next": "https://evil.example/"})
    assert response["Location"].startswith(stripe_sandbox.url)
    purchase = Purchase.objects.get()
    session_id = client.session[SESSION_FIELD]
    assert (purchase.organization, purchase.anonymous_session_id) == (None, session_id)
    # The checkout comes back through the return page to the site's home page, not to the foreign address.
    session = stripe.checkout.Session.retrieve(purchase.stripe_checkout_session_id)
    back = "http://testserver/billing/purchase/return/?next=%2F"
    assert session.success_url == back + "&session_id={CHECKOUT_SESSION_ID}"
    assert session.cancel_url == back + "&outcome=cancel&item_type=quiz&item_id=q40"


@pytest.mark.django_db
def test_unknown_items_and_types_change_nothing():
    client = Client()
    assert client.post(BUY, {"item_type": "quiz", "item_id": "nope", "next": "/"}).status_code == 404
    assert client.post(BUY, {"item_type": "car", "item_id": "q40", "next": "/"}).status_code == 400
    # An id longer than any item's is not cut down to one that exists.
    assert client.post(BUY, {"item_type": "quiz", "item_id": "q40" + "x" * 64, "next": "/"}).status_code == 404
    assert client.get(BUY).status_code == 405
    assert Purchase.objects.count() == 0


@pytest.mark.django_db
def test_owned_items_are_the_paid_and_partly_refunded_ones_of_that_owner(premium):
    org = premium.organization
    base = {"item_type": "quiz", "item_name": "x", "list_amount": 100, "amount": 100}
    Purchase.objects.create(organization=org, item_id="paid", status="paid", **base)
    Purchase.objects.create(organization=org, item_id="part", status="partially_refunded", refunded_amount=50, **base)
    Purchase.objects.create(organization=org, item_id="gone", status="refunded", refunded_amount=100, **base)
    Purchase.objects.create(organization=org, item_id="wait", status="pending", **base)
    Purchase.objects.create(anonymous_session_id="s1", item_id="anon", status="paid", **base)
    assert purchased_item_ids(item_type="quiz", organization_id=org.pk) == {"paid", "part"}
    assert purchased_item_ids(item_type="article", organization_id=org.pk) == set()
    assert purchased_item_ids(item_type="quiz", anonymous_session_id="s1") == {"anon"}
    assert purchased_item_ids(item_type="quiz") == set()
