"""Hostile input found by the security review answers 400 in the error shape, never 500."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Invitation, Role
from accounts.tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def _assert_error_shape(response, *, status: int, code: str):
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"status", "code", "message", "errors", "request_id"}
    assert (body["status"], body["code"]) == (status, code)
    return body


def test_deeply_nested_json_on_the_token_endpoint_is_400():
    body = "[" * 200_000
    response = APIClient().post("/api/v1/auth/token/", data=body, content_type="application/json")
    body = _assert_error_shape(response, status=400, code="body_too_deep")
    assert body["message"] == "Request body is nested too deeply."


def test_json_nested_deeper_than_32_levels_is_400_before_any_view_walks_it():
    nested = '{"email": ' + "[" * 40 + "]" * 40 + ', "password": "x"}'
    response = APIClient().post("/api/v1/auth/token/", data=nested, content_type="application/json")
    _assert_error_shape(response, status=400, code="body_too_deep")


def test_nul_in_a_query_parameter_is_400_on_the_api():
    member = MembershipFactory(role=Role.ADMIN)
    api = APIClient()
    api.force_authenticate(member.user)
    response = api.get("/api/v1/customers/?email=a%00b")
    body = _assert_error_shape(response, status=400, code="malformed_request")
    assert body["message"] == "The request contains a NUL character."


def test_nul_in_a_page_query_or_form_is_400():
    client = Client()
    assert client.get("/learn/?q=a%00b").status_code == 400
    assert client.get("/marketplace/?q=%00").status_code == 400
    response = client.post("/accounts/login/", {"login": "a\x00@example.com", "password": "x"})
    assert response.status_code == 400


def test_invitation_email_longer_than_254_characters_is_400_and_nothing_is_stored():
    admin = MembershipFactory(role=Role.ADMIN, organization=OrganizationFactory())
    api = APIClient()
    api.force_authenticate(admin.user)
    email = "a" * 250 + "@example.com"

    response = api.post(f"/api/v1/orgs/{admin.organization_id}/invitations/", {"email": email}, format="json")

    body = _assert_error_shape(response, status=400, code="validation_error")
    assert body["errors"] == [{"field": "email", "message": "Ensure this field has no more than 254 characters."}]
    assert not Invitation.objects.exists()


def test_invitation_form_refuses_an_overlong_email_too(client):
    admin = MembershipFactory(role=Role.ADMIN)
    client.force_login(admin.user)
    response = client.post(
        f"/settings/organizations/{admin.organization_id}/invitations/", {"email": "a" * 250 + "@example.com"}
    )
    assert response.status_code == 400
    assert not Invitation.objects.exists()
