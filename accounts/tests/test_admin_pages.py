"""Admin pages of people and organizations render for a staff member who passed TOTP."""

import pytest

from accounts.models import Invitation, Membership, Profile, Role, User
from accounts.services.organizations import invitation_create
from accounts.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_changelists_change_and_add_pages_render(staff_client):
    membership = MembershipFactory(role=Role.ADMIN)
    invitation, _ = invitation_create(
        organization=membership.organization, email="x@example.com", role=Role.BUYER, actor=membership.user
    )
    pages = [
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        f"/admin/accounts/user/{membership.user_id}/change/",
        "/admin/accounts/organization/",
        f"/admin/accounts/organization/{membership.organization_id}/change/",
        "/admin/accounts/membership/",
        f"/admin/accounts/membership/{membership.pk}/change/",
        "/admin/accounts/invitation/",
        f"/admin/accounts/invitation/{invitation.pk}/change/",
        "/admin/accounts/user/?q=example.com",
    ]
    for url in pages:
        assert staff_client.get(url).status_code == 200, url
    assert (
        invitation.token_hash
        not in staff_client.get(f"/admin/accounts/invitation/{invitation.pk}/change/").content.decode()
    )
    assert staff_client.get("/admin/accounts/invitation/add/").status_code == 403
    assert Invitation.objects.count() == 1


def test_staff_creates_a_user_in_the_admin(staff_client):
    response = staff_client.post(
        "/admin/accounts/user/add/",
        {"email": "made-by-staff@example.com", "password1": "a-fine-Passw0rd!", "password2": "a-fine-Passw0rd!"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(email="made-by-staff@example.com")
    assert user.check_password("a-fine-Passw0rd!")
    assert Profile.objects.filter(user=user).exists()
    assert Membership.objects.get(user=user).organization.is_personal
