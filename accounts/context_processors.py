"""What every page's header shows about the signed-in member: the current organization
and the others they may switch to."""

from accounts.selectors.organizations import membership_current, membership_list_for_user_by_name


def current_organization(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def memberships():
        return list(membership_list_for_user_by_name(user=user))

    current = membership_current(user=user, requested_organization_id=request.GET.get("org"))
    return {
        "current_membership": current,
        "current_organization": current.organization if current else None,
        # Evaluated only by templates that show the switcher.
        "switchable_memberships": memberships,
    }
