"""Reads for operators' commands (export_users, users list): every user, streamed."""

from collections.abc import Iterator

from django.db.models import Prefetch, QuerySet

from accounts.models import Membership, User


def user_list_for_operators(*, role: str = "", organization: str = "", staff: bool | None = None) -> QuerySet[User]:
    """Users by id, with profile and memberships prefetched; filtered by a role in an
    organization and by an organization's slug (or id)."""
    users = User.objects.select_related("profile").order_by("id")
    memberships = Membership.objects.select_related("organization").order_by("id")
    # One filter() call: the role must be held in that organization, by the same membership.
    membership = {}
    if organization:
        key = "memberships__organization__id" if organization.isdigit() else "memberships__organization__slug"
        membership[key] = int(organization) if organization.isdigit() else organization
    if role:
        membership["memberships__role"] = role
    if membership:
        users = users.filter(**membership)
    if staff is not None:
        users = users.filter(is_staff=staff)
    return users.distinct().prefetch_related(Prefetch("memberships", queryset=memberships))


def user_export_rows(*, users: QuerySet[User], chunk_size: int) -> Iterator[dict]:
    """One plain dict per user, read `chunk_size` users at a time (memberships prefetched per chunk)."""
    for user in users.iterator(chunk_size=chunk_size):
        profile = getattr(user, "profile", None)
        yield {
            "id": user.pk,
            "email": user.email,
            "is_active": user.is_active,
            "is_staff": user.is_staff,
            "is_superuser": user.is_superuser,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "display_name": profile.display_name if profile else "",
            "company": profile.company if profile else "",
            "memberships": [
                {"organization": m.organization.slug, "organization_name": m.organization.name, "role": m.role}
                for m in user.memberships.all()
            ],
        }
