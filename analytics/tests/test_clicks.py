"""Clicks on elements marked data-track: the endpoint the click script sends to, and the script in Chromium."""

import json

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from analytics.models import Event
from billing.tests.factories import MembershipFactory, PurchaseFactory
from common import events as tracking
from marketplace.tests.factories import PromptTemplateFactory

URL = "/analytics/clicks"


@pytest.fixture(autouse=True)
def empty_buffer():
    tracking.buffer().clear()
    yield
    tracking.buffer().clear()


def _csrf_client(**cookies) -> tuple[Client, str]:
    """A browser that enforces CSRF as production does, with the token a page gave it."""
    client = Client(enforce_csrf_checks=True)
    for name, value in cookies.items():
        client.cookies[name] = value
    client.get("/")
    return client, client.cookies["csrftoken"].value


def _send(client, token, clicks):
    return client.post(URL, {"csrfmiddlewaretoken": token, "events": json.dumps(clicks)})


@pytest.mark.django_db
def test_a_batch_of_clicks_is_stored_for_the_visitor_of_the_request():
    client, token = _csrf_client(plateau_vid="visitor-1")
    clicks = [
        {"target": "buy", "path": "/marketplace/t/", "item_type": "prompt_template", "item_id": "t"},
        {"target": "signup", "path": "/"},
    ]
    assert _send(client, token, clicks).status_code == 204
    assert list(
        Event.objects.filter(name="click")
        .order_by("id")
        .values_list("organization_id", "user_id", "anonymous_id", "path", "item_type", "item_id", "properties")
    ) == [
        (None, None, "visitor-1", "/marketplace/t/", "prompt_template", "t", {"target": "buy"}),
        (None, None, "visitor-1", "/", "", "", {"target": "signup"}),
    ]


@pytest.mark.django_db
def test_a_signed_in_click_is_the_users_and_their_organizations():
    member = MembershipFactory()
    client, token = _csrf_client(plateau_vid="visitor-2")
    client.force_login(member.user)
    token = client.get("/") and client.cookies["csrftoken"].value
    assert _send(client, token, [{"target": "subscribe", "item_type": "subscription"}]).status_code == 204
    assert list(Event.objects.values_list("organization_id", "user_id", "anonymous_id")) == [
        (member.organization_id, member.user_id, "visitor-2")
    ]


@pytest.mark.django_db
def test_without_the_csrf_token_or_with_a_bad_batch_nothing_is_kept():
    client, token = _csrf_client()
    client.force_login(UserFactory())
    token = client.get("/") and client.cookies["csrftoken"].value
    assert client.post(URL, {"events": json.dumps([{"target": "buy"}])}).status_code == 403
    for bad in ([], [{"target": ""}], [{"target": "buy", "user_id": 1}], [{"target": "x" * 65}], [{"target": 1}]):
        assert _send(client, token, bad).status_code == 400, bad
    assert _send(client, token, [{"target": "buy"}] * 21).status_code == 400
    assert client.post(URL, {"csrfmiddlewaretoken": token, "events": "not json"}).status_code == 400
    assert client.get(URL).status_code == 405
    assert Event.objects.count() == 0


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_click_on_a_marked_button_in_chromium_ends_as_a_row(live_server, page):
    """Signed in as an owner, "Try it" renders in place (htmx): the click waits in the page until
    the script's timer sends the batch. One request at a time reaches the live server: the test
    database (in-memory SQLite) is one connection its threads share."""
    member = MembershipFactory()
    template = PromptTemplateFactory(published=True, slug="meeting-notes")
    PurchaseFactory(organization=member.organization, item_type="prompt_template", item_id=template.slug)
    browser_session = Client()
    browser_session.force_login(member.user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": browser_session.cookies["sessionid"].value, "url": live_server.url}]
    )
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.clock.install()  # the script's 10-second timer, run on demand below
    page.goto(f"{live_server.url}/marketplace/{template.slug}/")
    visitor = next(c["value"] for c in page.context.cookies() if c["name"] == "plateau_vid")
    with page.expect_response(lambda r: r.url.endswith(f"/{template.slug}/try/")):
        page.get_by_role("button", name="Render").click()
    with page.expect_request_finished(lambda r: r.url.endswith(URL)) as beacon:
        page.clock.run_for(10_000)
    assert (beacon.value.method, beacon.value.response().status) == ("POST", 204)
    assert list(
        Event.objects.filter(name="click").values_list(
            "organization_id", "user_id", "anonymous_id", "path", "item_type", "item_id", "properties"
        )
    ) == [
        (
            member.organization_id,
            member.user_id,
            visitor,
            f"/marketplace/{template.slug}/",
            "prompt_template",
            template.slug,
            {"target": "try_it"},
        )
    ]
    assert violations == []
