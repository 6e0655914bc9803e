"""Billing demo data for `manage.py seed_demo`: the demo organization on Premium, with some usage.

When Stripe answers (`make run` starts the sandbox first), the organization gets a real
Premium subscription there, paid with Stripe's test card and mirrored at once, so that
Stripe's webhooks about it (and every later re-sync) keep it Premium. Without Stripe the
plan is local state only, which the first webhook about the customer would undo.
Idempotent: an active subscription is kept, and usage is tracked with fixed idempotency
keys, so a second run adds nothing.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.demo import CUSTOMER_EMAIL, DEMO_ORGANIZATION_SLUG
from accounts.models import Organization, User
from billing import gateway
from billing.models import SubscriptionState
from billing.services.entitlements import entitlements_refresh
from billing.services.subscription_changes import subscription_start_with_card_on_file
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
    premium = state.plan == "premium" and state.status == "active" and (state.current_period_end or now) > now
    if not (premium and state.stripe_subscription_id) and gateway.reachable():
        state = subscription_start_with_card_on_file(
            organization=organization, lookup_key="premium_monthly", payment_method="pm_card_visa"
        )
    elif not premium:
        state.plan, state.status, state.price_lookup_key = "premium", "active", "premium_monthly"
        state.current_period_start, state.current_period_end = now - timedelta(days=3), now + timedelta(days=27)
        state.save()
    entitlements_refresh(organization=organization)
    for feature, quantity, key in DEMO_USAGE:
        usage_track(organization=organization, user_id=user.pk, feature=feature, quantity=quantity, idempotency_key=key)
    where = "a subscription in Stripe" if state.stripe_subscription_id else "local state only, Stripe was not running"
    return [
        f"'{organization.name}' is on Premium ({where}) until {state.current_period_end:%-d %b %Y}, "
        "with 2 of 3 premium articles, 1 of 2 free quizzes and 3 AI chats used: "
        f"see /billing/settings/?org={organization.pk}",
    ]
