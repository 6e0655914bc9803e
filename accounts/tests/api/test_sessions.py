"""Signed-in devices: list, revoke one or all, and the concurrent-session cap."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import AuthSession
from accounts.tests.api.conftest import ME, REFRESH, assert_error_shape, bearer, obtain
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/auth/sessions/"


def _web_login(user, agent="Firefox/130"):
    client = Client(HTTP_USER_AGENT=agent)
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_web_login_opens_a_session_and_logout_ends_it(user):
    client = _web_login(user)
    session = AuthSession.objects.get()
    assert (session.kind, session.session_key, session.user_agent) == ("web", client.session.session_key, "Firefox/130")

    client.post("/accounts/logout/")

    session.refresh_from_db()
    assert session.revoked_at is not None


def test_list_shows_web_and_api_sessions(api, user):
    _web_login(user)
    pair = obtain(api, user)

    body = bearer(api, pair["access"]).get(SESSIONS).json()["results"]

    assert [(s["kind"], s["current"]) for s in body] == [("jwt", True), ("web", False)]
    assert body[0]["ip_address"] == "10.0.0.1"
    assert body[0]["user_agent"] == "pytest-sdk/1.0"
    assert set(body[0]) == {"id", "kind", "user_agent", "ip_address", "created_at", "last_used_at", "current"}


def test_revoking_a_web_session_deletes_the_django_session(api, user, django_capture_on_commit_callbacks):
    browser = _web_login(user)
    web = AuthSession.objects.get(kind="web")
    bearer(api, obtain(api, user)["access"])

    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"{SESSIONS}{web.pk}/revoke/").status_code == 204

    assert not Session.objects.filter(session_key=web.session_key).exists()
    assert browser.get("/settings/security/").status_code == 302  # back to the login page


def test_revoking_a_jwt_session_kills_its_tokens(api, user):
    laptop = obtain(api, user)
    phone = obtain(api, user)
    bearer(api, laptop["access"])

    assert api.post(f"{SESSIONS}{phone['session_id']}/revoke/").status_code == 204

    assert_error_shape(api.post(REFRESH, {"refresh": phone["refresh"]}, format="json"), status=401)
    assert_error_shape(bearer(api, phone["access"]).get(ME), status=401)
    assert bearer(api, laptop["access"]).get(ME).status_code == 200


def test_cannot_revoke_someone_elses_session(api, user):
    other = UserFactory()
    theirs = obtain(api, other)
    bearer(api, obtain(api, user)["access"])

    assert_error_shape(api.post(f"{SESSIONS}{theirs['session_id']}/revoke/"), status=404)
    assert AuthSession.objects.get(pk=theirs["session_id"]).revoked_at is None


def test_revoke_all_keeps_the_caller_by_default(api, user):
    _web_login(user)
    other_device = obtain(api, user)
    me = obtain(api, user)
    bearer(api, me["access"])

    response = api.post(f"{SESSIONS}revoke-all/", {}, format="json")

    assert response.json() == {"revoked": 2}
    assert list(AuthSession.objects.filter(revoked_at__isnull=True).values_list("pk", flat=True)) == [me["session_id"]]
    assert_error_shape(api.post(REFRESH, {"refresh": other_device["refresh"]}, format="json"), status=401)


def test_revoke_all_including_this_one(api, user):
    me = obtain(api, user)
    bearer(api, me["access"])

    assert api.post(f"{SESSIONS}revoke-all/", {"keep_current": False}, format="json").json() == {"revoked": 1}
    assert_error_shape(api.get(ME), status=401)


def test_session_cap_revokes_the_oldest(api, user, settings):
    settings.MAX_CONCURRENT_SESSIONS = 3
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "100/minute"},
    }
    pairs = [obtain(api, user) for _ in range(3)]
    browser = _web_login(user)
    newest = obtain(api, user)

    active = set(AuthSession.objects.filter(revoked_at__isnull=True).values_list("pk", flat=True))
    web = AuthSession.objects.get(kind="web")
    assert active == {pairs[2]["session_id"], web.pk, newest["session_id"]}
    for old in pairs[:2]:
        assert_error_shape(api.post(REFRESH, {"refresh": old["refresh"]}, format="json"), status=401)
    assert browser.get("/settings/security/").status_code == 200


def test_anonymous_gets_401(api, db):
    assert_error_shape(api.get(SESSIONS), status=401, code="not_authenticated")
