from django.db.models import F, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Invitation, Membership, Organization


def organization_get_for_member(*, user, organization_id) -> Organization:
    """The organization if `user` is a member of it; 404 otherwise.

    Non-members get the same answer as for an organization that does not exist, so
    ids of other customers' organizations cannot be probed.
    """
    try:
        return Organization.objects.get(pk=int(organization_id), memberships__user=user)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404("No such organization.") from None


def membership_get_for_member(*, user, organization_id, membership_id) -> Membership:
    """A membership of an organization `user` belongs to; 404 otherwise, as for the organization."""
    organization = organization_get_for_member(user=user, organization_id=organization_id)
    return get_object_or_404(
        Membership.objects.select_related("user", "organization"), pk=membership_id, organization=organization
    )


def invitation_get_for_member(*, user, organization_id, invitation_id) -> Invitation:
    """An invitation of an organization `user` belongs to; 404 otherwise, as for the organization."""
    organization = organization_get_for_member(user=user, organization_id=organization_id)
    return get_object_or_404(Invitation, pk=invitation_id, organization=organization)


def membership_get(*, user, organization) -> Membership | None:
    return Membership.objects.filter(user=user, organization=organization).first()


def membership_primary(*, user) -> Membership | None:
    """The membership that speaks for the user by default (the current organization):
    the one they used last, else their personal org, else the oldest."""
    return membership_list_for_user(user=user).first()


def organization_id_primary(*, user_id: int | None) -> int | None:
    """The id of the organization that speaks for a user by default (`membership_primary`); None signed out."""
    if user_id is None:
        return None
    return (
        Membership.objects.filter(user_id=user_id)
        .order_by(F("last_used_at").desc(nulls_last=True), "-organization__is_personal", "created_at", "id")
        .values_list("organization_id", flat=True)
        .first()
    )


def membership_list_for_user(*, user) -> QuerySet[Membership]:
    """Every organization the user belongs to, as memberships: the one used last first,
    then their personal one, then by age."""
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by(F("last_used_at").desc(nulls_last=True), "-organization__is_personal", "created_at", "id")
    )


def membership_current(*, user, requested_organization_id=None) -> Membership | None:
    """The organization a page is about: `?org=<id>` when the user belongs to it, else their primary one."""
    if requested_organization_id:
        try:
            chosen = Membership.objects.select_related("organization").filter(
                user=user, organization_id=int(requested_organization_id)
            )
        except (TypeError, ValueError):
            chosen = Membership.objects.none()
        membership = chosen.first()
        if membership is not None:
            return membership
    return membership_primary(user=user)


def membership_list_for_user_by_name(*, user) -> QuerySet[Membership]:
    """The user's memberships in alphabetical order of organization, for pickers and listings."""
    return Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")


def membership_list(*, organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user", "user__profile").order_by("id")


def invitation_list_open(*, organization) -> QuerySet[Invitation]:
    """Invitations still waiting for an answer (not accepted, revoked or expired)."""
    return (
        Invitation.objects.filter(
            organization=organization,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("invited_by")
        .order_by("-created_at")
    )
