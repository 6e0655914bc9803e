import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import AuthSession, LoginEvent
from accounts.tests.api.conftest import LOGOUT, ME, OBTAIN, REFRESH, assert_error_shape, bearer, obtain
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _claims(token: str) -> dict:
    return jwt.decode(token, settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])


def test_obtain_returns_pair_with_claims_and_lifetimes(api, user, membership):
    body = obtain(api, user)

    access, refresh = _claims(body["access"]), _claims(body["refresh"])
    assert access["token_type"] == "access"
    assert access["user_id"] == str(user.pk)
    assert access["email"] == user.email
    assert access["role"] == "seller"
    assert access["org_id"] == membership.organization_id
    assert access["exp"] - access["iat"] == 15 * 60
    assert refresh["token_type"] == "refresh"
    assert refresh["exp"] - refresh["iat"] == 7 * 24 * 3600
    assert access["family"] == refresh["family"]

    session = AuthSession.objects.get(pk=body["session_id"])
    assert (session.kind, session.family, session.current_jti) == ("jwt", refresh["family"], refresh["jti"])
    assert (session.ip_address, session.user_agent) == ("10.0.0.1", "pytest-sdk/1.0")
    event = LoginEvent.objects.get()
    assert (event.user, event.success, event.method, event.ip_address) == (user, True, "jwt", "10.0.0.1")


def test_me(api, user, membership):
    user.profile.display_name = "Ada"
    user.profile.save()
    bearer(api, obtain(api, user)["access"])

    body = api.get(ME).json()

    assert body == {
        "id": user.pk,
        "email": user.email,
        "display_name": "Ada",
        "organizations": [
            {
                "id": membership.organization_id,
                "name": membership.organization.name,
                "slug": membership.organization.slug,
                "is_personal": False,
                "role": "seller",
            }
        ],
    }


def test_wrong_password_is_401_and_recorded(api, user):
    response = api.post(OBTAIN, {"email": user.email, "password": "wrong password!"}, format="json")

    body = assert_error_shape(response, status=401, code="invalid_credentials")
    assert body["message"] == "Email or password is incorrect."
    assert not AuthSession.objects.exists()
    event = LoginEvent.objects.get()
    assert (event.user, event.success, event.method, event.reason) == (user, False, "jwt", "invalid_credentials")


def test_unknown_email_gets_the_same_answer(api, db):
    response = api.post(OBTAIN, {"email": "nobody@example.com", "password": "whatever"}, format="json")
    assert_error_shape(response, status=401, code="invalid_credentials")


def test_unverified_email_cannot_obtain(api, db):
    user = UserFactory(verified_email=False)
    response = api.post(OBTAIN, {"email": user.email, "password": "correct horse battery staple"}, format="json")
    assert_error_shape(response, status=401, code="email_not_verified")
    assert not AuthSession.objects.exists()


def test_refresh_rotates_and_blacklists_the_old_token(api, user):
    first = obtain(api, user)

    response = api.post(REFRESH, {"refresh": first["refresh"]}, format="json")

    assert response.status_code == 200
    second = response.json()
    assert second["refresh"] != first["refresh"]
    assert second["session_id"] == first["session_id"]
    assert _claims(second["refresh"])["family"] == _claims(first["refresh"])["family"]
    assert BlacklistedToken.objects.filter(token__jti=_claims(first["refresh"])["jti"]).exists()
    assert AuthSession.objects.get().current_jti == _claims(second["refresh"])["jti"]
    assert bearer(api, second["access"]).get(ME).status_code == 200


def test_rotated_refresh_token_presented_again_is_401_and_kills_the_family(api, user):
    first = obtain(api, user)
    second = api.post(REFRESH, {"refresh": first["refresh"]}, format="json").json()
    # The replay comes after the concurrency grace window.
    BlacklistedToken.objects.filter(token__jti=_claims(first["refresh"])["jti"]).update(
        blacklisted_at=timezone.now() - timedelta(seconds=settings.JWT_REFRESH_REUSE_GRACE_SECONDS + 1)
    )

    replay = api.post(REFRESH, {"refresh": first["refresh"]}, format="json")

    assert_error_shape(replay, status=401, code="token_reused")
    session = AuthSession.objects.get()
    assert session.revoked_at is not None
    # The legitimate holder's newer tokens die with the family.
    assert_error_shape(api.post(REFRESH, {"refresh": second["refresh"]}, format="json"), status=401)
    assert_error_shape(bearer(api, second["access"]).get(ME), status=401, code="authentication_failed")
    assert BlacklistedToken.objects.filter(token__jti=_claims(second["refresh"])["jti"]).exists()


