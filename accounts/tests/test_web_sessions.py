"""Browser sessions as devices: opened at login, kept current, signed out once revoked."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.middleware import AUTH_SESSION_ID, AUTH_SESSION_SEEN
from accounts.models import AuthSession, LoginEvent
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.totp import totp_activate, totp_code

pytestmark = pytest.mark.django_db

PAGE = "/settings/security/"


def _login(user, agent="Firefox/130"):
    client = Client(HTTP_USER_AGENT=agent)
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    return client


def _age(client, seconds):
    session = client.session
    session[AUTH_SESSION_SEEN] -= seconds
    session.save()


def test_login_is_recorded_with_device():
    user = UserFactory()
    client = _login(user)

    auth_session = AuthSession.objects.get()
    assert client.session[AUTH_SESSION_ID] == auth_session.pk
    assert (auth_session.kind, auth_session.ip_address, auth_session.user_agent) == ("web", "127.0.0.1", "Firefox/130")
    event = LoginEvent.objects.get()
    assert (event.user, event.success, event.method) == (user, True, "password")


def test_last_use_is_refreshed_at_most_once_a_minute():
    client = _login(UserFactory())
    long_ago = timezone.now() - timedelta(hours=1)
    AuthSession.objects.update(last_used_at=long_ago)

    client.get(PAGE)
    assert AuthSession.objects.get().last_used_at == long_ago

    _age(client, 61)
    client.get(PAGE)
    assert AuthSession.objects.get().last_used_at > long_ago


def test_a_revoked_session_is_signed_out_even_if_the_django_session_survived():
    client = _login(UserFactory())
    # Revoked behind the page's back (e.g. the session row could not be deleted).
    AuthSession.objects.update(revoked_at=timezone.now())
    _age(client, 61)

    response = client.get(PAGE)

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_mfa_login_is_recorded_as_mfa_and_wrong_codes_count_towards_lockout(settings):
    user = UserFactory()
    secret = totp_activate(user)
    client = Client()
    wrong = "000000" if totp_code(secret) != "000000" else "111111"
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
        assert response.status_code == 302, attempt
        response = client.post("/accounts/2fa/authenticate/", {"code": wrong})

    assert response.status_code == 429
    assert "Too many failed attempts. Try again in 15 minutes." in response.content.decode()
    assert list(LoginEvent.objects.values_list("reason", flat=True)) == ["invalid_otp"] * settings.AXES_FAILURE_LIMIT
    assert not AuthSession.objects.exists()


def test_mfa_login_method():
    user = UserFactory()
    secret = totp_activate(user)
    client = Client()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)}).status_code == 302
    assert LoginEvent.objects.get().method == "mfa"
