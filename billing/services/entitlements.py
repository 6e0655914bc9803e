"""Entitlements are computed, not accumulated: from the subscription state and staff grants."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from billing.cache import organization_cache_forget
from billing.models import EntitlementGrant, StaffQuotaGrant, SubscriptionState, UsageCounter
from billing.plans import FEATURES, FREE, PLANS, Period

# Statuses in which a subscription gives its plan's rights. past_due is handled apart (grace).
ENTITLING_STATUSES = {"active", "trialing"}


@dataclass(frozen=True)
class GrantSpec:
    feature: str
    limit: int | None
    period: str
    cycle_start: datetime | None
    cycle_end: datetime | None
    per_member: bool
    source: str


def in_grace(*, state: SubscriptionState | None, now: datetime) -> bool:
    """A failed renewal still within its grace period: the plan's rights are kept for now."""
    return bool(state and state.status == "past_due" and state.grace_until and now < state.grace_until)


def plan_effective(*, state: SubscriptionState | None, now: datetime) -> str:
    """The plan whose rights apply now: past_due keeps them until the grace period ends."""
    if state is None:
        return FREE
    if state.status in ENTITLING_STATUSES or in_grace(state=state, now=now):
        return state.plan
    return FREE


def grants_compute(
    *, plan_key: str, state: SubscriptionState | None, staff_grants: list[StaffQuotaGrant], now: datetime
) -> dict[str, GrantSpec]:
    """The grants an organization should have now (pure: no database access)."""
    has_cycle = bool(plan_key != FREE and state and state.current_period_start and state.current_period_end)
    specs: dict[str, GrantSpec] = {}
    for feature, quota in PLANS[plan_key].quotas.items():
        period = quota.period.value if quota.period else ""
        cycle = period == Period.CYCLE and has_cycle
        specs[feature.value] = GrantSpec(
            feature=feature.value,
            limit=quota.limit,
            period=period,
            cycle_start=state.current_period_start if cycle else None,
            cycle_end=state.current_period_end if cycle else None,
            per_member=FEATURES[feature].per_member,
            source=f"plan:{plan_key}",
        )
    for grant in sorted(staff_grants, key=lambda g: g.pk or 0):
        if grant.expires_at <= now:
            continue
        current = specs.get(grant.feature)
        if current is None:
            specs[grant.feature] = GrantSpec(
                feature=grant.feature,
                limit=grant.quantity,
                period=grant.period,
                cycle_start=None,
                cycle_end=None,
                per_member=FEATURES[grant.feature].per_member,
                source="staff",
            )
        else:
            specs[grant.feature] = GrantSpec(
                **{
                    **current.__dict__,
                    "limit": None if current.limit is None else current.limit + grant.quantity,
                    "source": current.source if current.source.endswith("+staff") else f"{current.source}+staff",
                }
            )
    return specs


def _spec_matches(grant: EntitlementGrant, spec: GrantSpec) -> bool:
    return all(getattr(grant, name) == value for name, value in spec.__dict__.items())


def entitlements_refresh(*, organization: Organization, now: datetime | None = None) -> None:
    """Rewrite the organization's grants from its subscription state and staff grants.

    Idempotent: a second call (or any replay of webhooks that leads to the same state)
    writes nothing. Current usage counters take the new limits at once, so an upgrade,
    a downgrade or a revocation applies to the ongoing period.
    """
    now = now or timezone.now()
    # No savepoint: nothing catches a failure here to carry on, and a webhook's refresh
    # runs inside the subscription sync's transaction (two statements less per event).
    with transaction.atomic(savepoint=False):
        # The row lock serialises concurrent refreshes of one organization (PostgreSQL).
        state, _ = SubscriptionState.objects.select_for_update().get_or_create(organization=organization)
        staff = list(StaffQuotaGrant.objects.filter(organization=organization, expires_at__gt=now))
        specs = grants_compute(plan_key=plan_effective(state=state, now=now), state=state, staff_grants=staff, now=now)
        existing = {g.feature: g for g in EntitlementGrant.objects.filter(organization=organization)}

        changed_limits: dict[str, int | None] = {}
        for feature, grant in existing.items():
            if feature not in specs:
                grant.delete()
                changed_limits[feature] = 0
        for feature, spec in specs.items():
            grant = existing.get(feature)
            if grant is not None and _spec_matches(grant, spec):
                continue
            fields = {k: v for k, v in spec.__dict__.items() if k != "feature"}
            if grant is None:
                EntitlementGrant.objects.create(organization=organization, feature=feature, **fields)
            else:
                EntitlementGrant.objects.filter(pk=grant.pk).update(updated_at=now, **fields)
            if grant is None or grant.limit != spec.limit:
                changed_limits[feature] = spec.limit
        for feature, limit in changed_limits.items():
            UsageCounter.objects.filter(organization=organization, feature=feature, period_end__gt=now).update(
                limit=limit
            )
        if changed_limits or any(f not in existing or not _spec_matches(existing[f], s) for f, s in specs.items()):
            org_id = organization.pk
            # Now, so reads inside this transaction see the new grants, and again after the
            # commit, so an answer cached meanwhile from the old rows does not outlive them.
            organization_cache_forget(organization_id=org_id)
            transaction.on_commit(lambda: organization_cache_forget(organization_id=org_id))
