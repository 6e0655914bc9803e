"""/api/v1/orgs/<org_id>/members|invitations/: members manage their own org only."""

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import Invitation, Membership, Role
from accounts.services.organizations import invitation_create
from accounts.tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def org_a():
    return MembershipFactory(role=Role.ADMIN).organization


@pytest.fixture
def org_b():
    admin = MembershipFactory(role=Role.ADMIN)
    member = MembershipFactory(organization=admin.organization, role=Role.BUYER)
    invitation, _ = invitation_create(
        organization=admin.organization, email="invitee@example.com", role=Role.SELLER, actor=admin.user
    )
    return {"org": admin.organization, "admin": admin, "member": member, "invitation": invitation}


def test_admin_lists_creates_and_deletes(api, org_b, django_capture_on_commit_callbacks):
    org = org_b["org"]
    api.force_authenticate(org_b["admin"].user)

    response = api.get(f"/api/v1/orgs/{org.pk}/members/")
    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert [m["email"] for m in response.json()["results"]] == [org_b["admin"].user.email, org_b["member"].user.email]

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/v1/orgs/{org.pk}/invitations/", {"email": "new@example.com", "role": "buyer"}, format="json"
        )
    assert response.status_code == 201
    assert response.json()["email"] == "new@example.com"
    assert response.json()["invited_by"] == org_b["admin"].user.email
    assert "token" not in response.json() and "token_hash" not in response.json()
    assert mail.outbox[-1].to == ["new@example.com"]

    listed = api.get(f"/api/v1/orgs/{org.pk}/invitations/").json()
    assert sorted(i["email"] for i in listed["results"]) == ["invitee@example.com", "new@example.com"]

    response = api.patch(f"/api/v1/orgs/{org.pk}/members/{org_b['member'].pk}/", {"role": "seller"}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "seller"
    assert api.delete(f"/api/v1/orgs/{org.pk}/invitations/{org_b['invitation'].pk}/").status_code == 204
    assert api.delete(f"/api/v1/orgs/{org.pk}/members/{org_b['member'].pk}/").status_code == 204
    assert not Membership.objects.filter(pk=org_b["member"].pk).exists()


def test_buyer_sees_members_but_cannot_manage(api, org_b):
    org = org_b["org"]
    api.force_authenticate(org_b["member"].user)
    response = api.get(f"/api/v1/orgs/{org.pk}/members/")
    assert response.status_code == 200
    assert [(m["email"], m["role"]) for m in response.json()["results"]] == [
        (org_b["admin"].user.email, "admin"),
        (org_b["member"].user.email, "buyer"),
    ]
    response = api.post(f"/api/v1/orgs/{org.pk}/invitations/", {"email": "x@example.com"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "organization_admin_required"
    response = api.patch(f"/api/v1/orgs/{org.pk}/members/{org_b['admin'].pk}/", {"role": "buyer"}, format="json")
    assert response.status_code == 403
    assert Invitation.objects.filter(organization=org).count() == 1
    assert Membership.objects.get(pk=org_b["admin"].pk).role == Role.ADMIN


def test_member_of_org_a_gets_404_for_every_org_b_resource(api, org_a, org_b):
    outsider = Membership.objects.get(organization=org_a).user
    api.force_authenticate(outsider)
    org = org_b["org"]
    member, invitation = org_b["member"], org_b["invitation"]
    calls = [
        ("get", f"/api/v1/orgs/{org.pk}/members/", None),
        ("patch", f"/api/v1/orgs/{org.pk}/members/{member.pk}/", {"role": "admin"}),
        ("delete", f"/api/v1/orgs/{org.pk}/members/{member.pk}/", None),
        ("get", f"/api/v1/orgs/{org.pk}/invitations/", None),
        ("post", f"/api/v1/orgs/{org.pk}/invitations/", {"email": "spy@example.com", "role": "admin"}),
        ("delete", f"/api/v1/orgs/{org.pk}/invitations/{invitation.pk}/", None),
        # Org A's URL with org B's objects: still nothing.
        ("patch", f"/api/v1/orgs/{org_a.pk}/members/{member.pk}/", {"role": "admin"}),
        ("delete", f"/api/v1/orgs/{org_a.pk}/invitations/{invitation.pk}/", None),
    ]
    for method, url, body in calls:
        response = getattr(api, method)(url, body, format="json")
        assert response.status_code == 404, (method, url)
        assert response.json()["code"] == "not_found"
    member.refresh_from_db()
    invitation.refresh_from_db()
    assert member.role == Role.BUYER
    assert invitation.revoked_at is None
    assert not Invitation.objects.filter(email="spy@example.com").exists()
    assert not Membership.objects.filter(user=outsider, organization=org).exists()


def test_accept_invitation_over_api(api, org_b):
    admin = org_b["admin"]
    _, token = invitation_create(
        organization=org_b["org"], email="joiner@example.com", role=Role.SELLER, actor=admin.user
    )
    joiner = MembershipFactory(user__email="joiner@example.com").user
    api.force_authenticate(joiner)
    response = api.post("/api/v1/invitations/accept/", {"token": token}, format="json")
    assert response.status_code == 201
    assert response.json() == {"organization_id": org_b["org"].pk, "role": "seller"}
    response = api.post("/api/v1/invitations/accept/", {"token": token}, format="json")
    assert response.status_code == 410
    assert response.json()["code"] == "invitation_invalid"


def test_anonymous_is_401(api, org_b):
    assert api.get(f"/api/v1/orgs/{org_b['org'].pk}/members/").status_code == 401


def test_jwt_from_the_token_endpoint_works_on_org_routes(api, org_b):
    admin = org_b["admin"].user
    tokens = api.post("/api/v1/auth/token/", {"email": admin.email, "password": PASSWORD}, format="json")
    assert tokens.status_code == 200, tokens.json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
    response = api.get(f"/api/v1/orgs/{org_b['org'].pk}/members/")
    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_member_and_invitation_lists_take_constant_queries(api, org_b, django_assert_num_queries):
    org = org_b["org"]
    api.force_authenticate(org_b["admin"].user)
    api.get(f"/api/v1/orgs/{org.pk}/members/")  # warm up content types, throttles' cache
    with django_assert_num_queries(3) as few:
        api.get(f"/api/v1/orgs/{org.pk}/members/")
    for n in range(10):
        MembershipFactory(organization=org)
        invitation_create(organization=org, email=f"more{n}@example.com", role=Role.BUYER, actor=org_b["admin"].user)
    with django_assert_num_queries(len(few.captured_queries)):
        assert api.get(f"/api/v1/orgs/{org.pk}/members/").json()["count"] == 12
    with django_assert_num_queries(len(few.captured_queries)):
        assert api.get(f"/api/v1/orgs/{org.pk}/invitations/").json()["count"] == 11
