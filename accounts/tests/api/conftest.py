import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import PASSWORD, MembershipFactory

OBTAIN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"


@pytest.fixture
def api():
    return APIClient(REMOTE_ADDR="10.0.0.1", HTTP_USER_AGENT="pytest-sdk/1.0")


@pytest.fixture
def membership(db):
    return MembershipFactory(role=Role.SELLER)


@pytest.fixture
def user(membership):
    return membership.user


def obtain(api, user, **extra):
    response = api.post(OBTAIN, {"email": user.email, "password": PASSWORD, **extra}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def bearer(api, access):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return api


def assert_error_shape(response, *, status: int, code: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"status", "code", "message", "errors", "request_id"}
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body
