"""Billing's revenue rollups equal their recomputation from the source rows, whatever order the webhooks came in.

The rollups (MRR per day, paying-customer days, invoices per customer and month) are
kept by the recording services as they write; `revenue_rollups_computed` recomputes
them from the states and payments alone, `revenue_rollups_rebuild` writes that back.
"""

import importlib
import random
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.apps import apps
from django.db import connection

from accounts.models import Organization
from billing.models import CohortCell, CustomerRevenue, MrrDay, PayingCustomerChange, SubscriptionRefund
from billing.selectors_revenue import mrr_days
from billing.services.revenue import subscription_history_record, subscription_payment_record
from billing.services.revenue_rollups import (
    ROLLUP_MODELS,
    customer_cohort_of,
    paying_customer_days,
    revenue_rollups_computed,
    revenue_rollups_organization_forget,
    revenue_rollups_rebuild,
    revenue_rollups_stored,
)
from billing.tests.factories import OrganizationFactory

START = datetime(2025, 3, 1, tzinfo=UTC)


def _subscription(sub_id: str, status: str, *, unit: int, quantity: int = 1, currency: str = "usd", start, at) -> dict:
    return {
        "id": sub_id,
        "status": status,
        "start_date": int(start.timestamp()),
        "created": int(start.timestamp()),
        "ended_at": int(at.timestamp()) if status == "canceled" else None,
        "discounts": [],
        "items": {
            "data": [
                {
                    "quantity": quantity,
                    "price": {
                        "unit_amount": unit,
                        "currency": currency,
                        "lookup_key": "",
                        "recurring": {"interval": "month", "interval_count": 1},
                    },
                }
            ]
        },
    }


def _pay(org, invoice_id: str, amount: int, currency: str, paid_at: datetime):
    return subscription_payment_record(
        invoice={
            "id": invoice_id,
            "amount_paid": amount,
            "currency": currency,
            "status_transitions": {"paid_at": int(paid_at.timestamp())},
            "parent": {"subscription_details": {"subscription": "sub_x"}},
        },
        organization=org,
    )


def _random_history(seed: int) -> None:
    """Random subscriptions and payments for a dozen organizations, written through billing's services as
    webhooks would: each delivered once or twice, some late (an older object after a newer one)."""
    rng = random.Random(seed)
    for n, org in enumerate(OrganizationFactory.create_batch(12)):
        deliveries = []  # (when received, data)
        for m in range(rng.choice([1, 1, 2, 3])):
            sub_id, currency = f"sub_{seed}_{n}_{m}", rng.choice(["usd", "eur", "usd"])
            start = START + timedelta(days=rng.randint(0, 200), seconds=rng.randint(0, 86_399))
            at, unit = start, rng.randint(0, 5000)
            status = rng.choice(["trialing", "active", "active"])
            for _ in range(rng.randint(1, 6)):
                deliveries.append((at, _subscription(sub_id, status, unit=unit, currency=currency, start=start, at=at)))
                if status == "canceled":
                    break
                at += timedelta(days=rng.randint(0, 40), seconds=rng.randint(0, 86_399))
                status = rng.choice(["active", "active", "past_due", "canceled", "trialing"])
                unit = rng.choice([unit, unit, 0, rng.randint(1, 9000)])
        # Duplicates and reordering: some deliveries again, some out of place.
        deliveries += [d for d in deliveries if rng.random() < 0.3]
        deliveries.sort(key=lambda d: d[0] + timedelta(days=rng.choice([0, 0, 0, 3])))
        for received, data in deliveries:
            subscription_history_record(organization=org, subscriptions=[data], now=received)
        for k in range(rng.randint(0, 8)):
            paid_at = START + timedelta(days=rng.randint(0, 300), seconds=rng.randint(0, 86_399))
            amount, currency = rng.randint(1, 90_000), rng.choice(["usd", "eur"])
            for _ in range(rng.choice([1, 1, 2])):  # `invoice.paid` delivered twice: recorded once
                _pay(org, f"in_{seed}_{n}_{k}", amount, currency, paid_at)
            if rng.random() < 0.3:  # refunds are not rolled up: they change nothing here
                SubscriptionRefund.objects.create(
                    organization=org,
                    stripe_refund_id=f"re_{seed}_{n}_{k}",
                    stripe_payment_intent_id=f"pi_{seed}_{n}_{k}",
                    amount=rng.randint(1, amount),
                    currency=currency,
                    refunded_at=paid_at + timedelta(days=2),
                )


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 7, 42])
def test_the_rollups_kept_while_recording_equal_their_rebuild_after_duplicate_and_late_webhooks(seed):
    _random_history(seed)
    kept = revenue_rollups_stored()
    assert kept == revenue_rollups_computed()
    assert all(kept.values())  # the history did exercise each rollup

    revenue_rollups_rebuild()
    assert revenue_rollups_stored() == kept


