"""Benchmark fixture data: one Premium organization with an API key (run through `manage.py shell`)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Organization, Role, User
from accounts.services.api_keys import api_key_create
from billing.models import StaffQuotaGrant, SubscriptionState
from billing.services.entitlements import entitlements_refresh


@transaction.atomic
def bench_seed() -> dict:
    now = timezone.now()
    user, _ = User.objects.get_or_create(email="bench@plateau.test")
    organization, _ = Organization.objects.get_or_create(
        slug="bench", defaults={"name": "Bench", "email": "bench@plateau.test"}
    )
    Membership.objects.get_or_create(user=user, organization=organization, defaults={"role": Role.ADMIN})
    SubscriptionState.objects.update_or_create(
        organization=organization,
        defaults={
            "plan": "premium",
            "status": "active",
            "current_period_start": now - timedelta(days=1),
            "current_period_end": now + timedelta(days=29),
        },
    )
    # Enough quota that the measured track-usage calls are never refused.
    StaffQuotaGrant.objects.get_or_create(
        organization=organization,
        feature="premium_article",
        reason="benchmark",
        defaults={"quantity": 2_000_000_000, "expires_at": now + timedelta(days=365)},
    )
    entitlements_refresh(organization=organization)
    created = api_key_create(organization=organization, name="bench", created_by=user)
    # accounts splits keys on "_": pick one whose secret has none (see the billing report).
    while created.secret.count("_") != 2:
        created = api_key_create(organization=organization, name="bench", created_by=user)
    return {"customer": organization.pk, "api_key": created.secret}
