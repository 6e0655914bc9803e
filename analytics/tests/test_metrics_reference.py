"""Every metric against a deliberately naive computation, to the cent, for every day of a year.

Random histories (trials, upgrades, downgrades, yearly, weekly and quarterly plans,
recurring and one-off discounts, past due and back, cancellations, refunds, three
currencies) are written through billing's own recording services, as the webhooks
write them. The reference below never looks at billing's tables: it replays the
generated plan day by day, subscription by subscription, with its own arithmetic
(Decimal at 50 digits, not fractions).
"""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest

from analytics.periods import ReportPeriod, buckets
from analytics.selectors import cohort_retention, customer_lifetime_values, growth_series, mrr_series, revenue_trend
from billing.models import SubscriptionRefund
from billing.services.revenue import subscription_history_record, subscription_payment_record
from billing.tests.factories import OrganizationFactory, PurchaseFactory

pytestmark = pytest.mark.django_db

YEAR = ReportPeriod(first_day=date(2025, 1, 1), last_day=date(2025, 12, 31))
HISTORY_FROM = datetime(2024, 9, 1, tzinfo=UTC)
HISTORY_TO = datetime(2026, 1, 20, tzinfo=UTC)
CURRENCIES = ("usd", "eur", "gbp")
COUNTED = ("active", "past_due")


def _random_time(rng, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.randint(0, int((end - start).total_seconds())))


def _random_price(rng):
    interval, count = rng.choice([("month", 1), ("month", 1), ("year", 1), ("week", 1), ("month", 3), ("day", 1)])
    discount = rng.choice(
        [
            None,
            None,
            None,
            ("forever", "12.5", None),
            ("repeating", "33.33", None),
            ("forever", None, 700),
            ("once", "50", None),
        ]
    )
    return {
        "unit": rng.randint(99, 60_000),
        "quantity": rng.randint(1, 4),
        "interval": interval,
        "count": count,
        "discount": discount,
    }


def _stripe_subscription(
    sub_id: str, status: str, price: dict, *, currency: str, start: datetime, at: datetime
) -> dict:
    """The subscription object as Stripe sends it (the fields billing reads)."""
    discounts = []
    if price["discount"]:
        duration, percent, amount = price["discount"]
        discounts = [
            {"coupon": {"duration": duration, "percent_off": float(percent) if percent else None, "amount_off": amount}}
        ]
    return {
        "id": sub_id,
        "status": status,
        "start_date": int(start.timestamp()),
        "created": int(start.timestamp()),
        "ended_at": int(at.timestamp()) if status == "canceled" else None,
        "discounts": discounts,
        "items": {
            "data": [
                {
                    "quantity": price["quantity"],
                    "price": {
                        "unit_amount": price["unit"],
                        "currency": currency,
                        "lookup_key": "",
                        "recurring": {"interval": price["interval"], "interval_count": price["count"]},
                    },
                }
            ]
        },
    }


