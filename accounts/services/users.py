"""Writes about people: what every new user gets, profile edits."""

from django.db import transaction

from accounts.models import Membership, Organization, Profile, Role, User
from common.events import EventSource, track


def personal_organization_name(*, display_name: str, email: str) -> str:
    """"Ada's workspace": the person's first name, else the name part of their email address."""
    words = (display_name or "").split()
    first = words[0] if words else (email or "").split("@")[0] or "My"
    return f"{first[:150]}'s workspace"


@transaction.atomic
def user_create_defaults(*, user: User, display_name: str = "") -> Organization:
    """Give a new user their profile and personal organization (they are its admin),
    named after them ("Ada's workspace"; they may rename it).

    Called at sign-up (`user_signup`), by the admin, the `users` command and the demo seed;
    calling it again changes nothing.
    """
    profile, created = Profile.objects.get_or_create(user=user, defaults={"display_name": display_name.strip()[:120]})
    organization, _ = Organization.objects.get_or_create(
        slug=f"personal-{user.pk}",
        defaults={
            "name": personal_organization_name(display_name=profile.display_name, email=user.email),
            "email": user.email,
            "is_personal": True,
        },
    )
    Membership.objects.get_or_create(user=user, organization=organization, defaults={"role": Role.ADMIN})
    return organization


@transaction.atomic
def user_signup(*, user: User, display_name: str = "", source: EventSource | None = None) -> Organization:
    """A person signed up: their defaults (`user_create_defaults`), and one `signup` event
    for their personal organization, buffered when the sign-up commits."""
    organization = user_create_defaults(user=user, display_name=display_name)
    track("signup", source=source, organization_id=organization.pk, user_id=user.pk)
    return organization


def profile_update(
    *,
    user: User,
    display_name: str,
    company: str,
    avatar_url: str,
    timezone: str,
    marketing_emails: bool,
    product_emails: bool,
) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    profile.display_name = display_name
    profile.company = company
    profile.avatar_url = avatar_url
    profile.timezone = timezone
    profile.marketing_emails = marketing_emails
    profile.product_emails = product_emails
    profile.full_clean()
    profile.save()
    return profile
