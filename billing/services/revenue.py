"""Billing's own records of subscription money and state, for analytics (which never reads dj-stripe).

- `subscription_payment_record`: one row per paid subscription invoice (`invoice.paid`).
- `subscription_refund_record_from_stripe`: one row per refund of a payment that is not
  a one-time purchase's (those are `PurchaseRefund`s).
- `subscription_history_record`: a new state row for each subscription whose tracked
  fields changed, closing the previous one; called by every sync of an organization.

Each is idempotent (Stripe's ids, or "nothing changed, nothing written"), so replayed
and reordered webhooks converge. Each write bumps the revenue version after the commit,
which is the cache key analytics builds its figures on, so no figure outlives a change.
In the same transaction each keeps billing's rollups (billing.services.revenue_rollups:
MRR per day, paying customers, payments per customer, cohorts) in step.
"""

import time
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from django.core.cache import cache
from django.db import transaction
from djstripe.models import Coupon, Discount, PaymentIntent

from accounts.models import Organization
from billing.models import (
    Purchase,
    SubscriptionChange,
    SubscriptionHistory,
    SubscriptionPayment,
    SubscriptionRefund,
    SubscriptionState,
)
from billing.plans import FREE, PLANS, plan_for_lookup_key
from billing.services.revenue_rollups import (
    customer_cohort_refresh,
    customer_revenue_add,
    merge_deltas,
    mrr_day_add,
    paying_customers_refresh,
    payment_day_add,
    rollups_lock_shared,
    state_mrr_day_deltas,
)

# Statuses whose subscription counts in MRR (SPEC 5: active or past due, not trialing).
MRR_STATUSES = ("active", "past_due")
# Refund statuses that mean the money went back (as for purchases).
REFUND_COUNTED_STATUSES = ("succeeded", "pending", "requires_action")
REVENUE_VERSION_KEY = "billing:revenue:version"
# Months per interval, exactly: a week is 12/52 of a month's twelfth of a year.
MONTHS_PER_INTERVAL = {"day": Fraction(12, 365), "week": Fraction(12, 52), "month": Fraction(1), "year": Fraction(12)}
TRACKED_FIELDS = (
    "status",
    "plan",
    "price_lookup_key",
    "unit_amount",
    "currency",
    "interval",
    "interval_count",
    "quantity",
    "discount_percent_off",
    "discount_amount_off",
    "trial_end",
)


def revenue_version() -> int:
    """The current revenue version; a fresh one when the cache lost it (so nothing old is reused)."""
    version = cache.get(REVENUE_VERSION_KEY)
    if version is None:
        version = time.time_ns()
        cache.add(REVENUE_VERSION_KEY, version, timeout=None)
        version = cache.get(REVENUE_VERSION_KEY, version)
    return version


def revenue_version_bump() -> None:
    try:
        cache.incr(REVENUE_VERSION_KEY)
    except ValueError:  # not there: any new value invalidates
        cache.set(REVENUE_VERSION_KEY, time.time_ns(), timeout=None)


def _bump_on_commit() -> None:
    transaction.on_commit(revenue_version_bump, robust=True)


