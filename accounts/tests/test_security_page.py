import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import AuthSession
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

URL = "/settings/security/"


def _browser(user, agent):
    client = Client(HTTP_USER_AGENT=agent)
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_route_name():
    assert reverse("accounts:security") == URL


def test_page_lists_sessions_history_and_links_to_mfa():
    user = UserFactory()
    Client().post("/accounts/login/", {"login": user.email, "password": "wrong password!"})
    APIClient(HTTP_USER_AGENT="plateau-sdk/2").post(
        "/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json"
    )
    browser = _browser(user, "Firefox/130")

    html = browser.get(URL).content.decode()

    assert "<h2>Sessions</h2>" in html
    assert "Firefox/130" in html and "(this browser)" in html
    assert "plateau-sdk/2" in html
    assert html.count(">Revoke</button>") == 2
    assert "<h2>Login history</h2>" in html
    assert "Failed (invalid_credentials)" in html
    assert html.count("<td>Success</td>") == 2
    assert f'href="{reverse("mfa_index")}"' in html


def test_revoke_another_browser_from_the_page(django_capture_on_commit_callbacks):
    user = UserFactory()
    laptop = _browser(user, "Laptop")
    phone = _browser(user, "Phone")
    phone_session = AuthSession.objects.get(user_agent="Phone")

    with django_capture_on_commit_callbacks(execute=True):
        response = laptop.post(reverse("accounts:session_revoke", args=[phone_session.pk]))

    assert response.status_code == 302
    phone_session.refresh_from_db()
    assert phone_session.revoked_at is not None
    assert phone.get(URL)["Location"].startswith(reverse("account_login"))  # signed out, sent to log in
    html = laptop.get(URL).content.decode()
    assert "Session revoked." in html
    sessions = html.split("<h2>Login history</h2>")[0]
    assert "Laptop" in sessions and "Phone" not in sessions


def test_sign_out_all_other_sessions(django_capture_on_commit_callbacks):
    user = UserFactory()
    others = [_browser(user, f"Other {i}") for i in range(2)]
    me = _browser(user, "Me")

    with django_capture_on_commit_callbacks(execute=True):
        me.post(reverse("accounts:session_revoke_all"))

    assert list(AuthSession.objects.filter(revoked_at__isnull=True).values_list("user_agent", flat=True)) == ["Me"]
    assert all(other.get(URL).status_code == 302 for other in others)
    assert me.get(URL).status_code == 200


def test_cannot_revoke_someone_elses_session():
    victim = UserFactory()
    _browser(victim, "Victim")
    attacker = _browser(UserFactory(), "Attacker")
    victim_session = AuthSession.objects.get(user_agent="Victim")

    assert attacker.post(reverse("accounts:session_revoke", args=[victim_session.pk])).status_code == 404
    victim_session.refresh_from_db()
    assert victim_session.revoked_at is None
