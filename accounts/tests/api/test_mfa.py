"""An MFA user needs a TOTP (or recovery) code to obtain tokens."""

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

from accounts.models import AuthSession, LoginEvent
from accounts.tests.api.conftest import OBTAIN, assert_error_shape, obtain
from accounts.tests.factories import PASSWORD
from accounts.tests.totp import totp_activate, totp_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def secret(user):
    return totp_activate(user)


def _obtain(api, user, **extra):
    return api.post(OBTAIN, {"email": user.email, "password": PASSWORD, **extra}, format="json")


def test_password_alone_is_not_enough(api, user, secret):
    body = assert_error_shape(_obtain(api, user), status=401, code="mfa_required")
    assert "two-factor" in body["message"]
    assert not AuthSession.objects.exists()
    assert LoginEvent.objects.get().reason == "mfa_required"


def test_wrong_code_is_refused_and_counts_as_a_failed_login(api, user, secret):
    wrong = "000000" if totp_code(secret) != "000000" else "111111"
    assert_error_shape(_obtain(api, user, otp=wrong), status=401, code="mfa_invalid")
    assert not AuthSession.objects.exists()
    event = LoginEvent.objects.get()
    assert (event.user, event.success, event.reason) == (user, False, "invalid_otp")


def test_totp_code_gets_tokens_once(api, user, secret):
    code = totp_code(secret)
    body = obtain(api, user, otp=code)
    assert AuthSession.objects.filter(pk=body["session_id"]).exists()
    # The same code cannot be replayed within its window.
    assert_error_shape(_obtain(api, user, otp=code), status=401, code="mfa_invalid")


def test_recovery_code_works_once(api, user, secret):
    code = RecoveryCodes.activate(user).get_unused_codes()[0]
    obtain(api, user, otp=code)
    assert_error_shape(_obtain(api, user, otp=code), status=401, code="mfa_invalid")


def test_wrong_password_with_right_code_is_still_wrong(api, user, secret):
    response = api.post(
        OBTAIN, {"email": user.email, "password": "nope nope nope", "otp": totp_code(secret)}, format="json"
    )
    assert_error_shape(response, status=401, code="invalid_credentials")