def _timestamp(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _round_half_up(value: Fraction) -> int:
    return int((2 * value.numerator + value.denominator) // (2 * value.denominator))


def monthly_recurring_amount(
    *,
    unit_amount: int,
    quantity: int,
    interval: str,
    interval_count: int,
    percent_off: Decimal | None = None,
    amount_off: int | None = None,
) -> int:
    """What one subscription adds to MRR, in minor units (pure).

    Price × quantity per billing interval, less a recurring discount as Stripe takes it
    off an invoice (a percentage rounded half up to the minor unit, or a fixed amount, at
    most the whole), normalised to a month (yearly ÷ 12, weekly × 52 ÷ 12, daily × 365 ÷ 12,
    divided by the interval count) and rounded half up to the minor unit.
    """
    months = MONTHS_PER_INTERVAL.get(interval)
    if months is None or interval_count < 1:
        return 0
    per_interval = unit_amount * quantity
    if percent_off:
        per_interval -= _round_half_up(Fraction(per_interval) * Fraction(str(percent_off)) / 100)
    if amount_off:
        per_interval -= min(per_interval, amount_off)
    return _round_half_up(Fraction(per_interval) / (months * interval_count))


def _recurring_discount(data: dict) -> tuple[Decimal | None, int | None]:
    """The first forever/repeating coupon on the subscription, read from dj-stripe's mirror; (None, None) if none.

    A subscription carries discount ids (API ≥ 2025-03-31); the discounts and coupons are
    mirrored by dj-stripe from invoices and coupon events. A one-off ("once") coupon is not
    recurring and does not lower MRR; a repeating one does until Stripe removes it.
    """
    for entry in data.get("discounts") or []:
        discount = entry if isinstance(entry, dict) else None
        if discount is None:
            mirrored = Discount.objects.filter(id=entry).first()
            discount = mirrored.stripe_data if mirrored is not None else {}
        coupon = discount.get("coupon") or (discount.get("source") or {}).get("coupon")
        if isinstance(coupon, str):
            mirrored = Coupon.objects.filter(id=coupon).first()
            coupon = mirrored.stripe_data if mirrored is not None else None
        if not coupon or coupon.get("duration") not in ("forever", "repeating"):
            continue
        percent = coupon.get("percent_off")
        return (Decimal(str(percent)).quantize(Decimal("0.01")) if percent else None, coupon.get("amount_off") or None)
    return None, None


def history_fields_from_stripe(data: dict, *, discount: tuple[Decimal | None, int | None] = (None, None)) -> dict:
    """The tracked fields of one Stripe subscription object (pure, given its recurring discount)."""
    items = (data.get("items") or {}).get("data") or []
    item = items[0] if items else {}
    price = item.get("price") or item.get("plan") or {}
    recurring = price.get("recurring") or {}
    lookup_key = price.get("lookup_key") or ""
    plan = plan_for_lookup_key(lookup_key)
    plan_key = plan.key if plan else (price.get("metadata") or {}).get("plateau_plan", "")
    status = data.get("status") or "none"
    fields = {
        "status": status,
        "plan": plan_key if plan_key in PLANS else FREE,
        "price_lookup_key": lookup_key,
        "unit_amount": price.get("unit_amount") or 0,
        "currency": (price.get("currency") or data.get("currency") or "").lower(),
        "interval": recurring.get("interval") or price.get("interval") or "",
        "interval_count": recurring.get("interval_count") or price.get("interval_count") or 1,
        "quantity": item.get("quantity") or 1,
        "discount_percent_off": discount[0],
        "discount_amount_off": discount[1],
        "trial_end": _timestamp(data.get("trial_end")),
    }
    fields["mrr_amount"] = (
        monthly_recurring_amount(
            unit_amount=fields["unit_amount"],
            quantity=fields["quantity"],
            interval=fields["interval"],
            interval_count=fields["interval_count"],
            percent_off=discount[0],
            amount_off=discount[1],
        )
        if status in MRR_STATUSES
        else 0
    )
    return fields


def _effective_at(data: dict, *, status: str, first: bool, now: datetime) -> datetime:
    """When the change took effect: Stripe's own time when it says (start, end), else when we learnt it."""
    if status == "canceled":
        return _timestamp(data.get("ended_at") or data.get("canceled_at")) or now
    if first:
        return _timestamp(data.get("start_date") or data.get("created")) or now
    return now


def subscription_history_record(
    *, organization: Organization, subscriptions: list[dict], now: datetime, organization_locked: bool = False
) -> list[SubscriptionHistory]:
    """Append a state row for each subscription whose tracked fields changed; returns the new rows.

    Runs inside the organization's lock (its SubscriptionState row), so two syncs of the
    same organization append one row, not two. A row never starts before the one it
    follows, whatever Stripe's timestamps say. `organization_locked`: the caller holds that
    lock already (`subscription_state_sync`).
    """
    written = []
    deltas: dict = {}  # for billing's MrrDay rollup
    with transaction.atomic(savepoint=False):
        if not organization_locked:
            SubscriptionState.objects.select_for_update().filter(organization=organization).first()
        for data in subscriptions:
            subscription_id = data.get("id")
            if not subscription_id:
                continue
            fields = history_fields_from_stripe(data, discount=_recurring_discount(data))
            current = SubscriptionHistory.objects.filter(
                stripe_subscription_id=subscription_id, valid_to__isnull=True
            ).first()
            if current is not None and all(getattr(current, f) == fields[f] for f in TRACKED_FIELDS):
                continue
            at = _effective_at(data, status=fields["status"], first=current is None, now=now)
            if current is not None:
                at = max(at, current.valid_from)
                current.valid_to = at
                current.save(update_fields=["valid_to"])
                merge_deltas(deltas, state_mrr_day_deltas(state=current, closed_at=at))
            state = SubscriptionHistory.objects.create(
                organization=organization,
                stripe_subscription_id=subscription_id,
                change=_change_kind(subscription_id=subscription_id, fields=fields, previous=current),
                valid_from=at,
                **fields,
            )
            merge_deltas(deltas, state_mrr_day_deltas(state=state))
            written.append(state)
        if written:
            # Only a sync that writes waits for a rollup rebuild (most syncs change nothing). Taken
            # before any rollup is read or moved and held to the commit: a rebuild either sees
            # these rows or ran before them, and these deltas go on top of what it wrote.
            rollups_lock_shared()
            merge_deltas(deltas, paying_customers_refresh(organization_id=organization.pk))
            mrr_day_add(deltas)
            customer_cohort_refresh(organization_id=organization.pk)
            _bump_on_commit()
    return written


def _change_kind(*, subscription_id: str, fields: dict, previous: SubscriptionHistory | None) -> str:
    if fields["status"] in MRR_STATUSES:
        counted_before = SubscriptionHistory.objects.filter(
            stripe_subscription_id=subscription_id, status__in=MRR_STATUSES
        ).exists()
        return SubscriptionChange.UPDATE if counted_before else SubscriptionChange.NEW
    if fields["status"] == "canceled" and previous is not None and previous.status in MRR_STATUSES:
        return SubscriptionChange.CHURN
    return SubscriptionChange.UPDATE


def history_rows_from_mirror(data: dict) -> list[dict]:
    """A subscription's past rebuilt from its mirrored object alone (pure): for the data migration.

    What the mirror still says: a trial (trial_start → trial_end), then the current price
    from the end of the trial (or the start), and the cancellation (ended_at) if it ended.
    Price changes before today are not in the mirror and cannot be recovered: every row
    carries today's price. Each row is the fields plus `valid_from`, `valid_to`, `change`.
    """
    start = _timestamp(data.get("start_date") or data.get("created"))
    if start is None:
        return []
    status = data.get("status") or "none"
    trial_start, trial_end = _timestamp(data.get("trial_start")), _timestamp(data.get("trial_end"))
    ended = _timestamp(data.get("ended_at") or data.get("canceled_at")) if status == "canceled" else None
    spans = []  # (status, from, to)
    at = start
    if trial_start and trial_end:
        if status == "trialing":
            spans.append(("trialing", trial_start, None))
        else:
            trial_to = min(trial_end, ended) if ended else trial_end
            spans.append(("trialing", trial_start, trial_to))
            at = trial_to
    if status != "trialing":
        if ended is not None:
            if at < ended:
                spans.append(("active", at, ended))
            spans.append(("canceled", ended, None))
        else:
            spans.append((status, at, None))
    rows, counted = [], False
    for span_status, valid_from, valid_to in spans:
        fields = history_fields_from_stripe({**data, "status": span_status})
        if span_status in MRR_STATUSES:
            change = SubscriptionChange.UPDATE if counted else SubscriptionChange.NEW
            counted = True
        else:
            change = SubscriptionChange.CHURN if span_status == "canceled" and counted else SubscriptionChange.UPDATE
        rows.append({**fields, "valid_from": valid_from, "valid_to": valid_to, "change": str(change)})
    return rows


def _invoice_subscription_id(invoice: dict) -> str:
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription = details.get("subscription") or invoice.get("subscription") or ""
    return subscription.get("id", "") if isinstance(subscription, dict) else subscription


def subscription_payment_record(*, invoice: dict, organization: Organization) -> SubscriptionPayment | None:
    """Record a paid subscription invoice once (from `invoice.paid`); None for a free or non-subscription one."""
    subscription_id = _invoice_subscription_id(invoice)
    amount = invoice.get("amount_paid") or 0
    if not subscription_id or amount < 1 or not invoice.get("id"):
        return None
    lines = (invoice.get("lines") or {}).get("data") or []
    period = (lines[0].get("period") if lines else None) or {}
    paid_at = _timestamp((invoice.get("status_transitions") or {}).get("paid_at")) or _timestamp(invoice.get("created"))
    with transaction.atomic():
        payment, created = SubscriptionPayment.objects.get_or_create(
            stripe_invoice_id=invoice["id"],
            defaults={
                "organization": organization,
                "stripe_subscription_id": subscription_id,
                "amount": amount,
                "currency": (invoice.get("currency") or "usd").lower(),
                "paid_at": paid_at,
                "period_start": _timestamp(period.get("start")),
                "period_end": _timestamp(period.get("end")),
                "billing_reason": invoice.get("billing_reason") or "",
            },
        )
        if created:
            rollups_lock_shared()
            customer_revenue_add(
                organization_id=payment.organization_id,
                paid_at=payment.paid_at,
                currency=payment.currency,
                amount=payment.amount,
            )
            payment_day_add(paid_at=payment.paid_at, currency=payment.currency, amount=payment.amount)
            if payment.organization_id is not None:
                customer_cohort_refresh(organization_id=payment.organization_id)
            _bump_on_commit()
    return payment if created else None


def subscription_refund_record_from_stripe(*, refund: dict) -> SubscriptionRefund | None:
    """Record (or, once failed or canceled, forget) a refund of a subscription payment; None otherwise.

    A refund of a one-time purchase's payment is the purchase's (`PurchaseRefund`) and is
    left alone here. The customer is the one dj-stripe's mirror has on the payment intent.
    """
    payment_intent = refund.get("payment_intent") or ""
    amount = refund.get("amount") or 0
    if not payment_intent or amount < 1 or not refund.get("id"):
        return None
    if Purchase.objects.filter(stripe_payment_intent_id=payment_intent).exists():
        return None
    with transaction.atomic():
        if refund.get("status") not in REFUND_COUNTED_STATUSES:
            if SubscriptionRefund.objects.filter(stripe_refund_id=refund["id"]).delete()[0]:
                _bump_on_commit()
            return None
        intent = PaymentIntent.objects.filter(id=payment_intent).select_related("customer").first()
        organization_id = intent.customer.subscriber_id if intent is not None and intent.customer else None
        if organization_id is None:
            return None
        created_at = _timestamp(refund.get("created"))
        recorded, created = SubscriptionRefund.objects.get_or_create(
            stripe_refund_id=refund["id"],
            defaults={
                "organization_id": organization_id,
                "stripe_payment_intent_id": payment_intent,
                "amount": amount,
                "currency": (refund.get("currency") or "usd").lower(),
                "refunded_at": created_at or datetime.now(tz=UTC),
                "reason": refund.get("reason") or "",
            },
        )
        if created:
            _bump_on_commit()
    return recorded if created else None
