"""A password change ends every other session and token family; a reset or an admin's change ends them all."""

import re
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import AuthSession
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 42"
ME = "/api/v1/auth/me/"
REFRESH = "/api/v1/auth/token/refresh/"
PAGE = "/settings/security/"


def _browser(user):
    client = Client()
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    return client


def _tokens(user):
    api = APIClient()
    response = api.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    return response.json()


def _assert_tokens_dead(tokens):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api.get(ME).status_code == 401
    response = APIClient().post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "password_changed"


def _signed_in(client) -> bool:
    return client.get(PAGE).status_code == 200


def test_password_change_ends_every_other_session_and_token_family():
    user = UserFactory()
    tokens = _tokens(user)
    other_browser = _browser(user)
    this_browser = _browser(user)

    response = this_browser.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    _assert_tokens_dead(tokens)
    assert not _signed_in(other_browser)
    assert _signed_in(this_browser)
    live = AuthSession.objects.filter(user=user, revoked_at__isnull=True)
    assert [s.session_key for s in live] == [this_browser.session.session_key]
    # The new password works on the API.
    response = APIClient().post("/api/v1/auth/token/", {"email": user.email, "password": NEW_PASSWORD}, format="json")
    assert response.status_code == 200


def test_password_reset_ends_every_session_and_token_family():
    user = UserFactory()
    tokens = _tokens(user)
    browser = _browser(user)

    Client().post("/accounts/password/reset/", {"email": user.email})
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+/", mail.outbox[-1].body).group(0)
    resetter = Client()
    form_url = resetter.get(urlparse(link).path)["Location"]
    response = resetter.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 302
    _assert_tokens_dead(tokens)
    assert not _signed_in(browser)
    assert not AuthSession.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_password_set_in_the_admin_ends_every_session_and_token_family(staff_client):
    user = UserFactory()
    tokens = _tokens(user)
    browser = _browser(user)

    response = staff_client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302
    _assert_tokens_dead(tokens)
    assert not _signed_in(browser)
    assert not AuthSession.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_tokens_from_before_a_password_changed_anywhere_stop_working():
    """Even a change that no page saw (a shell, a script) ends the API tokens."""
    user = UserFactory()
    tokens = _tokens(user)
    user.set_password(NEW_PASSWORD)
    user.save()

    _assert_tokens_dead(tokens)
