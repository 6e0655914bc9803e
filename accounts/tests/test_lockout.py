"""Progressive lockout (django-axes) on the allauth login page and the JWT endpoint."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import AuthSession, LoginEvent
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_auth_throttle(settings):
    """These tests make more logins from one address than the per-IP auth rate allows."""
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "1000/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


LOGIN = "/accounts/login/"
OBTAIN = "/api/v1/auth/token/"
LIMIT = 5


def _page_login(client, email, password):
    return client.post(LOGIN, {"login": email, "password": password})


def _api_login(api, email, password):
    return api.post(OBTAIN, {"email": email, "password": password}, format="json")


def _age_attempts(minutes: int):
    """Move every recorded failure `minutes` into the past, as if that time had passed."""
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=attempt.attempt_time - timedelta(minutes=minutes)
        )


def test_page_locks_after_limit_with_clear_message_and_unlocks_later(client):
    user = UserFactory()
    for _ in range(LIMIT - 1):
        response = _page_login(client, user.email, "wrong password!")
        assert response.status_code == 200
        assert "Too many failed attempts" not in response.content.decode()

    response = _page_login(client, user.email, "wrong password!")

    assert response.status_code == 429
    assert "Too many failed attempts. Try again in 15 minutes." in response.content.decode()
    assert response["Retry-After"] == "900"

    # Even the right password is refused while locked, and nobody gets signed in.
    response = _page_login(client, user.email, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed attempts. Try again in 15 minutes." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not AuthSession.objects.exists()

    _age_attempts(16)
    response = _page_login(client, user.email, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_api_locks_with_429_retry_after_and_unlocks_later():
    api = APIClient()
    user = UserFactory()
    for _ in range(LIMIT - 1):
        assert _api_login(api, user.email, "wrong password!").status_code == 401

    response = _api_login(api, user.email, "wrong password!")

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    body = response.json()
    assert body["code"] == "account_locked"
    assert body["message"] == "Too many failed attempts. Try again in 15 minutes."
    assert set(body) == {"status", "code", "message", "errors", "request_id"}

    locked = _api_login(api, user.email, PASSWORD)
    assert locked.status_code == 429
    assert 1 <= int(locked["Retry-After"]) <= 900
    assert not AuthSession.objects.exists()
    history = list(LoginEvent.objects.order_by("id").values_list("user_id", "method", "reason"))
    assert history == [(user.pk, "jwt", "invalid_credentials")] * LIMIT + [(user.pk, "jwt", "locked_out")]

    _age_attempts(14)
    assert _api_login(api, user.email, PASSWORD).status_code == 429
    _age_attempts(2)
    assert _api_login(api, user.email, PASSWORD).status_code == 200


def test_page_and_api_share_the_count():
    client, api = Client(), APIClient()
    user = UserFactory()
    for _ in range(3):
        _page_login(client, user.email, "wrong password!")
    assert _api_login(api, user.email, "wrong password!").status_code == 401

    assert _api_login(api, user.email, "wrong password!").status_code == 429
    assert _page_login(client, user.email, PASSWORD).status_code == 429


def test_lockout_grows_with_each_lockout():
    api = APIClient()
    user = UserFactory()
    for _ in range(LIMIT):
        _api_login(api, user.email, "wrong password!")
    _age_attempts(16)
    for _ in range(LIMIT - 1):
        assert _api_login(api, user.email, "wrong password!").status_code == 401

    second = _api_login(api, user.email, "wrong password!")

    assert second.status_code == 429
    assert second.json()["message"] == "Too many failed attempts. Try again in 30 minutes."
    assert second["Retry-After"] == "1800"
    _age_attempts(16)
    assert _api_login(api, user.email, PASSWORD).status_code == 429
    _age_attempts(15)
    assert _api_login(api, user.email, PASSWORD).status_code == 200


def test_someone_elses_login_does_not_shorten_a_long_lockout():
    api = APIClient(REMOTE_ADDR="10.0.0.7")
    user = UserFactory()
    for _ in range(LIMIT):
        _api_login(api, user.email, "wrong password!")
    _age_attempts(16)
    for _ in range(LIMIT):
        _api_login(api, user.email, "wrong password!")
    _age_attempts(20)  # inside the second (30-minute) lockout

    bystander = UserFactory()
    assert _api_login(APIClient(REMOTE_ADDR="10.0.0.8"), bystander.email, PASSWORD).status_code == 200

    assert _api_login(api, user.email, PASSWORD).status_code == 429


def test_one_address_trying_many_accounts_is_locked_per_ip():
    attacker = APIClient(REMOTE_ADDR="10.6.6.6")
    victims = UserFactory.create_batch(LIMIT + 1)
    for victim in victims[:LIMIT]:
        _api_login(attacker, victim.email, "guess")

    assert _api_login(attacker, victims[LIMIT].email, PASSWORD).status_code == 429
    # The account itself is fine from elsewhere.
    assert _api_login(APIClient(REMOTE_ADDR="10.0.0.9"), victims[LIMIT].email, PASSWORD).status_code == 200


def test_success_resets_the_count():
    api = APIClient()
    user = UserFactory()
    for _ in range(LIMIT - 1):
        _api_login(api, user.email, "wrong password!")
    assert _api_login(api, user.email, PASSWORD).status_code == 200
    for _ in range(LIMIT - 1):
        assert _api_login(api, user.email, "wrong password!").status_code == 401


def test_failures_and_lockouts_are_in_login_history():
    client = Client(HTTP_USER_AGENT="Firefox/130")
    user = UserFactory()
    for _ in range(LIMIT + 1):
        _page_login(client, user.email, "wrong password!")

    reasons = list(
        LoginEvent.objects.order_by("id").values_list("success", "method", "reason", "user_id", "user_agent")
    )
    failed = (False, "password", "invalid_credentials", user.pk, "Firefox/130")
    locked = (False, "password", "locked_out", user.pk, "Firefox/130")
    assert reasons == [failed] * LIMIT + [locked]
