"""Sensitive actions need a recent authentication (5 minutes): creating API keys, adding or
changing an email address, changing MFA — on the pages and in the API."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, AuthSession, Role
from accounts.tests.factories import PASSWORD, MembershipFactory
from accounts.tests.reauth import age_authentications

pytestmark = pytest.mark.django_db

REAUTH = "/accounts/reauthenticate/"


@pytest.fixture
def admin():
    return MembershipFactory(role=Role.ADMIN)


def _browser(user) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_timeout_is_five_minutes_by_default(settings):
    assert settings.ACCOUNT_REAUTHENTICATION_TIMEOUT == 300


def test_api_key_page_after_an_hour_asks_for_the_password_then_creates_the_key(admin):
    client = _browser(admin.user)
    age_authentications(client, seconds=3600)

    response = client.post("/settings/api-keys/", {"name": "CI"})

    assert response.status_code == 302
    assert response["Location"].startswith(REAUTH)
    assert not ApiKey.objects.exists()
    assert client.get("/settings/api-keys/").status_code == 200  # reading is fine
    # Confirming the password replays the suspended request.
    response = client.post(response["Location"], {"password": PASSWORD})
    assert ApiKey.objects.get().name == "CI"


def test_api_key_page_right_after_sign_in_does_not_ask_again(admin):
    client = _browser(admin.user)
    assert client.post("/settings/api-keys/", {"name": "CI"}).status_code == 200
    assert ApiKey.objects.count() == 1


def test_api_token_from_a_login_older_than_five_minutes_cannot_create_keys(admin):
    api = APIClient()
    tokens = api.post("/api/v1/auth/token/", {"email": admin.user.email, "password": PASSWORD}, format="json").json()
    AuthSession.objects.update(created_at=timezone.now() - timedelta(minutes=6))
    # A refresh gives new tokens but is not a new login.
    tokens = api.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json").json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    response = api.post(f"/api/v1/orgs/{admin.organization_id}/api-keys/", {"name": "CI"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "reauthentication_required"
    assert not ApiKey.objects.exists()


def test_api_token_from_a_fresh_login_creates_keys(admin):
    api = APIClient()
    tokens = api.post("/api/v1/auth/token/", {"email": admin.user.email, "password": PASSWORD}, format="json").json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = api.post(f"/api/v1/orgs/{admin.organization_id}/api-keys/", {"name": "CI"}, format="json")
    assert response.status_code == 201


def test_the_browser_session_on_the_api_counts_like_the_pages(admin):
    client = _browser(admin.user)
    age_authentications(client)
    response = client.post(
        f"/api/v1/orgs/{admin.organization_id}/api-keys/", {"name": "CI"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "reauthentication_required"
    assert not ApiKey.objects.exists()


def test_adding_an_email_address_needs_a_recent_authentication(admin):
    client = _browser(admin.user)
    age_authentications(client)

    response = client.post("/accounts/email/", {"action_add": "", "email": "takeover@example.com"})

    assert response.status_code == 302
    assert response["Location"].startswith(REAUTH)
    assert list(EmailAddress.objects.filter(user=admin.user).values_list("email", flat=True)) == [admin.user.email]


def test_setting_up_mfa_needs_a_recent_authentication(admin):
    client = _browser(admin.user)
    age_authentications(client)
    response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 302
    assert response["Location"].startswith(REAUTH)
    assert not Authenticator.objects.exists()


def test_a_token_minted_without_a_login_counts_from_its_issue_time(admin):
    from datetime import timedelta as td

    from rest_framework_simplejwt.tokens import RefreshToken

    fresh = RefreshToken.for_user(admin.user).access_token
    stale = RefreshToken.for_user(admin.user).access_token
    stale.set_iat(at_time=timezone.now() - td(minutes=10))
    url = f"/api/v1/orgs/{admin.organization_id}/api-keys/"
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {stale}")
    assert api.post(url, {"name": "old"}, format="json").status_code == 403
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh}")
    assert api.post(url, {"name": "new"}, format="json").status_code == 201
    assert list(ApiKey.objects.values_list("name", flat=True)) == ["new"]
