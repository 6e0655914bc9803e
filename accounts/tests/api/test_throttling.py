"""Rate limits: per-IP on auth endpoints, burst + sustained per caller elsewhere; 429 carries Retry-After."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services.api_keys import api_key_create
from accounts.tests.api.conftest import ME, REFRESH, assert_error_shape
from accounts.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _rates(settings, **rates):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


def test_default_rates():
    from django.conf import settings

    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
        "burst": "20/second",
        "sustained": "100/minute",
        "auth": "10/minute",
        "features": "6000/minute",
        "events": "6000/minute",
    }


def test_auth_endpoints_allow_10_per_minute_per_ip():
    attacker = APIClient(REMOTE_ADDR="10.1.1.1")
    for _ in range(10):
        assert attacker.post(REFRESH, {"refresh": "x"}, format="json").status_code == 401

    response = attacker.post(REFRESH, {"refresh": "x"}, format="json")

    body = assert_error_shape(response, status=429, code="throttled")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "throttled" in body["message"]
    # Another address is not affected.
    assert APIClient(REMOTE_ADDR="10.1.1.2").post(REFRESH, {"refresh": "x"}, format="json").status_code == 401


def test_burst_limit_per_user(settings):
    _rates(settings, burst="3/second")
    alice, bob = APIClient(), APIClient()
    alice.force_authenticate(MembershipFactory().user)
    bob.force_authenticate(MembershipFactory().user)
    for _ in range(3):
        assert alice.get(ME).status_code == 200

    response = alice.get(ME)

    assert_error_shape(response, status=429, code="throttled")
    assert response["Retry-After"] == "1"
    assert bob.get(ME).status_code == 200


def test_sustained_limit_per_user(settings):
    _rates(settings, sustained="5/minute")
    client = APIClient()
    client.force_authenticate(MembershipFactory().user)
    for _ in range(5):
        assert client.get(ME).status_code == 200

    response = client.get(ME)

    assert_error_shape(response, status=429, code="throttled")
    # The window opened at the caller's first request, moments ago: nearly all of it is left.
    assert 55 <= int(response["Retry-After"]) <= 60


def test_api_keys_have_their_own_bucket(settings):
    _rates(settings, burst="2/second")
    admin = MembershipFactory(role=Role.ADMIN)
    first = api_key_create(organization=admin.organization, name="a", created_by=admin.user)
    second = api_key_create(organization=admin.organization, name="b", created_by=admin.user)
    one = APIClient(HTTP_AUTHORIZATION=f"Api-Key {first.secret}")
    for _ in range(2):
        assert one.get("/api/v1/auth/api-key/").status_code == 200

    assert one.get("/api/v1/auth/api-key/").status_code == 429
    assert APIClient(HTTP_AUTHORIZATION=f"Api-Key {second.secret}").get("/api/v1/auth/api-key/").status_code == 200
