"""Keeping our subscription-state table in step with dj-stripe's mirror of Stripe."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from djstripe.models import Subscription

from accounts.models import Organization
from billing.models import SubscriptionState
from billing.plans import FREE, PLANS, plan_for_lookup_key
from billing.services.entitlements import entitlements_refresh
from billing.services.revenue import subscription_history_record

# Which of several subscriptions speaks for the organization: the most alive one.
_STATUS_RANK = {"active": 0, "trialing": 0, "past_due": 1, "unpaid": 2, "incomplete": 3, "paused": 4, "canceled": 5}


def _timestamp(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def subscription_fields_from_stripe(data: dict) -> dict:
    """Our columns from one Stripe subscription object (pure).

    Since API version 2025-03-31 the billing period lives on the subscription items;
    older payloads carry it on the subscription itself, which is the fallback.
    """
    items = (data.get("items") or {}).get("data") or []
    item = items[0] if items else {}
    price = item.get("price") or item.get("plan") or {}
    lookup_key = price.get("lookup_key") or ""
    plan = plan_for_lookup_key(lookup_key)
    plan_key = plan.key if plan else (price.get("metadata") or {}).get("plateau_plan", "")
    if plan_key not in PLANS:
        plan_key = FREE
    customer = data.get("customer")
    return {
        "plan": plan_key,
        "status": data.get("status") or "none",
        "price_lookup_key": lookup_key,
        "stripe_customer_id": customer.get("id", "") if isinstance(customer, dict) else customer or "",
        "stripe_subscription_id": data.get("id") or "",
        "current_period_start": _timestamp(item.get("current_period_start") or data.get("current_period_start")),
        "current_period_end": _timestamp(item.get("current_period_end") or data.get("current_period_end")),
        "cancel_at_period_end": bool(data.get("cancel_at_period_end")),
        "trial_end": _timestamp(data.get("trial_end")),
    }


def _subscription_pick(subscriptions: list[dict]) -> dict | None:
    if not subscriptions:
        return None
    return min(subscriptions, key=lambda s: (_STATUS_RANK.get(s.get("status"), 9), -(s.get("created") or 0)))


def subscription_state_apply(
    *,
    organization: Organization,
    subscription: dict | None,
    now: datetime | None = None,
    new: bool = False,
    state: SubscriptionState | None = None,
) -> SubscriptionState:
    """Write the state from a Stripe subscription (or none) and refresh the grants.

    `state`: the organization's row, already read under `select_for_update` by the caller.

    A subscription turning past_due starts the grace period (BILLING_GRACE_DAYS); the
    start is kept across re-syncs so replays do not extend it. When nothing changes
    (most events: invoices, payments, a replay) nothing is written and the grants, which
    follow from the state, are left as the last refresh made them.
    """
    now = now or timezone.now()
    fields = (
        subscription_fields_from_stripe(subscription)
        if subscription
        else {
            "plan": FREE,
            "status": "none",
            "price_lookup_key": "",
            "stripe_subscription_id": "",
            "current_period_start": None,
            "current_period_end": None,
            "cancel_at_period_end": False,
            "trial_end": None,
        }
    )
    with transaction.atomic(savepoint=False):
        if state is None:
            state, created = SubscriptionState.objects.select_for_update().get_or_create(organization=organization)
        else:
            created = False
        tracked = [*fields, "past_due_since", "grace_until"]
        before = [getattr(state, name) for name in tracked]
        for name, value in fields.items():
            if name == "stripe_customer_id" and not value:
                continue
            setattr(state, name, value)
        if state.status == "past_due":
            state.past_due_since = state.past_due_since or now
            state.grace_until = state.past_due_since + timedelta(days=settings.BILLING_GRACE_DAYS)
        else:
            state.past_due_since = None
            state.grace_until = None
        if not (created or new) and [getattr(state, name) for name in tracked] == before:
            return state
        state.save()
        entitlements_refresh(organization=organization, now=now)
    return state


def subscription_state_sync(*, organization: Organization, now: datetime | None = None) -> SubscriptionState:
    """Re-read the organization's subscriptions from dj-stripe's mirror and apply the most alive one.

    The state row is locked *before* the mirror is read: two events about one customer
    (an invoice and its subscription, say) synced in parallel then apply one after the
    other, and the second reads a mirror that includes the first's commit, so an older
    read can never overwrite a newer state. The subscriptions' history is appended in the
    same transaction.
    """
    # No savepoints (each would be two more statements under the webhook's lock): a failure
    # anywhere here fails the caller's whole transaction, which is what every caller wants.
    with transaction.atomic(savepoint=False):
        locked, created = SubscriptionState.objects.select_for_update().get_or_create(organization=organization)
        mirrored = [s.stripe_data for s in Subscription.objects.filter(customer__subscriber=organization)]
        state = subscription_state_apply(
            organization=organization, subscription=_subscription_pick(mirrored), now=now, new=created, state=locked
        )
        subscription_history_record(
            organization=organization, subscriptions=mirrored, now=now or timezone.now(), organization_locked=True
        )
    return state
