from datetime import UTC, datetime, timedelta

import pytest

from billing.models import EntitlementGrant, SubscriptionState, UsageCounter
from billing.services.entitlements import entitlements_refresh
from billing.services.subscriptions import subscription_fields_from_stripe, subscription_state_apply
from billing.tests.factories import (
    CYCLE_END,
    CYCLE_START,
    OrganizationFactory,
    StaffQuotaGrantFactory,
    SubscriptionStateFactory,
)

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def grants(org):
    return {
        g.feature: (g.limit, g.period, g.cycle_start, g.cycle_end, g.per_member, g.source)
        for g in EntitlementGrant.objects.filter(organization=org)
    }


def test_free_organization_gets_five_ai_chats_a_day_per_member_and_nothing_else():
    org = OrganizationFactory()
    entitlements_refresh(organization=org, now=NOW)
    assert grants(org) == {"ai_chat": (5, "day", None, None, True, "plan:free")}
    assert SubscriptionState.objects.get(organization=org).plan == "free"


def test_premium_grants_follow_the_catalogue_and_the_billing_cycle():
    state = SubscriptionStateFactory()
    entitlements_refresh(organization=state.organization, now=NOW)
    assert grants(state.organization) == {
        "ai_chat": (None, "day", None, None, True, "plan:premium"),
        "free_quiz": (2, "cycle", CYCLE_START, CYCLE_END, False, "plan:premium"),
        "premium_article": (3, "cycle", CYCLE_START, CYCLE_END, False, "plan:premium"),
        "quiz_discount": (3, "month", None, None, False, "plan:premium"),
        "article_discount": (None, "", None, None, False, "plan:premium"),
    }


def test_refresh_twice_writes_nothing_the_second_time():
    state = SubscriptionStateFactory()
    entitlements_refresh(organization=state.organization, now=NOW)
    before = list(EntitlementGrant.objects.values_list("id", "feature", "limit", "updated_at"))
    entitlements_refresh(organization=state.organization, now=NOW + timedelta(minutes=5))
    assert list(EntitlementGrant.objects.values_list("id", "feature", "limit", "updated_at")) == before


def test_staff_quota_adds_to_the_plan_limit_until_it_expires():
    state = SubscriptionStateFactory()
    grant = StaffQuotaGrantFactory(organization=state.organization, quantity=2, expires_at=NOW + timedelta(hours=1))
    entitlements_refresh(organization=state.organization, now=NOW)
    assert grants(state.organization)["premium_article"][0] == 5
    assert grants(state.organization)["premium_article"][5] == "plan:premium+staff"
    entitlements_refresh(organization=state.organization, now=grant.expires_at)
    assert grants(state.organization)["premium_article"][:1] == (3,)


def test_staff_quota_for_a_feature_the_plan_lacks_creates_the_grant():
    org = OrganizationFactory()
    StaffQuotaGrantFactory(organization=org, feature="free_quiz", quantity=1, period="month")
    entitlements_refresh(organization=org, now=NOW)
    assert grants(org)["free_quiz"] == (1, "month", None, None, False, "staff")


@pytest.mark.parametrize(
    ("status", "grace_until", "plan"),
    [
        ("active", None, "premium"),
        ("trialing", None, "premium"),
        ("past_due", NOW + timedelta(seconds=1), "premium"),  # one second of grace left
        ("past_due", NOW, "free"),  # grace ends exactly now
        ("canceled", None, "free"),
        ("unpaid", None, "free"),
        ("incomplete_expired", None, "free"),
    ],
)
def test_status_and_grace_decide_the_plan_in_force(status, grace_until, plan):
    state = SubscriptionStateFactory(status=status, grace_until=grace_until)
    entitlements_refresh(organization=state.organization, now=NOW)
    assert grants(state.organization)["ai_chat"][5] == f"plan:{plan}"


def test_revocation_applies_to_the_current_counters_at_once():
    state = SubscriptionStateFactory()
    entitlements_refresh(organization=state.organization, now=NOW)
    counter = UsageCounter.objects.create(
        organization=state.organization,
        feature="premium_article",
        period_start=CYCLE_START,
        period_end=CYCLE_END,
        limit=3,
    )
    state.status = "canceled"
    state.save()
    entitlements_refresh(organization=state.organization, now=NOW)
    counter.refresh_from_db()
    assert counter.limit == 0
    assert "premium_article" not in grants(state.organization)


def stripe_subscription(**overrides):
    data = {
        "id": "sub_123",
        "object": "subscription",
        "customer": "cus_123",
        "status": "active",
        "cancel_at_period_end": False,
        "created": 1763100000,
        "trial_end": None,
        "items": {
            "data": [
                {
                    "id": "si_1",
                    "current_period_start": int(CYCLE_START.timestamp()),
                    "current_period_end": int(CYCLE_END.timestamp()),
                    "price": {"id": "price_1", "lookup_key": "premium_monthly", "metadata": {}},
                }
            ]
        },
    }
    data.update(overrides)
    return data


def test_stripe_subscription_periods_are_read_from_its_items():
    fields = subscription_fields_from_stripe(stripe_subscription(current_period_start=1, current_period_end=2))
    assert fields["plan"] == "premium"
    assert (fields["current_period_start"], fields["current_period_end"]) == (CYCLE_START, CYCLE_END)
    assert fields["stripe_customer_id"] == "cus_123"


def test_past_due_grace_starts_once_and_is_not_extended_by_replays(settings):
    settings.BILLING_GRACE_DAYS = 3
    org = OrganizationFactory()
    subscription_state_apply(organization=org, subscription=stripe_subscription(status="past_due"), now=NOW)
    replay_later = NOW + timedelta(days=1)
    state = subscription_state_apply(
        organization=org, subscription=stripe_subscription(status="past_due"), now=replay_later
    )
    assert state.past_due_since == NOW
    assert state.grace_until == NOW + timedelta(days=3)
    assert grants(org)["premium_article"][0] == 3  # still in grace

    entitlements_refresh(organization=org, now=NOW + timedelta(days=3))
    assert "premium_article" not in grants(org)
    assert grants(org)["ai_chat"][0] == 5


def test_renewal_moves_the_cycle_and_recovery_clears_the_grace():
    org = OrganizationFactory()
    subscription_state_apply(organization=org, subscription=stripe_subscription(status="past_due"), now=NOW)
    renewed = stripe_subscription()
    renewed["items"]["data"][0].update(
        current_period_start=int(CYCLE_END.timestamp()),
        current_period_end=int(datetime(2027, 1, 14, tzinfo=UTC).timestamp()),
    )
    state = subscription_state_apply(organization=org, subscription=renewed, now=NOW)
    assert (state.past_due_since, state.grace_until) == (None, None)
    assert grants(org)["free_quiz"][2:4] == (CYCLE_END, datetime(2027, 1, 14, tzinfo=UTC))


def test_events_in_any_order_converge_to_the_same_grants():
    created = stripe_subscription(status="incomplete")
    updated = stripe_subscription(status="active")
    org_a, org_b = OrganizationFactory(), OrganizationFactory()
    # Both orders end with the latest Stripe state, which is what the sync reads from the mirror.
    for org in (org_a, org_b):
        subscription_state_apply(organization=org, subscription=created, now=NOW)
        subscription_state_apply(organization=org, subscription=updated, now=NOW)
    subscription_state_apply(organization=org_b, subscription=updated, now=NOW)
    assert grants(org_a) == grants(org_b)
