"""Business events from the apps' services (through common.events.track), one row per user action.

Each test acts as the person does (the pages and the API), lets the transaction commit
(the on-commit callbacks run: `track` buffers, then the embedded flush stores at once)
and asserts the rows of the events table. Repeating the action where the product
answers the same thing (a double click, a second device, a replayed webhook, the next
page of a search) records nothing more.
"""

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Membership, User
from analytics.models import Event
from billing import gateway, purchasables
from billing.models import Purchase
from billing.purchasables import PricedItem
from billing.services.entitlements import entitlements_refresh
from billing.services.purchases import purchase_complete_from_checkout, purchase_settle_from_stripe
from billing.tests.checkout_helpers import pay_hosted_checkout
from billing.tests.factories import MembershipFactory
from common import events as tracking
from content.tests.factories import LessonFactory
from marketplace.models import Category
from marketplace.tests.factories import PromptTemplateFactory

pytestmark = pytest.mark.django_db

CARD = "4242424242424242"
FIELDS = ("name", "organization_id", "user_id", "anonymous_id", "path", "item_type", "item_id", "properties")


@pytest.fixture(autouse=True)
def empty_buffer():
    tracking.buffer().clear()
    yield
    tracking.buffer().clear()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what the block leaves for after its commit (track's buffering)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def rows(*names) -> list[dict]:
    return [
        dict(zip(FIELDS, row, strict=True))
        for row in Event.objects.filter(name__in=names).order_by("id").values_list(*FIELDS)
    ]


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    client.cookies["plateau_vid"] = "v-" + str(membership.user_id)
    return client


def api(membership) -> APIClient:
    client = APIClient()
    client.force_authenticate(membership.user)
    return client


def test_signing_up_is_one_signup_event_joined_to_the_visit_before(client, committed):
    with committed():
        client.get("/")
    visitor = client.cookies["plateau_vid"].value
    form = {"email": "new@example.com", "password1": "a-long-enough-Passw0rd", "password2": "a-long-enough-Passw0rd"}
    with committed():
        assert client.post("/accounts/signup/", form).status_code == 302
        # The same form again (a double click): the address is taken, nobody new signs up
        # (allauth answers as if it had, not to tell who has an account).
        client.post("/accounts/signup/", form)
    assert User.objects.filter(email="new@example.com").count() == 1
    user = User.objects.get(email="new@example.com")
    personal = Membership.objects.get(user=user).organization_id
    assert rows("signup") == [
        {
            "name": "signup",
            "organization_id": personal,
            "user_id": user.pk,
            "anonymous_id": visitor,
            "path": "/accounts/signup/",
            "item_type": "",
            "item_id": "",
            "properties": {},
        }
    ]


def test_a_content_search_is_one_event_with_its_query_and_count_pages_and_api_alike(committed):
    for n in range(12):
        LessonFactory(title=f"Meeting notes {n}", summary="Summarising meeting transcripts", free=True)
    member = MembershipFactory()
    web = signed_in(member)
    with committed():
        assert web.get("/learn/search/", {"q": "meeting", "type": "lesson"}).status_code == 200
        assert web.get("/learn/search/", {"q": "meeting", "type": "lesson", "page": 2}).status_code == 200
        assert api(member).get("/api/v1/content/search/", {"q": "transcripts"}).status_code == 200
        assert (
            api(member).get("/api/v1/content/search/", {"q": "transcripts", "page_size": 5, "page": 2}).status_code
            == 200
        )
        Client().get("/learn/search/", {"q": ""})  # no query: no search
    assert rows("search") == [
        {
            "name": "search",
            "organization_id": member.organization_id,
            "user_id": member.user_id,
            "anonymous_id": f"v-{member.user_id}",
            "path": "/learn/search/",
            "item_type": "content",
            "item_id": "",
            "properties": {"query": "meeting", "results": 12, "type": "lesson"},
        },
        {
            "name": "search",
            "organization_id": member.organization_id,
            "user_id": member.user_id,
            "anonymous_id": "",
            "path": "/api/v1/content/search/",
            "item_type": "content",
            "item_id": "",
            "properties": {"query": "transcripts", "results": 12},
        },
    ]


def test_the_catalogue_records_searches_and_category_browsing_on_their_first_page(client, committed):
    for n in range(30):
        PromptTemplateFactory(published=True, slug=f"coding-{n}", title=f"Code review {n}", category=Category.CODING)
    PromptTemplateFactory(published=True, slug="writing-1", title="Blog post", category=Category.WRITING)
    with committed():
        client.get("/marketplace/")  # a plain listing: its page view says enough
        client.get("/marketplace/", {"category": Category.CODING})
        client.get("/marketplace/", {"category": Category.CODING, "page": 2})
        client.get("/marketplace/", {"q": "blog", "category": Category.WRITING})
        APIClient().get("/api/v1/marketplace/templates/", {"category": Category.WRITING})
    visitor = client.cookies["plateau_vid"].value
    assert [
        (r["name"], r["anonymous_id"], r["path"], r["item_type"], r["item_id"], r["properties"])
        for r in rows("search", "category_browse")
    ] == [
        ("category_browse", visitor, "/marketplace/", "category", "coding", {"results": 30, "category": "coding"}),
        ("search", visitor, "/marketplace/", "marketplace", "", {"query": "blog", "results": 1, "category": "writing"}),
        (
            "category_browse",
            "",
            "/api/v1/marketplace/templates/",
            "category",
            "writing",
            {"results": 1, "category": "writing"},
        ),
    ]


def test_a_subscription_checkout_started_twice_is_one_event(stripe_sandbox, committed):
    call_command("billing_setup")
    member = MembershipFactory()
    web = signed_in(member)
    with committed():
        first = web.post("/billing/checkout/", {"lookup_key": "premium_monthly"})
        second = web.post("/billing/checkout/", {"lookup_key": "premium_monthly"})  # the open session again
    assert first["Location"] == second["Location"]
    assert rows("checkout_started") == [
        {
            "name": "checkout_started",
            "organization_id": member.organization_id,
            "user_id": member.user_id,
            "anonymous_id": f"v-{member.user_id}",
            "path": "/billing/checkout/",
            "item_type": "subscription",
            "item_id": "premium_monthly",
            "properties": {"mode": "subscription"},
        }
    ]


@pytest.fixture
def template_for_sale(monkeypatch):
    item = PricedItem("prompt_template", "t5", "Meeting notes template", 500, "usd")
    monkeypatch.setitem(purchasables._resolvers, "prompt_template", lambda item_id: item if item_id == "t5" else None)
    return item


def test_a_purchase_is_one_checkout_started_and_one_purchase_however_often_it_is_settled(
    stripe_sandbox, template_for_sale, committed
):
    member = MembershipFactory()
    web = signed_in(member)
    buy = {"item_type": "prompt_template", "item_id": "t5", "next": "/marketplace/"}
    with committed():
        checkout = web.post("/billing/purchase/", buy)["Location"]
        assert web.post("/billing/purchase/", buy)["Location"] == checkout  # a double click
    assert pay_hosted_checkout(checkout, card=CARD, email=member.user.email) == 303
    purchase = Purchase.objects.get()
    with committed():
        # The webhook, a duplicate of it, and the page the buyer comes back to: settled once.
        purchase_settle_from_stripe(session_id=purchase.stripe_checkout_session_id)
        purchase_settle_from_stripe(session_id=purchase.stripe_checkout_session_id)
        web.get(
            "/billing/purchase/return/", {"next": "/marketplace/", "session_id": purchase.stripe_checkout_session_id}
        )
    purchase.refresh_from_db()
    assert purchase.status == "paid"
    common = {
        "organization_id": member.organization_id,
        "user_id": member.user_id,
        "item_type": "prompt_template",
        "item_id": "t5",
    }
    assert rows("checkout_started", "purchase") == [
        {
            "name": "checkout_started",
            **common,
            "anonymous_id": f"v-{member.user_id}",
            "path": "/billing/purchase/",
            "properties": {"mode": "payment", "amount": 500, "currency": "usd"},
        },
        {
            "name": "purchase",
            **common,
            "anonymous_id": "",
            "path": "",
            "properties": {"purchase_id": purchase.pk, "amount": 500, "currency": "usd", "discount_rule": ""},
        },
    ]


def test_a_settle_that_rolls_back_tracks_nothing(stripe_sandbox, template_for_sale, committed):
    member = MembershipFactory()
    web = signed_in(member)
    checkout = web.post("/billing/purchase/", {"item_type": "prompt_template", "item_id": "t5", "next": "/"})[
        "Location"
    ]
    assert pay_hosted_checkout(checkout, card=CARD, email=member.user.email) == 303
    session_id = Purchase.objects.get().stripe_checkout_session_id
    session = gateway.checkout_session_retrieve(session_id=session_id).to_dict()
    with committed():
        with pytest.raises(RuntimeError), transaction.atomic():
            assert purchase_complete_from_checkout(session=session).status == "paid"
            raise RuntimeError("the settle's transaction fails after the purchase flipped")
    assert Purchase.objects.get().status == "pending"
    assert rows("purchase") == []


def test_feature_usage_is_one_event_per_use_counted_and_per_check(committed):
    member = MembershipFactory()
    entitlements_refresh(organization=member.organization)
    client = api(member)
    use = {"customer": member.organization_id, "feature": "ai_chat", "idempotency_key": "chat-1"}
    with committed():
        assert (
            client.post(
                "/api/v1/features/check-access/",
                {"customer": member.organization_id, "feature": "ai_chat"},
                format="json",
            ).status_code
            == 200
        )
        assert client.post("/api/v1/features/track-usage/", use, format="json").status_code == 200
        assert client.post("/api/v1/features/track-usage/", use, format="json").status_code == 200  # a retry
    assert [
        (r["organization_id"], r["user_id"], r["item_type"], r["item_id"], r["properties"])
        for r in rows("feature_usage")
    ] == [
        (
            member.organization_id,
            member.user_id,
            "feature",
            "ai_chat",
            {"action": "check", "quantity": 1, "allowed": True},
        ),
        (
            member.organization_id,
            member.user_id,
            "feature",
            "ai_chat",
            {"action": "use", "quantity": 1, "used": 1, "limit": 5},
        ),
    ]


def test_lesson_progress_is_an_event_when_started_and_when_completed_whatever_devices_send(committed):
    LessonFactory(slug="l1", free=True)
    member = MembershipFactory()
    entitlements_refresh(organization=member.organization)
    phone, laptop = api(member), api(member)
    url = "/api/v1/content/progress/l1"
    with committed():
        assert phone.put(url, {"percent": 10}, format="json").status_code == 200
        assert laptop.put(url, {"percent": 40}, format="json").status_code == 200
        assert laptop.put(url, {"completed": True}, format="json").status_code == 200
        assert phone.put(url, {"completed": True}, format="json").status_code == 200  # the other device, late
    assert [
        (r["organization_id"], r["user_id"], r["item_type"], r["item_id"], r["properties"])
        for r in rows("lesson_progress")
    ] == [
        (member.organization_id, member.user_id, "lesson", "l1", {"stage": "started", "percent": 10}),
        (member.organization_id, member.user_id, "lesson", "l1", {"stage": "completed", "percent": 100}),
    ]