def generate(seed: int) -> dict:
    """Random customers, subscriptions and money, written through billing's services; returns the plan."""
    rng = random.Random(seed)
    plan = {"subscriptions": [], "payments": [], "refunds": [], "purchases": []}
    organizations = OrganizationFactory.create_batch(30)
    for n, org in enumerate(organizations):
        for m in range(rng.choice([1, 1, 1, 2])):
            sub_id, currency = f"sub_{seed}_{n}_{m}", rng.choice(CURRENCIES)
            start = _random_time(rng, HISTORY_FROM, datetime(2025, 12, 20, tzinfo=UTC)).replace(microsecond=0)
            price = _random_price(rng)
            changes = []
            at = start
            if rng.random() < 0.3:
                changes.append((at, "trialing", price))
                at += timedelta(days=rng.randint(3, 14), seconds=rng.randint(1, 86_399))
                if rng.random() < 0.2:
                    changes.append((at, "canceled", price))
            if not changes or changes[-1][1] != "canceled":
                changes.append((at, "active", price))
                status = "active"
                while rng.random() < 0.7:
                    at += timedelta(days=rng.randint(0, 80), seconds=rng.randint(1, 86_399))
                    kind = rng.choice(["price", "price", "past_due", "cancel"])
                    if kind == "price":
                        price = _random_price(rng)
                        changes.append((at, status, price))
                    elif kind == "past_due":
                        status = "active" if status == "past_due" else "past_due"
                        changes.append((at, status, price))
                    else:
                        changes.append((at, "canceled", price))
                        break
            for at, status, price_then in changes:
                subscription_history_record(
                    organization=org,
                    subscriptions=[
                        _stripe_subscription(sub_id, status, price_then, currency=currency, start=start, at=at)
                    ],
                    now=at,
                )
            plan["subscriptions"].append({"id": sub_id, "org": org.pk, "currency": currency, "changes": changes})
            # Invoices paid while it lived (amounts need not match the price: the metric sums what was paid).
            end = changes[-1][0] if changes[-1][1] == "canceled" else HISTORY_TO
            for k in range(rng.randint(0, 6)):
                paid_at = _random_time(rng, start, end).replace(microsecond=0)
                amount = rng.randint(1, 90_000)
                subscription_payment_record(
                    invoice={
                        "id": f"in_{sub_id}_{k}",
                        "amount_paid": amount,
                        "currency": currency,
                        "status_transitions": {"paid_at": int(paid_at.timestamp())},
                        "parent": {"subscription_details": {"subscription": sub_id}},
                        "billing_reason": "subscription_cycle",
                    },
                    organization=org,
                )
                plan["payments"].append((org.pk, currency, amount, paid_at))
                if rng.random() < 0.25:
                    refunded_at = paid_at + timedelta(days=rng.randint(0, 40), seconds=rng.randint(0, 86_399))
                    refund = rng.randint(1, amount)
                    SubscriptionRefund.objects.create(
                        organization=org,
                        stripe_refund_id=f"re_{sub_id}_{k}",
                        stripe_payment_intent_id=f"pi_{sub_id}_{k}",
                        amount=refund,
                        currency=currency,
                        refunded_at=refunded_at,
                    )
                    plan["refunds"].append((org.pk, currency, refund, refunded_at))
        for k in range(rng.randint(0, 4)):
            buyer = org if rng.random() < 0.85 else None
            paid_at = _random_time(rng, HISTORY_FROM, HISTORY_TO)
            amount, currency = rng.randint(100, 20_000), rng.choice(CURRENCIES)
            refunded = rng.choice([0, 0, 0, rng.randint(1, amount), amount])
            refunded_at = paid_at + timedelta(days=rng.randint(0, 30), hours=rng.randint(0, 23))
            PurchaseFactory(
                organization=buyer,
                amount=amount,
                currency=currency,
                paid_at=paid_at,
                refunded_amount=refunded,
                refunded_at=refunded_at,
                item_id=f"q{seed}-{n}-{k}",
            )
            plan["purchases"].append((buyer.pk if buyer else None, currency, amount, paid_at))
            if refunded:
                plan["refunds"].append((buyer.pk if buyer else None, currency, refunded, refunded_at))
    return plan


# --- The naive reference ------------------------------------------------------------------------


