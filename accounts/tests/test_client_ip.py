"""One client address for throttles, lockout and login history.

X-Forwarded-For is believed only as far as trusted proxies wrote it.
"""

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from accounts.models import LoginEvent
from accounts.tests.factories import PASSWORD, UserFactory
from common.client_ip import client_ip

OBTAIN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"


def _request(remote: str = "10.0.0.5", xff: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_socket_address_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request("10.0.0.5", xff="1.2.3.4")) == "10.0.0.5"


def test_with_one_trusted_proxy_the_rightmost_forwarded_address_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote "6.6.6.6" itself; our proxy appended the address it saw.
    assert client_ip(_request("10.0.0.1", xff="6.6.6.6, 203.0.113.7")) == "203.0.113.7"


def test_with_two_trusted_proxies_the_second_from_the_right(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request("10.0.0.1", xff="6.6.6.6, 203.0.113.7, 10.0.0.2")) == "203.0.113.7"


def test_too_few_hops_or_garbage_fall_back_to_the_socket(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request("10.0.0.1", xff="203.0.113.7")) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request("10.0.0.1", xff="not-an-ip")) is None


@pytest.mark.django_db
def test_auth_rate_limit_ignores_made_up_forwarded_for():
    """12 token requests from one address with random X-Forwarded-For: the 11th is throttled."""
    codes = []
    for n in range(12):
        api = APIClient(REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR=f"10.9.{n}.{n}")
        codes.append(api.post(REFRESH, {"refresh": "x"}, format="json").status_code)
    assert codes == [401] * 10 + [429, 429]


@pytest.mark.django_db
def test_login_history_and_lockout_record_the_same_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    user = UserFactory()
    api = APIClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert api.post(OBTAIN, {"email": user.email, "password": "wrong password"}, format="json").status_code == 401
    assert api.post(OBTAIN, {"email": user.email, "password": PASSWORD}, format="json").status_code == 200

    from axes.models import AccessFailureLog

    assert list(LoginEvent.objects.order_by("id").values_list("ip_address", "success")) == [
        ("203.0.113.7", False),
        ("203.0.113.7", True),
    ]
    assert list(AccessFailureLog.objects.values_list("ip_address", flat=True)) == ["203.0.113.7"]
