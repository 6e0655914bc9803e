"""Writes about people: what every new user gets, profile edits."""

from django.db import transaction

from accounts.models import Membership, Organization, Profile, Role, User


@transaction.atomic
def user_create_defaults(*, user: User) -> Organization:
    """Give a new user their profile and personal organization (they are its admin).

    Called by the sign-up adapter and the demo seed; calling it again changes nothing.
    """
    Profile.objects.get_or_create(user=user)
    organization, _ = Organization.objects.get_or_create(
        slug=f"personal-{user.pk}",
        defaults={"name": f"{user.email} (personal)", "email": user.email, "is_personal": True},
    )
    Membership.objects.get_or_create(user=user, organization=organization, defaults={"role": Role.ADMIN})
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
