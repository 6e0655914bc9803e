"""Periodic safety nets: re-sync from the mirror, expire grace periods, roll quota periods."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from djstripe.models import Customer as MirroredCustomer
from djstripe.models import Subscription as MirroredSubscription

from accounts.models import Organization
from billing import gateway
from billing.models import EntitlementGrant, Purchase, PurchaseStatus, StaffQuotaGrant, SubscriptionState, UsageCounter
from billing.periods import period_bounds
from billing.plans import Period
from billing.services.entitlements import entitlements_refresh
from billing.services.purchases import purchase_settle_from_stripe
from billing.services.subscriptions import subscription_state_sync

logger = logging.getLogger(__name__)


def subscriptions_reconcile(*, now: datetime | None = None) -> int:
    """Re-read every customer's subscriptions from Stripe itself and repair the mirror and our state.

    The safety net under the webhooks: whatever a lost, failed or wrongly applied event
    left behind (a stale or corrupted mirror included), the state after this run is
    Stripe's. Also settles one-time purchases whose payment went through while their
    webhook did not arrive. Returns how many organizations were re-read; one that Stripe
    cannot answer for now is logged and left for the next run.
    """
    now = now or timezone.now()
    customers = MirroredCustomer.objects.filter(subscriber__isnull=False, date_purged__isnull=True)
    customers = customers.select_related("subscriber")
    count = 0
    for customer in customers.iterator():
        try:
            subscription_mirror_resync(organization=customer.subscriber, stripe_customer_id=customer.id, now=now)
        except gateway.StripeError as error:
            logger.warning("reconcile: Stripe did not answer for customer %s: %s", customer.id, error)
            continue
        count += 1
    purchases_pending_settle(now=now)
    return count


def subscription_mirror_resync(*, organization: Organization, stripe_customer_id: str, now: datetime | None = None):
    """Stripe's subscriptions of one customer into dj-stripe's mirror, then our state from that mirror."""
    subscriptions = gateway.subscription_list(customer=stripe_customer_id)
    with transaction.atomic():
        for subscription in subscriptions:
            MirroredSubscription.sync_from_stripe_data(subscription, api_key=settings.STRIPE_SECRET_KEY)
        listed = {subscription.id for subscription in subscriptions}
        # A subscription the mirror holds but Stripe no longer lists for the customer is not alive.
        for stale in MirroredSubscription.objects.filter(customer_id=stripe_customer_id).exclude(id__in=listed):
            if stale.stripe_data.get("status") not in ("canceled", "incomplete_expired"):
                stale.stripe_data = {**stale.stripe_data, "status": "canceled"}
                stale.save(update_fields=["stripe_data"])
        return subscription_state_sync(organization=organization, now=now)


# A Checkout this old still pending is asked about: paid without a webhook, or long expired.
PENDING_PURCHASE_CHECK_AFTER = timedelta(minutes=30)


def purchases_pending_settle(*, now: datetime | None = None, limit: int = 500) -> int:
    """Settle or close pending purchases from their Checkout sessions as Stripe has them; how many changed."""
    now = now or timezone.now()
    pending = Purchase.objects.filter(
        status=PurchaseStatus.PENDING, created_at__lt=now - PENDING_PURCHASE_CHECK_AFTER
    ).exclude(stripe_checkout_session_id="")
    changed = 0
    for purchase in pending.order_by("created_at")[:limit]:
        try:
            settled = purchase_settle_from_stripe(session_id=purchase.stripe_checkout_session_id)
        except gateway.StripeError as error:
            logger.warning("reconcile: Stripe did not answer for purchase %s: %s", purchase.pk, error)
            continue
        if settled is not None and settled.status != PurchaseStatus.PENDING:
            changed += 1
    return changed


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
