"""Oversized, malformed and wrong-typed JSON bodies get 400 in the error shape."""

import pytest
from django.test import override_settings

from accounts.models import ApiKey, AuthSession, Role
from accounts.tests.api.conftest import LOGOUT, OBTAIN, REFRESH, assert_error_shape, bearer, obtain
from accounts.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", [OBTAIN, REFRESH, LOGOUT])
def test_malformed_json(api, url):
    response = api.post(url, data='{"email": "a@example.com", "password": ', content_type="application/json")
    assert_error_shape(response, status=400, code="malformed_request")


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"email": ["a@example.com"], "password": "x"}, "email"),
        ({"email": "a@example.com", "password": {"p": 1}}, "password"),
        ({"email": "not-an-email", "password": "x"}, "email"),
        ({"email": "a@example.com"}, "password"),
        ({"email": "a@example.com", "password": "x", "otp": ["123456"]}, "otp"),
    ],
)
def test_wrong_typed_obtain_bodies(api, payload, field):
    response = api.post(OBTAIN, payload, format="json")
    body = assert_error_shape(response, status=400, code="validation_error")
    assert field in [e["field"] for e in body["errors"]]
    assert not AuthSession.objects.exists()


def test_json_array_instead_of_object(api):
    body = assert_error_shape(api.post(OBTAIN, [1, 2], format="json"), status=400, code="validation_error")
    assert body["errors"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_oversized_body_on_obtain(api):
    response = api.post(OBTAIN, {"email": "a@example.com", "password": "x" * 2000}, format="json")
    assert_error_shape(response, status=400, code="body_too_large")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_oversized_body_on_api_key_create(api):
    admin = MembershipFactory(role=Role.ADMIN)
    bearer(api, obtain(api, admin.user)["access"])
    response = api.post(f"/api/v1/orgs/{admin.organization_id}/api-keys/", {"name": "x" * 2000}, format="json")
    assert_error_shape(response, status=400, code="body_too_large")
    assert not ApiKey.objects.exists()


def test_malformed_json_on_api_key_create(api):
    admin = MembershipFactory(role=Role.ADMIN)
    bearer(api, obtain(api, admin.user)["access"])
    response = api.post(
        f"/api/v1/orgs/{admin.organization_id}/api-keys/", data="{name:", content_type="application/json"
    )
    assert_error_shape(response, status=400, code="malformed_request")
    assert not ApiKey.objects.exists()