def test_rotated_token_within_the_grace_window_is_refused_but_the_session_lives(api, user):
    first = obtain(api, user)
    second = api.post(REFRESH, {"refresh": first["refresh"]}, format="json").json()

    late_twin = api.post(REFRESH, {"refresh": first["refresh"]}, format="json")

    assert_error_shape(late_twin, status=401, code="token_superseded")
    assert AuthSession.objects.get().revoked_at is None
    assert bearer(api, second["access"]).get(ME).status_code == 200
    assert api.post(REFRESH, {"refresh": second["refresh"]}, format="json").status_code == 200


def test_other_families_survive_a_replay(api, user):
    laptop = obtain(api, user)
    phone = obtain(api, user)
    api.post(REFRESH, {"refresh": laptop["refresh"]}, format="json")
    api.post(REFRESH, {"refresh": laptop["refresh"]}, format="json")

    assert api.post(REFRESH, {"refresh": phone["refresh"]}, format="json").status_code == 200


def test_logout_makes_refresh_token_useless(api, user):
    pair = obtain(api, user)

    response = api.post(LOGOUT, {"refresh": pair["refresh"]}, format="json")

    assert response.status_code == 204
    assert_error_shape(api.post(REFRESH, {"refresh": pair["refresh"]}, format="json"), status=401)
    assert_error_shape(bearer(api, pair["access"]).get(ME), status=401)
    assert AuthSession.objects.get().revoked_at is not None


def test_access_token_is_not_a_refresh_token(api, user):
    pair = obtain(api, user)
    assert_error_shape(
        api.post(REFRESH, {"refresh": pair["access"]}, format="json"), status=401, code="token_not_valid"
    )
    assert AuthSession.objects.get().revoked_at is None


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_expired_access_token_is_401(api, user):
    claims = _claims(obtain(api, user)["access"])
    claims["exp"] = int((timezone.now() - timedelta(seconds=1)).timestamp())
    expired = jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
    assert_error_shape(bearer(api, expired).get(ME), status=401)


def test_expired_refresh_token_is_401(api, user):
    claims = _claims(obtain(api, user)["refresh"])
    claims["exp"] = int((timezone.now() - timedelta(seconds=1)).timestamp())
    expired = jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
    assert_error_shape(api.post(REFRESH, {"refresh": expired}, format="json"), status=401, code="token_not_valid")


def test_tampered_token_is_401(api, user, db):
    other = UserFactory()
    header, payload, signature = obtain(api, user)["access"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["user_id"] = str(other.pk)
    tampered = f"{header}.{_b64(claims)}.{signature}"
    assert_error_shape(bearer(api, tampered).get(ME), status=401)


def test_wrong_signature_is_401(api, user):
    claims = _claims(obtain(api, user)["access"])
    forged = jwt.encode(claims, "not-the-signing-key-" * 3, algorithm="HS256")
    assert_error_shape(bearer(api, forged).get(ME), status=401)
    forged_refresh = jwt.encode(_claims(obtain(api, user)["refresh"]), "x" * 64, algorithm="HS256")
    assert_error_shape(api.post(REFRESH, {"refresh": forged_refresh}, format="json"), status=401)


def test_alg_none_is_401(api, user):
    claims = _claims(obtain(api, user)["access"])
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    assert_error_shape(bearer(api, unsigned).get(ME), status=401)
    refresh_claims = _claims(obtain(api, user)["refresh"])
    unsigned_refresh = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(refresh_claims)}."
    assert_error_shape(api.post(REFRESH, {"refresh": unsigned_refresh}, format="json"), status=401)


def test_garbage_bearer_is_401(api, db):
    assert_error_shape(bearer(api, "not.a.jwt").get(ME), status=401)
    assert_error_shape(api.post(REFRESH, {"refresh": "not.a.jwt"}, format="json"), status=401)


def test_a_token_verified_before_is_refused_once_it_expires(api, user, monkeypatch):
    """A process remembers tokens it verified (accounts.authentication); the expiry is still checked every time."""
    from rest_framework_simplejwt import tokens

    from accounts import authentication

    access = obtain(api, user)["access"]
    assert bearer(api, access).get(ME).status_code == 200  # verified, and remembered

    later = timezone.now() + settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] + timedelta(seconds=1)
    monkeypatch.setattr(authentication, "aware_utcnow", lambda: later)
    monkeypatch.setattr(tokens, "aware_utcnow", lambda: later)
    assert_error_shape(bearer(api, access).get(ME), status=401)
