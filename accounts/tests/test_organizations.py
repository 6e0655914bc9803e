"""Organizations: invitations by email (hashed token, expiry, revoke, accept) and roles."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.errors import LastAdminRemoval, OrganizationAdminRequired
from accounts.models import Invitation, Membership, Role
from accounts.services.organizations import invitation_create, membership_remove, membership_role_change
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_membership():
    return MembershipFactory(role=Role.ADMIN)


def _invite(client, organization, email, role="seller"):
    return client.post(f"/settings/organizations/{organization.pk}/invitations/", {"email": email, "role": role})


def test_admin_invites_by_email_token_stored_hashed(client, admin_membership, django_capture_on_commit_callbacks):
    client.force_login(admin_membership.user)
    organization = admin_membership.organization

    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(client, organization, "Friend@Example.com")

    assert response.status_code == 302
    invitation = Invitation.objects.get(organization=organization)
    assert invitation.email == "friend@example.com"
    assert invitation.role == Role.SELLER
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["friend@example.com"]
    token = re.search(r"/settings/invitations/([\w-]+)/", mail.outbox[0].body).group(1)
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in invitation.token_hash


def test_invitation_accept_flow(client, admin_membership, django_capture_on_commit_callbacks):
    organization = admin_membership.organization
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            organization=organization, email="friend@example.com", role=Role.SELLER, actor=admin_membership.user
        )
    link = re.search(r"http://127\.0\.0\.1:8000(/settings/invitations/[\w-]+/)", mail.outbox[0].body).group(1)

    # Not signed in: the link leads to the login page and back.
    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/settings/invitations/")

    friend = UserFactory(email="friend@example.com")
    client.force_login(friend)
    response = client.get(link)
    assert response.status_code == 200
    assert f"Join {organization.name}" in response.content.decode()

    response = client.post(link)
    assert response.status_code == 302
    assert Membership.objects.get(organization=organization, user=friend).role == Role.SELLER
    assert Invitation.objects.get().accepted_at is not None

    # A used link cannot be used again.
    assert client.post(link).status_code == 410
    assert Membership.objects.filter(organization=organization).count() == 2


def test_invitation_for_another_address_is_refused(client, admin_membership):
    invitation, token = invitation_create(
        organization=admin_membership.organization,
        email="friend@example.com",
        role=Role.BUYER,
        actor=admin_membership.user,
    )
    stranger = UserFactory(email="stranger@example.com")
    client.force_login(stranger)
    response = client.post(f"/settings/invitations/{token}/")
    assert response.status_code == 403
    assert not Membership.objects.filter(user=stranger).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


@pytest.mark.parametrize("state", ["expired", "revoked", "tampered"])
def test_expired_revoked_or_wrong_token_is_gone(client, admin_membership, state):
    invitation, token = invitation_create(
        organization=admin_membership.organization,
        email="friend@example.com",
        role=Role.BUYER,
        actor=admin_membership.user,
    )
    if state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif state == "revoked":
        client.force_login(admin_membership.user)
        revoke_url = f"/settings/organizations/{admin_membership.organization_id}/invitations/{invitation.pk}/revoke/"
        assert client.post(revoke_url).status_code == 302
    else:
        token = token[:-2] + ("aa" if not token.endswith("aa") else "bb")
    friend = UserFactory(email="friend@example.com")
    client.force_login(friend)
    response = client.post(f"/settings/invitations/{token}/")
    assert response.status_code == 410
    assert "cannot be used" in response.content.decode()
    assert not Membership.objects.filter(user=friend).exists()


def test_non_admin_cannot_invite_and_nothing_is_created(client):
    buyer = MembershipFactory(role=Role.BUYER)
    client.force_login(buyer.user)
    response = _invite(client, buyer.organization, "friend@example.com")
    assert response.status_code == 403
    assert "Only admins" in response.content.decode()
    assert Invitation.objects.count() == 0
    with pytest.raises(OrganizationAdminRequired):
        invitation_create(organization=buyer.organization, email="x@example.com", role=Role.BUYER, actor=buyer.user)


def test_personal_organization_takes_no_invitations(client):
    user = UserFactory()
    personal = OrganizationFactory(is_personal=True)
    MembershipFactory(user=user, organization=personal, role=Role.ADMIN)
    client.force_login(user)
    assert _invite(client, personal, "friend@example.com").status_code == 409
    assert Invitation.objects.count() == 0


def test_last_admin_can_be_neither_demoted_nor_removed(admin_membership):
    with pytest.raises(LastAdminRemoval):
        membership_role_change(membership=admin_membership, role=Role.BUYER, actor=admin_membership.user)
    with pytest.raises(LastAdminRemoval):
        membership_remove(membership=admin_membership, actor=admin_membership.user)
    admin_membership.refresh_from_db()
    assert admin_membership.role == Role.ADMIN


def test_admin_changes_role_and_removes_member_on_the_page(client, admin_membership):
    member = MembershipFactory(organization=admin_membership.organization, role=Role.BUYER)
    client.force_login(admin_membership.user)
    base = f"/settings/organizations/{admin_membership.organization_id}/members/{member.pk}"

    assert client.post(f"{base}/role/", {"role": "seller"}).status_code == 302
    member.refresh_from_db()
    assert member.role == Role.SELLER
    assert client.post(f"{base}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_members_page_lists_members_and_hides_admin_controls_from_buyers(client, admin_membership):
    buyer = MembershipFactory(organization=admin_membership.organization, role=Role.BUYER)
    client.force_login(buyer.user)
    html = client.get(f"/settings/organizations/{admin_membership.organization_id}/").content.decode()
    assert admin_membership.user.email in html and buyer.user.email in html
    assert "Send invitation" not in html
    assert "Remove</button>" not in html


def test_non_member_gets_404_for_every_org_page(client, admin_membership):
    organization = admin_membership.organization
    member = MembershipFactory(organization=organization, role=Role.BUYER)
    outsider = MembershipFactory(role=Role.ADMIN)  # admin of their own org only
    invitation, _ = invitation_create(
        organization=organization, email="friend@example.com", role=Role.BUYER, actor=admin_membership.user
    )
    client.force_login(outsider.user)
    base = f"/settings/organizations/{organization.pk}"
    assert client.get(f"{base}/").status_code == 404
    assert client.post(f"{base}/invitations/", {"email": "x@example.com", "role": "admin"}).status_code == 404
    assert client.post(f"{base}/invitations/{invitation.pk}/revoke/").status_code == 404
    assert client.post(f"{base}/members/{member.pk}/role/", {"role": "admin"}).status_code == 404
    assert client.post(f"{base}/members/{member.pk}/remove/").status_code == 404
    member.refresh_from_db()
    invitation.refresh_from_db()
    assert member.role == Role.BUYER and invitation.revoked_at is None
    assert Invitation.objects.count() == 1
