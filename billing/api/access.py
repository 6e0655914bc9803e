"""Who is asking for which customer: API keys speak for their organization, people for theirs."""

from django.http import Http404
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from accounts.models import ApiKey, Membership, Organization, Role
from accounts.selectors.organizations import membership_get, organization_get_for_member


class IsMemberOrApiKey(BasePermission):
    """A signed-in person (JWT or session) or an organization's API key."""

    def has_permission(self, request, view):
        return isinstance(request.auth, ApiKey) or bool(request.user and request.user.is_authenticated)


def customer_resolve(*, request, customer_id: int) -> Organization:
    """The organization `customer_id` names, if the caller may act for it; 404 otherwise.

    Another customer's id gets the same answer as an id that does not exist.
    """
    if isinstance(request.auth, ApiKey):
        if request.auth.organization_id != customer_id:
            raise Http404("No such customer.")
        return request.auth.organization
    return organization_get_for_member(user=request.user, organization_id=customer_id)


def customer_from_query(request) -> Organization:
    """customer_resolve for the `?customer=<id>` query parameter; a missing or malformed id is 404 too."""
    try:
        customer_id = int(request.query_params.get("customer", ""))
    except ValueError:
        raise Http404("No such customer.") from None
    return customer_resolve(request=request, customer_id=customer_id)


def member_resolve(*, request, organization: Organization, user_id: int | None) -> int | None:
    """The member a per-member use is counted for: the one named (who must belong to the org), else the caller."""
    if user_id is None:
        return None if isinstance(request.auth, ApiKey) else request.user.pk
    if not isinstance(request.auth, ApiKey) and user_id == request.user.pk:
        return user_id
    if not Membership.objects.filter(organization=organization, user_id=user_id).exists():
        raise Http404("No such member.")
    return user_id


def require_org_admin(*, request, organization: Organization) -> None:
    """What the organization pays and who it bills is changed by its admins (or staff), not members or keys."""
    if isinstance(request.auth, ApiKey):
        raise PermissionDenied("Billing is changed by people, not API keys.")
    if request.user.is_staff:
        return
    membership = membership_get(user=request.user, organization=organization)
    if membership is None or membership.role != Role.ADMIN:
        raise PermissionDenied("Only the organization's admins can change its billing.")
