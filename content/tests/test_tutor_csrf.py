"""The tutor's API serves visitors from their browser session, so CSRF applies to them; tokens and keys are exempt."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.services.api_keys import api_key_create
from content.models import ChatMessage, Conversation

pytestmark = pytest.mark.django_db
LIST = "/api/v1/content/conversations/"


def browser() -> APIClient:
    return APIClient(enforce_csrf_checks=True)


def test_a_visitors_session_needs_the_csrf_token_for_every_unsafe_request(lessons_for_csrf):
    visitor = browser()
    refused = visitor.post(LIST, {}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert refused.json()["message"].startswith("CSRF check failed")
    assert Conversation.objects.count() == 0

    listing = visitor.get(LIST)  # sets the csrftoken cookie, as the tutor page does
    assert listing.status_code == 200
    token = visitor.cookies["csrftoken"].value
    created = visitor.post(LIST, {}, format="json", HTTP_X_CSRFTOKEN=token)
    assert created.status_code == 201
    url = f"{LIST}{created.json()['id']}/"

    # A cross-site page can make the browser send the cookies, not the header.
    for method, path, body in [
        ("post", f"{url}messages/", {"content": "How do I summarise a meeting?"}),
        ("patch", url, {"title": "Renamed"}),
        ("delete", url, None),
    ]:
        response = getattr(visitor, method)(path, body, format="json")
        assert (response.status_code, response.json()["code"]) == (403, "csrf_failed"), method
    conversation = Conversation.objects.get()
    assert (conversation.title, ChatMessage.objects.count()) == ("New conversation", 0)

    asked = visitor.post(f"{url}messages/", {"content": "How do I summarise a meeting?"}, format="json",
                         HTTP_X_CSRFTOKEN=token)
    assert asked.status_code == 201
    assert visitor.delete(url, HTTP_X_CSRFTOKEN=token).status_code == 204


def test_a_signed_in_browser_session_needs_the_token_too(free_member, lessons_for_csrf):
    member = browser()
    member.force_login(free_member.user)
    assert member.post(LIST, {}, format="json").status_code == 403
    assert Conversation.objects.count() == 0


def test_jwt_and_api_key_clients_send_no_csrf_token(free_member, lessons_for_csrf):
    jwt = browser()
    jwt.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(free_member.user).access_token}")
    conversation = jwt.post(LIST, {}, format="json")
    assert conversation.status_code == 201
    asked = jwt.post(f"{LIST}{conversation.json()['id']}/messages/", {"content": "meeting?"}, format="json")
    assert asked.status_code == 201
    assert Conversation.objects.get().user == free_member.user

    created = api_key_create(organization=free_member.organization, name="sdk", created_by=free_member.user)
    machine = browser()
    machine.credentials(HTTP_AUTHORIZATION=f"Api-Key {created.secret}")
    assert machine.post(LIST, {}, format="json").status_code == 201


@pytest.fixture
def lessons_for_csrf():
    from content.tests.factories import LessonFactory

    LessonFactory(slug="meetings", title="Summarising a meeting transcript", free=True,
                  body="A good meeting summary lists decisions. Ask for owners and due dates as a table.")
