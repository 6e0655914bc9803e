"""Billing demo data for `manage.py seed_demo`: the demo organization on Premium, with some usage.

The subscription is local demo state (no Stripe objects), so it works without the
sandbox running; subscribing through the pricing page exercises the real path.
Idempotent: usage is tracked with fixed idempotency keys, so a second run adds nothing.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.demo import CUSTOMER_EMAIL, DEMO_ORGANIZATION_SLUG
from accounts.models import Organization, User
from billing.models import SubscriptionState
from billing.services.entitlements import entitlements_refresh
from billing.services.usage import usage_track

DEMO_USAGE = [("premium_article", 2, "demo-articles"), ("free_quiz", 1, "demo-quiz"), ("ai_chat", 3, "demo-chats")]


@transaction.atomic
def seed_demo() -> list[str]:
    organization = Organization.objects.filter(slug=DEMO_ORGANIZATION_SLUG).first()
    user = User.objects.filter(email=CUSTOMER_EMAIL).first()
    if organization is None or user is None:
        return ["skipped: the accounts demo organization is missing"]
    now = timezone.now()
    state, _ = SubscriptionState.objects.get_or_create(organization=organization)
    if (
        state.plan != "premium"
        or state.status != "active"
        or not state.current_period_end
        or state.current_period_end <= now
    ):
        state.plan, state.status, state.price_lookup_key = "premium", "active", "premium_monthly"
        state.current_period_start, state.current_period_end = now - timedelta(days=3), now + timedelta(days=27)
        state.save()
    entitlements_refresh(organization=organization)
    for feature, quantity, key in DEMO_USAGE:
        usage_track(organization=organization, user_id=user.pk, feature=feature, quantity=quantity, idempotency_key=key)
    return [
        f"'{organization.name}' is on Premium until {state.current_period_end:%-d %b %Y}, "
        "with 2 of 3 premium articles, 1 of 2 free quizzes and 3 AI chats used: "
        f"see /billing/settings/?org={organization.pk}",
    ]
