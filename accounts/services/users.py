"""Writes about people: sign-up, what every new user gets, profile edits."""

from allauth.account import app_settings as allauth_settings
from allauth.account.forms import SignupForm
from allauth.account.internal.flows.signup import complete_signup
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.utils import get_form_class
from django.db import transaction
from django.http import HttpRequest
from rest_framework.exceptions import ValidationError

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


# allauth's sign-up form fields → the API's names.
_SIGNUP_FIELD_NAMES = {"password1": "password", "password2": "password", "__all__": "non_field_errors"}


@transaction.atomic
def user_sign_up(*, request: HttpRequest, email: str, password: str, name: str = "") -> User | None:
    """Sign a person up exactly as allauth's sign-up page does, for the API.

    The same form (ACCOUNT_FORMS["signup"] with ACCOUNT_SIGNUP_FORM_CLASS: email rules,
    password validators), the same adapter (profile and personal organization), the same
    `user_signed_up` signal (billing's welcome email, anonymous purchases) and the same
    mandatory verification email; nobody is signed in. An address that already has an
    account creates nothing: allauth emails its owner instead ("account already exists"),
    and the caller cannot tell the two apart, as on the page (ACCOUNT_PREVENT_ENUMERATION).
    Returns the new user, or None for an address already taken. Invalid input: ValidationError
    naming the API's fields.
    """
    form_class = get_form_class(allauth_settings.FORMS, "signup", SignupForm)
    form = form_class(data={"email": email, "password1": password, "password2": password, "name": name})
    if not form.is_valid():
        errors: dict[str, list[str]] = {}
        for field, messages in form.errors.items():
            errors.setdefault(_SIGNUP_FIELD_NAMES.get(field, field), []).extend(messages)
        raise ValidationError(errors)
    user = None
    try:
        user, _ = form.try_save(request)
        if user is not None:
            complete_signup(request, user=user)  # sends the signal and the verification email; no login
    except ImmediateHttpResponse:
        pass  # a stage answered with a page (the verification one); the API answers on its own
    return user