@pytest.mark.django_db
def test_the_backfill_migration_fills_the_rollups_from_existing_records():
    _random_history(3)
    kept = revenue_rollups_stored()
    # As before migration 0016: records, no rollups.
    for name in ROLLUP_MODELS:
        apps.get_model("billing", name).objects.all().delete()
    assert not any(revenue_rollups_stored().values())
    migration = importlib.import_module("billing.migrations.0016_revenue_rollups_backfill")
    migration.backfill(apps, connection.schema_editor())
    assert revenue_rollups_stored() == kept


@pytest.mark.django_db
def test_a_repair_rebuild_replaces_wrong_rows():
    _random_history(5)
    kept = revenue_rollups_stored()
    MrrDay.objects.filter(pk__in=MrrDay.objects.values("pk")[:3]).update(mrr=123_456, paying_customers=9)
    PayingCustomerChange.objects.filter(pk__in=PayingCustomerChange.objects.values("pk")[:2]).delete()
    CustomerRevenue.objects.create(organization=OrganizationFactory(), currency="usd", amount=5, first_paid_at=START)
    CohortCell.objects.filter(pk__in=CohortCell.objects.values("pk")[:1]).update(customers=77)
    assert revenue_rollups_stored() != kept
    revenue_rollups_rebuild()
    assert revenue_rollups_stored() == kept


@pytest.mark.django_db
def test_mrr_day_figures_of_two_subscriptions_of_one_customer():
    org = OrganizationFactory()
    day1, day2, day3 = START, START + timedelta(days=2, hours=5), START + timedelta(days=9)
    a = _subscription("sub_a", "active", unit=1000, start=day1, at=day1)
    b = _subscription("sub_b", "active", unit=500, quantity=2, start=day2, at=day2)
    subscription_history_record(organization=org, subscriptions=[a], now=day1)
    subscription_history_record(organization=org, subscriptions=[a, b], now=day2)
    subscription_history_record(organization=org, subscriptions=[a, b], now=day2)  # a replay: nothing
    subscription_history_record(
        organization=org,
        subscriptions=[_subscription("sub_a", "canceled", unit=1000, start=day1, at=day3)],
        now=day3,
    )
    base, changes = mrr_days(first_day=date(2025, 3, 1), last_day=date(2025, 3, 31))
    assert base == {}
    assert [(c.day, c.currency, c.mrr, c.subscriptions, c.paying_customers, c.new, c.churned) for c in changes] == [
        (date(2025, 3, 1), "usd", 1000, 1, 1, 1, 0),
        (date(2025, 3, 3), "usd", 1000, 1, 0, 1, 0),  # a second subscription: still one customer
        (date(2025, 3, 10), "usd", -1000, -1, 0, 0, 1),  # one of two cancelled: still paying
    ]
    assert mrr_days(first_day=date(2025, 4, 1), last_day=date(2025, 4, 30)) == ({"usd": (1000, 1, 1)}, [])


