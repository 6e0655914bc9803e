"""A person's access token is checked from the cache, and the cache never answers older than the last change."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import AuthSession
from accounts.services.jwt_cache import _entry_key, _generation_key, jwt_caller_get
from accounts.services.sessions import auth_session_revoke
from accounts.tests.api.conftest import ME, assert_error_shape, bearer, obtain
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _family_and_user(access: str) -> tuple[str, str]:
    token = AccessToken(access)
    return token["family"], token["user_id"]


def test_a_cached_caller_is_read_without_the_database(api, user, django_assert_num_queries):
    family, user_id = _family_and_user(obtain(api, user)["access"])
    assert jwt_caller_get(family=family, user_id=user_id).user == user  # loads and stores it

    with django_assert_num_queries(0):
        caller = jwt_caller_get(family=family, user_id=user_id)
        assert (caller.user.pk, caller.user.email, caller.user.is_active, caller.revoked) == (
            user.pk,
            user.email,
            True,
            False,
        )
    # The password hash is not in the cache: the user's password is read when asked for.
    assert user.password not in repr(cache.get(_entry_key(family)))
    with django_assert_num_queries(1):
        assert caller.user.password == user.password


def test_a_signed_out_session_is_refused_by_the_next_request(api, user):
    access = obtain(api, user)["access"]
    assert bearer(api, access).get(ME).status_code == 200  # cached now

    auth_session_revoke(auth_session=AuthSession.objects.get(user=user))

    assert_error_shape(bearer(api, access).get(ME), status=401)


def test_a_session_read_before_the_sign_out_and_stored_after_it_is_never_served(api, user):
    """The race a delete-after-commit loses: a request read the live session, the device was
    signed out, then that request stored what it had read."""
    access = obtain(api, user)["access"]
    family, user_id = _family_and_user(access)
    assert jwt_caller_get(family=family, user_id=user_id).revoked is False
    generation_seen = cache.get(_generation_key(user_id))
    live_row = cache.get(_entry_key(family))["row"]

    auth_session_revoke(auth_session=AuthSession.objects.get(user=user))
    cache.set(_entry_key(family), {"g": generation_seen, "row": live_row}, 600)  # the late writer

    assert jwt_caller_get(family=family, user_id=user_id).revoked is True
    assert_error_shape(bearer(api, access).get(ME), status=401)


def test_a_password_change_refuses_earlier_tokens_while_they_are_cached(api, user):
    access = obtain(api, user)["access"]
    assert bearer(api, access).get(ME).status_code == 200

    user.set_password("a whole new passphrase 42")
    user.save()

    assert_error_shape(bearer(api, access).get(ME), status=401)


def test_a_deactivated_user_is_refused_while_cached(api, user):
    access = obtain(api, user)["access"]
    assert bearer(api, access).get(ME).status_code == 200

    user.is_active = False
    user.save(update_fields=["is_active"])

    assert_error_shape(bearer(api, access).get(ME), status=401)


def test_a_changed_email_is_what_the_next_request_sees(api, user):
    access = obtain(api, user)["access"]
    assert bearer(api, access).get(ME).json()["email"] == user.email

    user.email = "renamed@example.com"
    user.save(update_fields=["email"])

    assert bearer(api, access).get(ME).json()["email"] == "renamed@example.com"


def test_a_token_of_another_users_family_is_refused(api, user):
    other = UserFactory()
    family, _ = _family_and_user(obtain(api, user)["access"])
    assert jwt_caller_get(family=family, user_id=str(other.pk)) is None


def test_the_devices_last_use_moves_at_most_once_a_minute(api, user, monkeypatch):
    """The device list's "last used" follows a token's use, without a write on every request."""
    access = obtain(api, user)["access"]
    session = AuthSession.objects.get(user=user)
    started = session.last_used_at

    soon = started + timedelta(seconds=20)
    monkeypatch.setattr("accounts.services.sessions.timezone.now", lambda: soon)
    assert bearer(api, access).get(ME).status_code == 200
    assert bearer(api, access).get(ME).status_code == 200
    session.refresh_from_db()
    first = session.last_used_at
    assert first in (started, soon)  # recorded at most once within the minute

    later = soon + timedelta(minutes=1, seconds=1)
    monkeypatch.setattr("accounts.services.sessions.timezone.now", lambda: later)
    assert bearer(api, access).get(ME).status_code == 200
    session.refresh_from_db()
    assert session.last_used_at == later
