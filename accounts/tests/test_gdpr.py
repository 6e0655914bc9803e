"""GDPR: one JSON file with all of a user's data; deletion erases it and keeps an audit entry."""

import json

import pytest
from allauth.account.models import EmailAddress
from auditlog.models import LogEntry
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.contenttypes.models import ContentType
from rest_framework.test import APIClient

from accounts.models import AuthSession, LoginEvent, Membership, Organization, Profile, Role, User
from accounts.services.api_keys import api_key_create
from accounts.services.organizations import invitation_create
from accounts.services.users import user_create_defaults
from accounts.tests.factories import PASSWORD, MembershipFactory, UserFactory
from accounts.tests.reauth import age_authentications

pytestmark = pytest.mark.django_db


def _axes_records(email: str) -> int:
    return sum(m.objects.filter(username__iexact=email).count() for m in (AccessAttempt, AccessFailureLog, AccessLog))


@pytest.fixture
def person(client):
    """A user who signed in through the pages, edited their profile, is admin of a company
    with one other member, created an API key and invited someone."""
    user = UserFactory(email="person@example.com")
    user_create_defaults(user=user)
    company = MembershipFactory(user=user, role=Role.ADMIN).organization
    colleague = MembershipFactory(organization=company, role=Role.BUYER)
    client.post("/accounts/login/", {"login": user.email, "password": "not the password"})
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    client.post(
        "/settings/profile/",
        {"display_name": "Pat Person", "company": "Acme", "avatar_url": "", "timezone": "Europe/Paris"},
    )
    key = api_key_create(organization=company, name="CI key", created_by=user)
    invitation_create(organization=company, email="friend@example.com", role=Role.BUYER, actor=user)
    return {"user": user, "company": company, "colleague": colleague, "key": key}


def test_export_contains_the_users_data_and_no_secrets(client, person):
    user = person["user"]
    response = client.get("/settings/data/export/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="plateau-data-')
    data = json.loads(response.content)
    assert data["user"]["email"] == "person@example.com"
    assert data["profile"]["display_name"] == "Pat Person"
    assert data["profile"]["timezone"] == "Europe/Paris"
    assert data["email_addresses"] == [{"email": "person@example.com", "verified": True, "primary": True}]
    assert sorted((m["organization"], m["role"]) for m in data["memberships"]) == sorted(
        [("Person's workspace", "admin"), (person["company"].name, "admin")]
    )
    assert sorted(e["success"] for e in data["login_events"]) == [False, True]
    attempts = data["sign_in_attempt_records"]
    assert sum(len(records) for records in attempts.values()) == _axes_records("person@example.com") > 0
    assert all("post_data" not in record for records in attempts.values() for record in records)
    assert len(data["sessions"]) == 1
    assert [(k["name"], k["prefix"]) for k in data["api_keys_created"]] == [("CI key", person["key"].api_key.prefix)]
    assert [i["email"] for i in data["invitations_sent"]] == ["friend@example.com"]
    profile_changes = [e for e in data["audit_log"] if "display_name" in (e["changes"] or {})]
    assert profile_changes and profile_changes[0]["changes"]["display_name"][1] == "Pat Person"
    body = response.content.decode()
    assert person["key"].secret not in body
    assert person["key"].api_key.key_hash not in body
    assert user.password not in body
    assert "token_hash" not in body


def test_delete_account_erases_personal_data_and_keeps_an_audit_entry(client, person):
    user, company, colleague = person["user"], person["company"], person["colleague"]
    personal_org_id = Membership.objects.get(user=user, organization__is_personal=True).organization_id

    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    response = client.post("/settings/data/delete/", {"confirm_email": "Person@Example.com"})

    assert response.status_code == 302 and response["Location"] == "/"
    user.refresh_from_db()
    assert user.email == f"deleted-user-{user.pk}@deleted.invalid"
    assert not user.is_active and not user.has_usable_password()
    assert not Profile.objects.filter(user=user).exists()
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not Membership.objects.filter(user=user).exists()
    assert not Organization.objects.filter(pk=personal_org_id).exists()
    # The company stays, with its remaining member promoted so it keeps an admin.
    assert Organization.objects.filter(pk=company.pk).exists()
    colleague.refresh_from_db()
    assert colleague.role == Role.ADMIN
    assert not LoginEvent.objects.filter(email__iexact="person@example.com").exists()
    assert not LoginEvent.objects.filter(user=user).exists()
    assert not AuthSession.objects.filter(user=user).exists()
    assert _axes_records("person@example.com") == 0

    user_type = ContentType.objects.get_for_model(User)
    entry = LogEntry.objects.get(additional_data__event="gdpr_account_deletion")
    assert (entry.content_type, entry.object_pk, entry.action) == (user_type, str(user.pk), LogEntry.Action.DELETE)
    about_user = LogEntry.objects.filter(content_type=user_type, object_pk=str(user.pk))
    assert "person@example.com" not in json.dumps([e.changes for e in about_user] + [e.object_repr for e in about_user])

    # Logged out, and the old credentials no longer work.
    assert client.get("/settings/profile/").status_code == 302
    response = client.post("/accounts/login/", {"login": "person@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_delete_needs_a_fresh_reauthentication(client, person):
    age_authentications(client)  # signed in more than 5 minutes ago
    response = client.post("/settings/data/delete/", {"confirm_email": "person@example.com"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert User.objects.get(pk=person["user"].pk).is_active
    assert Membership.objects.filter(user=person["user"]).count() == 2


def test_delete_with_wrong_confirmation_changes_nothing(client, person):
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    response = client.post("/settings/data/delete/", {"confirm_email": "someone@example.com"})
    assert response.status_code == 400
    assert "not the email address of your account" in response.content.decode()
    user = User.objects.get(pk=person["user"].pk)
    assert user.email == "person@example.com" and user.is_active
    assert Membership.objects.filter(user=user).count() == 2
    assert not LogEntry.objects.filter(additional_data__event="gdpr_account_deletion").exists()


def test_export_and_delete_over_the_api():
    user = UserFactory(email="api-person@example.com")
    user_create_defaults(user=user)
    api = APIClient()
    api.force_authenticate(user)

    response = api.get("/api/v1/account/export/")
    assert response.status_code == 200
    assert response.json()["user"]["email"] == "api-person@example.com"
    assert response.json()["memberships"][0]["personal"] is True

    response = api.delete(
        "/api/v1/account/", {"confirm_email": "wrong@example.com", "password": "wrong password"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "confirm_email", "message": "This is not the email address of your account."},
        {"field": "password", "message": "The password is not correct."},
    ]
    assert User.objects.get(pk=user.pk).is_active

    response = api.delete(
        "/api/v1/account/", {"confirm_email": "api-person@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 204
    assert not User.objects.get(pk=user.pk).is_active
    assert not Membership.objects.filter(user=user).exists()


def test_api_key_cannot_export_or_delete_a_person():
    membership = MembershipFactory(role=Role.ADMIN)
    key = api_key_create(organization=membership.organization, name="sdk", created_by=membership.user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key.secret}")
    response = api.get("/api/v1/account/export/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    body = {"confirm_email": membership.user.email, "password": PASSWORD}
    assert api.delete("/api/v1/account/", body, format="json").status_code == 403
    assert User.objects.get(pk=membership.user_id).is_active