def test_paying_customer_days_cross_zero_once_per_span():
    at = datetime(2025, 1, 1, 10, tzinfo=UTC)
    spans = [
        ("usd", at, at + timedelta(days=3)),
        ("usd", at + timedelta(days=3, hours=2), None),  # the next state of the same day: no gap
        ("eur", at, at + timedelta(hours=3)),  # began and ended the same day: never at an end of day
        ("eur", at + timedelta(days=5), at + timedelta(days=6)),
    ]
    assert paying_customer_days(spans) == {
        ("usd", date(2025, 1, 1)): 1,
        ("eur", date(2025, 1, 6)): 1,
        ("eur", date(2025, 1, 7)): -1,
    }


def test_a_customers_cohort_and_paying_months():
    paying_days = {
        ("usd", date(2025, 1, 31)): 1,
        ("usd", date(2025, 3, 1)): -1,  # paid at the ends of Jan 31 ... Feb 28
        ("eur", date(2025, 6, 2)): 1,
        ("eur", date(2025, 6, 3)): -1,
        ("eur", date(2025, 9, 15)): 1,  # still paying
    }
    assert customer_cohort_of(payment_months=[date(2025, 4, 1), date(2025, 11, 1)], paying_days=paying_days) == (
        date(2025, 4, 1),
        {date(2025, 1, 1), date(2025, 2, 1), date(2025, 4, 1), date(2025, 6, 1)},
        date(2025, 9, 1),
    )
    assert customer_cohort_of(payment_months=[], paying_days={}) == (None, set(), None)


THREADS = 4
ROUNDS = 5


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_recordings_of_one_day_and_currency_lose_no_increment(require_postgres):
    """Several connections record states of different subscriptions, the same currency and day, at once:
    every increment of the shared `MrrDay` row (and its first insert) is kept."""
    orgs = [OrganizationFactory() for _ in range(THREADS)]
    day = datetime(2025, 6, 1, 12, tzinfo=UTC)
    barrier = threading.Barrier(THREADS)
    errors = []

    def record(n: int) -> None:
        try:
            for r in range(ROUNDS):
                barrier.wait(timeout=30)
                status = "active" if r % 2 == 0 else "past_due"
                data = _subscription(f"sub_race_{n}", status, unit=100 * (n + 1) + r, start=day, at=day)
                subscription_history_record(organization=orgs[n], subscriptions=[data], now=day + timedelta(minutes=r))
                _pay(orgs[n], f"in_race_{n}_{r}", 100 + r, "usd", day)
        except Exception as error:  # noqa: BLE001 — reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=record, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert revenue_rollups_stored() == revenue_rollups_computed()
    row = MrrDay.objects.get(day=date(2025, 6, 1), currency="usd")
    last = ROUNDS - 1
    assert (row.mrr, row.subscriptions, row.paying_customers, row.new) == (
        sum(100 * (n + 1) + last for n in range(THREADS)),
        THREADS,
        THREADS,
        THREADS,
    )
    assert sorted(CustomerRevenue.objects.values_list("payments", flat=True)) == [ROUNDS] * THREADS


@pytest.mark.django_db
def test_a_deleted_organization_leaves_the_paying_customers_and_cohorts_but_not_mrr():
    _random_history(9)
    org = PayingCustomerChange.objects.values_list("organization_id", flat=True).order_by("organization_id").first()
    mrr_before = {key: values.get("mrr") for key, values in revenue_rollups_stored()["mrr_days"].items()}

    # As the account deletion does (its billing step), then the deletion itself.
    revenue_rollups_organization_forget(organization_id=org)
    Organization.objects.filter(pk=org).delete()

    kept = revenue_rollups_stored()
    assert kept == revenue_rollups_computed()
    assert not PayingCustomerChange.objects.filter(organization_id=org).exists()
    assert {key: values.get("mrr") for key, values in kept["mrr_days"].items()} == mrr_before
