"""What every page's header shows about the signed-in member: the current organization
and the others they may switch to."""

from accounts.selectors.organizations import membership_list_for_user


def current_organization(request) -> dict:
    """One query: the user's memberships; the current one is `?org=<id>` if theirs, else their primary one."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = list(membership_list_for_user(user=user))  # primary first
    requested = (request.GET.get("org") or "").strip()
    current = next((m for m in memberships if str(m.organization_id) == requested), None) if requested else None
    current = current or (memberships[0] if memberships else None)
    return {
        "current_membership": current,
        "current_organization": current.organization if current else None,
        "switchable_memberships": sorted(memberships, key=lambda m: m.organization.name),
    }