def naive_monthly(price: dict) -> int:
    """Price × quantity, less a recurring discount as Stripe takes it, per month, rounded half up."""
    with localcontext() as ctx:
        ctx.prec = 50
        amount = Decimal(price["unit"] * price["quantity"])
        duration, percent, amount_off = price["discount"] or (None, None, None)
        if duration in ("forever", "repeating"):
            if percent:
                amount -= (amount * Decimal(percent) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
            if amount_off:
                amount = max(Decimal(0), amount - amount_off)
        per_year = {"day": Decimal(365), "week": Decimal(52), "month": Decimal(12), "year": Decimal(1)}[
            price["interval"]
        ]
        monthly = amount * per_year / 12 / price["count"]
        return int(monthly.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


def state_at_end_of(subscription: dict, day: date):
    """The last change made before the next midnight, or None if it had not started."""
    instant = end_of(day)
    before = [c for c in subscription["changes"] if c[0] < instant]
    return before[-1] if before else None


def naive_day(plan: dict, day: date) -> dict:
    mrr, subscriptions, customers = {}, {}, {}
    for sub in plan["subscriptions"]:
        state = state_at_end_of(sub, day)
        if state is None or state[1] not in COUNTED:
            continue
        amount = naive_monthly(state[2])
        mrr[sub["currency"]] = mrr.get(sub["currency"], 0) + amount
        subscriptions[sub["currency"]] = subscriptions.get(sub["currency"], 0) + 1
        if amount > 0:
            customers.setdefault(sub["currency"], set()).add(sub["org"])
    return {"mrr": mrr, "subscriptions": subscriptions, "customers": {c: len(o) for c, o in customers.items()}}


def naive_round_div(a: int, b: int) -> int:
    return int((Decimal(a) / Decimal(b)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.fixture(params=[11, 2025, 90210], ids=lambda seed: f"seed{seed}")
def plan(request):
    return generate(request.param)


def test_mrr_arr_subscriptions_customers_and_arpu_every_day_of_a_year(plan):
    points = {(p.day, p.currency): p for p in mrr_series(period=YEAR, granularity="day")}
    currencies = {c for (_, c) in points}
    day = YEAR.first_day
    checked = 0
    while day <= YEAR.last_day:
        expected = naive_day(plan, day)
        assert set(expected["mrr"]) <= currencies
        for currency in currencies:
            point = points[(day, currency)]
            mrr = expected["mrr"].get(currency, 0)
            customers = expected["customers"].get(currency, 0)
            assert (point.mrr, point.arr, point.subscriptions, point.paying_customers, point.arpu) == (
                mrr,
                mrr * 12,
                expected["subscriptions"].get(currency, 0),
                customers,
                naive_round_div(mrr, customers) if customers else None,
            ), (day, currency)
            checked += 1
        day += timedelta(days=1)
    assert checked == 365 * len(currencies)
    # Weekly and monthly points are the daily figures at each bucket's last day.
    for granularity in ("week", "month"):
        for point in mrr_series(period=YEAR, granularity=granularity):
            assert point == points[(point.day, point.currency)]


@pytest.mark.parametrize("granularity", ["day", "week", "month"])
def test_growth_and_churn_per_bucket(plan, granularity):
    series = growth_series(period=YEAR, granularity=granularity)
    assert [(p.first_day, p.last_day) for p in series] == [
        (b.first_day, b.last_day) for b in buckets(period=YEAR, granularity=granularity)
    ]
    for point in series:
        start, end = end_of(point.first_day - timedelta(days=1)), end_of(point.last_day)
        new = cancelled = active = 0
        for sub in plan["subscriptions"]:
            changes = sub["changes"]
            first_counted = next((c[0] for c in changes if c[1] in COUNTED), None)
            if first_counted is not None and start <= first_counted < end:
                new += 1
            for previous, change in zip(changes, changes[1:], strict=False):
                if change[1] == "canceled" and previous[1] in COUNTED and start <= change[0] < end:
                    cancelled += 1
            state = state_at_end_of(sub, point.first_day - timedelta(days=1))
            if state is not None and state[1] in COUNTED:
                active += 1
        rate = (Decimal(cancelled) * 100 / active).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if active else None
        assert (point.new, point.cancelled, point.net, point.active_at_start, point.churn_rate) == (
            new,
            cancelled,
            new - cancelled,
            active,
            rate,
        ), point


@pytest.mark.parametrize("granularity", ["day", "week", "month"])
def test_revenue_trend_per_bucket_and_currency(plan, granularity):
    series = revenue_trend(period=YEAR, granularity=granularity)
    currencies = {p.currency for p in series}
    for point in series:
        start, end = end_of(point.first_day - timedelta(days=1)), end_of(point.last_day)

        def total(rows, currency, start=start, end=end):
            return sum(amount for _, c, amount, at in rows if c == currency and start <= at < end)

        subscriptions = total(plan["payments"], point.currency)
        purchases = total(plan["purchases"], point.currency)
        refunds = total(plan["refunds"], point.currency)
        payments = sum(
            1 for _, c, _, at in plan["payments"] + plan["purchases"] if c == point.currency and start <= at < end
        )
        assert (point.subscriptions, point.purchases, point.refunds, point.net, point.payments) == (
            subscriptions,
            purchases,
            refunds,
            subscriptions + purchases - refunds,
            payments,
        ), point
    in_year = {c for _, c, _, at in plan["payments"] + plan["purchases"] + plan["refunds"] if at.year == 2025}
    assert currencies == in_year


def test_lifetime_value_of_every_customer(plan):
    expected = {}
    for org, currency, amount, _ in plan["payments"] + plan["purchases"]:
        if org is not None:
            expected.setdefault((org, currency), [0, 0])[0] += amount
    for org, currency, amount, _ in plan["refunds"]:
        if org is not None:
            expected.setdefault((org, currency), [0, 0])[1] += amount
    found = customer_lifetime_values(limit=1000)
    assert {(c.organization_id, c.currency): [c.paid, c.refunds] for c in found} == expected
    for currency in CURRENCIES:
        values = [c.lifetime_value for c in found if c.currency == currency]
        assert values == sorted(values, reverse=True)


def test_cohort_retention_by_month_of_first_payment(plan):
    rows = cohort_retention(first_month=date(2025, 1, 1), last_month=date(2025, 12, 1))
    first: dict[int, datetime] = {}
    paying: dict[int, set[date]] = {}
    for org, _, _, at in plan["payments"] + plan["purchases"]:
        if org is None:
            continue
        first[org] = min(first.get(org, at), at)
        paying.setdefault(org, set()).add(date(at.year, at.month, 1))
    day = date(2024, 9, 1)
    while day <= date(2025, 12, 31):
        for sub in plan["subscriptions"]:
            state = state_at_end_of(sub, day)
            if state is not None and state[1] in COUNTED and naive_monthly(state[2]) > 0:
                paying.setdefault(sub["org"], set()).add(date(day.year, day.month, 1))
        day += timedelta(days=1)
    expected = []
    for month in [date(2025, m, 1) for m in range(1, 13)]:
        members = [org for org, at in first.items() if (at.year, at.month) == (month.year, month.month)]
        if not members:
            continue
        retained = tuple(
            sum(1 for org in members if date(2025, month.month + n, 1) in paying.get(org, set()))
            for n in range(13 - month.month)
        )
        expected.append((month, len(members), retained))
    assert [(r.month, r.customers, r.retained) for r in rows] == expected
    for row in rows:
        assert row.retention[0] == Decimal("100.00")
