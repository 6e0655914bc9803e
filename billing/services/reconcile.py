"""Periodic safety nets: re-sync from the mirror, expire grace periods, roll quota periods."""

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from accounts.models import Organization
from billing.models import EntitlementGrant, StaffQuotaGrant, SubscriptionState, UsageCounter
from billing.periods import period_bounds
from billing.plans import Period
from billing.services.entitlements import entitlements_refresh
from billing.services.subscriptions import subscription_state_sync


def subscriptions_reconcile(*, now: datetime | None = None) -> int:
    """Re-sync every organization that has or had a subscription; returns how many.

    Catches webhooks whose job failed or never ran; grace periods that end without an
    event are `grace_periods_expire`'s.
    """
    now = now or timezone.now()
    organizations = Organization.objects.filter(
        Q(subscription_state__stripe_customer_id__gt="") | Q(djstripe_customers__isnull=False)
    ).distinct()
    count = 0
    for organization in organizations.iterator():
        subscription_state_sync(organization=organization, now=now)
        count += 1
    return count


def grace_periods_expire(*, now: datetime | None = None) -> int:
    """Refresh organizations whose grace period has ended, so their rights are revoked."""
    now = now or timezone.now()
    states = SubscriptionState.objects.filter(status="past_due", grace_until__lte=now).select_related("organization")
    count = 0
    for state in states:
        entitlements_refresh(organization=state.organization, now=now)
        count += 1
    return count


def staff_grants_expire(*, now: datetime | None = None) -> int:
    """Refresh organizations whose staff quota grant ended in the last day, so the extra goes away."""
    now = now or timezone.now()
    organization_ids = set(
        StaffQuotaGrant.objects.filter(expires_at__lte=now, expires_at__gt=now - timedelta(days=1)).values_list(
            "organization_id", flat=True
        )
    )
    for organization in Organization.objects.filter(pk__in=organization_ids):
        entitlements_refresh(organization=organization, now=now)
    return len(organization_ids)


def usage_periods_rollover(*, now: datetime | None = None) -> int:
    """Open the current period's counter for every day/month counter whose period just ended.

    Use rolls periods over lazily anyway; opening them ahead keeps meters and reports
    right for customers who have not used the feature yet in the new period.
    """
    now = now or timezone.now()
    ended = (
        UsageCounter.objects.filter(period_end__lte=now, period_end__gt=now - timedelta(days=32))
        .values("organization_id", "user_id", "feature")
        .distinct()
    )
    grants = {
        (g.organization_id, g.feature): g
        for g in EntitlementGrant.objects.filter(
            organization_id__in={row["organization_id"] for row in ended}, period__in=[Period.DAY, Period.MONTH]
        )
    }
    fresh = []
    for row in ended:
        grant = grants.get((row["organization_id"], row["feature"]))
        if grant is None:
            continue
        start, end = period_bounds(period=grant.period, now=now)
        fresh.append(
            UsageCounter(
                organization_id=row["organization_id"],
                user_id=row["user_id"],
                feature=row["feature"],
                period_start=start,
                period_end=end,
                limit=grant.limit,
            )
        )
    UsageCounter.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)
