from django.http import Http404

from accounts.models import Membership, Organization


def organization_get_for_member(*, user, organization_id) -> Organization:
    """The organization if `user` is a member of it; 404 otherwise.

    Non-members get the same answer as for an organization that does not exist, so
    ids of other customers' organizations cannot be probed.
    """
    try:
        return Organization.objects.get(pk=int(organization_id), memberships__user=user)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404("No such organization.") from None


def membership_get(*, user, organization) -> Membership | None:
    return Membership.objects.filter(user=user, organization=organization).first()


def membership_primary(*, user) -> Membership | None:
    """The membership that speaks for the user by default: their personal org, else the oldest."""
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("-organization__is_personal", "created_at", "id")
        .first()
    )
