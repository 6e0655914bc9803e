"""Demo data for accounts, loaded by `manage.py seed_demo` (and so by `make run`).

Idempotent: a second run finds everything in place and changes nothing.
"""

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.models import Membership, Organization, Role, User
from accounts.services.users import user_create_defaults

DEMO_PASSWORD = "plateau-demo-2024"
STAFF_EMAIL = "staff@plateau.test"
CUSTOMER_EMAIL = "customer@plateau.test"
DEMO_ORGANIZATION_SLUG = "acme-ai"


def _demo_user(*, email: str, is_staff: bool) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, is_staff=is_staff, is_superuser=is_staff)
    user_create_defaults(user=user)
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


@transaction.atomic
def seed_demo() -> list[str]:
    """Create the demo people and organization; returns lines describing the credentials."""
    _demo_user(email=STAFF_EMAIL, is_staff=True)
    customer = _demo_user(email=CUSTOMER_EMAIL, is_staff=False)
    acme, _ = Organization.objects.get_or_create(
        slug=DEMO_ORGANIZATION_SLUG, defaults={"name": "Acme AI", "email": "billing@acme-ai.test"}
    )
    Membership.objects.get_or_create(user=customer, organization=acme, defaults={"role": Role.ADMIN})
    return [
        f"Staff (admin site, asks to set up TOTP on first visit): {STAFF_EMAIL} / {DEMO_PASSWORD}",
        f"Customer (admin of organization '{acme.name}'): {CUSTOMER_EMAIL} / {DEMO_PASSWORD}",
    ]
