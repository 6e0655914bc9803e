"""Writes about organizations: creation, members and roles, invitations by email.

Permission rules live here (only an org admin manages members and invitations; an
org always keeps one admin) so the pages and the API enforce the same ones.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.errors import (
    AlreadyMember,
    InvitationEmailMismatch,
    InvitationInvalid,
    LastAdminRemoval,
    OrganizationAdminRequired,
    OrganizationNameInvalid,
    PersonalOrganizationLocked,
)
from accounts.models import Invitation, Membership, Organization, Role, User
from common.outbox import outbox_enqueue


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def organization_require_admin(*, organization: Organization, actor: User) -> None:
    """Refuse (403) unless `actor` is an admin of `organization`."""
    if not Membership.objects.filter(organization=organization, user=actor, role=Role.ADMIN).exists():
        raise OrganizationAdminRequired()


def _other_admins_exist(*, membership: Membership) -> bool:
    return (
        Membership.objects.filter(organization_id=membership.organization_id, role=Role.ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def organization_create(*, name: str, creator: User, email: str = "") -> Organization:
    """A company organization; its creator is its first admin."""
    base = slugify(name)[:60] or "org"
    organization = Organization.objects.create(
        name=name,
        slug=f"{base}-{secrets.token_hex(3)}",
        email=email or creator.email,
        is_personal=False,
    )
    Membership.objects.create(organization=organization, user=creator, role=Role.ADMIN)
    return organization


# "Last used" moves at most this often from browsing with ?org=: one UPDATE a minute, not one a page.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def membership_mark_used(*, user: User, organization_id: int, force: bool = False) -> bool:
    """The user chose this organization: it becomes the one they land on after sign-in.

    One conditional UPDATE (nothing for a non-member); without `force`, a choice repeated
    within a minute writes nothing.
    """
    now = timezone.now()
    rows = Membership.objects.filter(user=user, organization_id=organization_id)
    if not force:
        rows = rows.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION))
    return bool(rows.update(last_used_at=now))


def organization_rename(*, organization: Organization, name: str, actor: User) -> Organization:
    """An admin renames the organization (personal ones too: "Ada's workspace" is only a default)."""
    organization_require_admin(organization=organization, actor=actor)
    name = " ".join(name.split())
    if not name:
        raise OrganizationNameInvalid()
    Organization.objects.filter(pk=organization.pk).update(name=name[: Organization._meta.get_field("name").max_length])
    organization.refresh_from_db(fields=["name"])
    return organization


def _lock_organization(organization_id: int) -> None:
    """Serialise membership changes of one organization, so two admins demoting each
    other at the same moment cannot leave it without an admin."""
    Organization.objects.select_for_update().filter(pk=organization_id).first()


@transaction.atomic
def membership_role_change(*, membership: Membership, role: str, actor: User) -> Membership:
    _lock_organization(membership.organization_id)
    organization_require_admin(organization=membership.organization, actor=actor)
    membership = Membership.objects.get(pk=membership.pk)
    if membership.role == Role.ADMIN and role != Role.ADMIN and not _other_admins_exist(membership=membership):
        raise LastAdminRemoval()
    membership.role = Role(role)
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User) -> None:
    """An admin removes a member, or a member leaves (removes themself)."""
    _lock_organization(membership.organization_id)
    if membership.user_id != actor.pk:
        organization_require_admin(organization=membership.organization, actor=actor)
    membership = Membership.objects.get(pk=membership.pk)
    if membership.role == Role.ADMIN and not _other_admins_exist(membership=membership):
        raise LastAdminRemoval()
    membership.delete()


def invitation_create(*, organization: Organization, email: str, role: str, actor: User) -> tuple[Invitation, str]:
    """Invite `email`; returns the invitation and the one-time token for the link.

    Only the SHA-256 of the token is stored, so a database leak reveals no usable link.
    The email goes out through the outbox (Celery) once the invitation is committed.
    """
    organization_require_admin(organization=organization, actor=actor)
    if organization.is_personal:
        raise PersonalOrganizationLocked()
    email = email.strip().lower()
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise AlreadyMember()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        # A new invitation to the same address replaces any still-open one.
        Invitation.objects.filter(
            organization=organization, email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        invitation = Invitation.objects.create(
            organization=organization,
            email=email,
            role=Role(role),
            token_hash=invitation_token_hash(token),
            invited_by=actor,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_EXPIRY_DAYS),
        )
        # Through the outbox: a broker outage delays the email, it neither fails the request nor loses it.
        outbox_enqueue(
            key=f"invitation_email:{invitation.pk}",
            handler="accounts.services.organizations.invitation_send_email",
            kwargs={"invitation_id": invitation.pk, "token": token},
            redact_when_done=True,
        )
    return invitation, token


def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    organization_require_admin(organization=invitation.organization, actor=actor)
    Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    invitation.refresh_from_db()
    return invitation


def invitation_get_open(*, token: str) -> Invitation:
    """The invitation a link's token opens, if it is still usable."""
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=invitation_token_hash(token), accepted_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if invitation is None or invitation.expires_at <= timezone.now():
        raise InvitationInvalid()
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    invitation = invitation_get_open(token=token)
    if invitation.email.lower() != user.email.lower():
        raise InvitationEmailMismatch()
    # Conditional update: of two concurrent accepts of one link exactly one proceeds.
    if not Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(accepted_at=timezone.now()):
        raise InvitationInvalid()
    membership, created = Membership.objects.get_or_create(
        organization=invitation.organization, user=user, defaults={"role": invitation.role}
    )
    if not created:
        raise AlreadyMember()
    return membership


def invitation_send_email(*, invitation_id: int, token: str) -> bool:
    """Send the invitation email; a revoked, accepted or expired invitation sends nothing."""
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if invitation is None or invitation.token_hash != invitation_token_hash(token):
        return False
    context = {
        "invitation": invitation,
        "accept_url": settings.SITE_URL.rstrip("/") + reverse("accounts:invitation_accept", args=[token]),
    }
    send_mail(
        subject=f"You are invited to join {invitation.organization.name} on Plateau",
        message=render_to_string("accounts/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )
    return True
