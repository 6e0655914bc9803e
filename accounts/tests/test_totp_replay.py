"""A TOTP code is accepted once: refused for as long as the tolerance keeps it valid."""

import time
from unittest import mock

import pytest
from allauth.mfa import app_settings
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.totp import totp_activate, totp_code

pytestmark = pytest.mark.django_db

OBTAIN = "/api/v1/auth/token/"


def _login(user, otp):
    api = APIClient()
    return api.post(OBTAIN, {"email": user.email, "password": PASSWORD, "otp": otp}, format="json")


def test_settings_accept_the_neighbouring_window():
    assert (app_settings.TOTP_PERIOD, app_settings.TOTP_TOLERANCE) == (30, 1)


@pytest.mark.parametrize("later", [31, 58])
def test_a_used_code_is_refused_while_it_is_still_valid(later, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "1000/minute"},
    }
    user = UserFactory()
    secret = totp_activate(user)
    window_start = (int(time.time()) // 30) * 30 + 1
    with mock.patch("time.time", return_value=float(window_start)):
        code = totp_code(secret)
        assert _login(user, code).status_code == 200

    # `later` seconds on, the code is still inside the tolerance (it would be accepted
    # if it had not been used), and the replay is refused.
    with mock.patch("time.time", return_value=float(window_start + later)):
        assert code in {totp_code(secret, window_offset=offset) for offset in (-1, 0, 1)}
        response = _login(user, code)

    assert response.status_code == 401
    assert response.json()["code"] == "mfa_invalid"
