"""Analytics at scale: generate a big history on PostgreSQL, then time the metrics on it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/plateau_bench_analytics \\
    REDIS_URL=redis://127.0.0.1:6379/4 CACHE_KEY_PREFIX=bench-analytics \\
    python bench/analytics_data.py generate [--subscriptions 100000] [--payments 1000000] [--events 10000000]
    ... python bench/analytics_data.py measure [--rounds 5]

`generate` (on an empty, migrated database: `manage.py migrate` first) writes one
customer organization per subscription, each subscription's history over the last
year (trials, price changes, past due, cancellations; the monthly amounts computed by
billing's own rule), the payments spread over the subscriptions' paying spans, and
product events over the last 90 days, with PostgreSQL's COPY and a progress bar.
`measure` times, uncached and cached, the figures the goals name (docs/analytics.md,
bench/README.md), as medians over rounds.
"""

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from billing.services.revenue import monthly_recurring_amount  # noqa: E402

NOW = datetime.now(tz=UTC).replace(microsecond=0)
PRICES = [(3200, "usd", "month"), (32000, "usd", "year"), (2900, "eur", "month"), (9900, "usd", "month")]
EVENT_NAMES = ["page_view"] * 8 + ["click", "search", "category_browse", "checkout_started", "signup"]


class Progress:
    """A text progress bar on stderr."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done, self.started, self.shown = label, total, 0, time.monotonic(), -1

    def add(self, count: int = 1) -> None:
        self.done += count
        percent = self.done * 100 // max(1, self.total)
        if percent != self.shown or self.done == self.total:
            self.shown = percent
            bar = "#" * (percent // 4)
            rate = self.done / max(1e-9, time.monotonic() - self.started)
            sys.stderr.write(f"\r{self.label:<14} [{bar:<25}] {percent:3d}% {self.done:>11,} ({rate:,.0f}/s)")
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def _copy(table: str, columns: list[str], rows, progress: Progress) -> None:
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                progress.add()


def generate(*, subscriptions: int, payments: int, events: int, seed: int) -> None:
    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM accounts_organization")
        first_org = cursor.fetchone()[0] + 1
    org_ids = range(first_org, first_org + subscriptions)
    _copy(
        "accounts_organization",
        ["id", "name", "slug", "email", "is_personal", "created_at"],
        ((i, f"Bench customer {i}", f"bench-customer-{i}", f"b{i}@bench.test", False, NOW) for i in org_ids),
        Progress("organizations", subscriptions),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('accounts_organization', 'id'), %s)", [org_ids[-1]])

    spans = []  # (organization, subscription, currency, amount per period, period days, from, to)
    history = []
    for org in org_ids:
        sub_id = f"sub_bench_{org}"
        unit, currency, interval = rng.choice(PRICES)
        start = NOW - timedelta(days=rng.randint(1, 400), seconds=rng.randint(0, 86_399))
        states = []
        at = start
        if rng.random() < 0.15:
            states.append(("trialing", unit, at))
            at += timedelta(days=14)
        states.append(("active", unit, at))
        if rng.random() < 0.3:
            at += timedelta(days=rng.randint(10, 200))
            unit = rng.choice(PRICES[:1] + PRICES[3:])[0] if currency == "usd" else unit
            states.append(("active", unit, at))
        if rng.random() < 0.1:
            at += timedelta(days=rng.randint(5, 60))
            states += [("past_due", unit, at), ("active", unit, at + timedelta(days=2))]
            at += timedelta(days=2)
        if rng.random() < 0.3:
            at += timedelta(days=rng.randint(5, 150))
            states.append(("canceled", unit, at))
        states = [s for s in states if s[2] < NOW]
        counted_before = False
        for n, (status, price, valid_from) in enumerate(states):
            valid_to = states[n + 1][2] if n + 1 < len(states) else None
            mrr = (
                monthly_recurring_amount(unit_amount=price, quantity=1, interval=interval, interval_count=1)
                if status in ("active", "past_due")
                else 0
            )
            if status in ("active", "past_due"):
                change = "update" if counted_before else "new"
                counted_before = True
            else:
                change = "churn" if status == "canceled" and counted_before else "update"
            history.append(
                (org, sub_id, status, "premium", "", price, currency, interval, 1, 1, mrr, change, valid_from, valid_to)
            )
            if status == "active":
                spans.append(
                    (org, sub_id, currency, price, 365 if interval == "year" else 30, valid_from, valid_to or NOW)
                )
    columns = [
        "organization_id",
        "stripe_subscription_id",
        "status",
        "plan",
        "price_lookup_key",
        "unit_amount",
        "currency",
        "interval",
        "interval_count",
        "quantity",
        "mrr_amount",
        "change",
        "valid_from",
        "valid_to",
    ]
    _copy("billing_subscriptionhistory", columns, history, Progress("history", len(history)))

    def payment_rows():
        made = 0
        while made < payments:
            org, sub_id, currency, amount, _, start, end = rng.choice(spans)
            seconds = max(1, int((end - start).total_seconds()))
            paid_at = start + timedelta(seconds=rng.randint(0, seconds))
            made += 1
            yield (org, f"in_bench_{made}", sub_id, amount, currency, paid_at, paid_at, "subscription_cycle", NOW)

    _copy(
        "billing_subscriptionpayment",
        [
            "organization_id",
            "stripe_invoice_id",
            "stripe_subscription_id",
            "amount",
            "currency",
            "paid_at",
            "period_start",
            "billing_reason",
            "created_at",
        ],
        payment_rows(),
        Progress("payments", payments),
    )

    def event_rows():
        for _n in range(events):
            at = NOW - timedelta(seconds=rng.randint(0, 90 * 86_400))
            name = rng.choice(EVENT_NAMES)
            item = rng.randint(1, 500)
            yield (
                uuid.UUID(int=rng.getrandbits(128)),
                name,
                at,
                at,
                None,
                None,
                f"v{rng.randint(1, 200_000)}",
                "/",
                "content:article_detail" if name == "page_view" else "",
                f"article-{item}" if name == "page_view" else "",
                "{}",
            )

    _copy(
        "analytics_event",
        [
            "uuid",
            "name",
            "occurred_at",
            "received_at",
            "organization_id",
            "user_id",
            "anonymous_id",
            "path",
            "item_type",
            "item_id",
            "properties",
        ],
        event_rows(),
        Progress("events", events),
    )
    # COPY bypassed the event flush, which keeps the funnel's last time per step and visitor.
    from analytics.services import step_visitors_rebuild

    print(f"step visitors rebuilt: {step_visitors_rebuild():,}", flush=True)
    # COPY bypassed billing's recording services, which keep its revenue rollups (MRR per day, paying
    # customers, per-customer totals, cohort counts): fill them as the backfill migration does.
    from django.apps import apps

    from billing.services.revenue_rollups import ROLLUP_MODELS, revenue_rollups_rebuild

    started = time.perf_counter()
    counts = revenue_rollups_rebuild()
    print(f"revenue rollups rebuilt in {time.perf_counter() - started:.0f} s: {counts}", flush=True)
    with connection.cursor() as cursor:
        # VACUUM as autovacuum would soon after such inserts: the visibility map lets the metrics
        # read payments from their (organization, paid_at) index alone.
        for table in (
            "accounts_organization",
            "billing_subscriptionhistory",
            "billing_subscriptionpayment",
            "billing_purchase",
            "billing_subscriptionrefund",
            "analytics_event",
            *(apps.get_model("billing", name)._meta.db_table for name in ROLLUP_MODELS),
            "analytics_stepvisitor",
        ):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    from analytics.services import rollups_build

    days = Progress("rollups (days)", 91)
    for back in range(91):
        rollups_build(day=(NOW - timedelta(days=back)).date())
        days.add()


def _timed(function, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(*, rounds: int) -> None:
    from django.contrib.auth.models import AnonymousUser  # noqa: F401
    from django.core.cache import cache
    from django.test import RequestFactory

    from accounts.models import User
    from analytics import selectors, views
    from analytics.periods import ReportPeriod
    from analytics.selectors import cohort_retention, conversion_funnel, customer_lifetime_values, mrr_series
    from billing.services.revenue import revenue_version_bump

    today = NOW.date()
    year = ReportPeriod(first_day=today - timedelta(days=364), last_day=today)
    two_years = ReportPeriod(first_day=today - timedelta(days=730), last_day=today)
    month = ReportPeriod(first_day=today - timedelta(days=29), last_day=today)

    def uncached(function):
        def run():
            revenue_version_bump()  # a new version: no figure over billing data cached is read
            return function()

        return run

    def cold(function):
        def run():
            # Nor the figures over events, which are kept for selectors.EVENTS_CACHE_SECONDS.
            cache.delete(selectors._cache_key("funnel-events", (month,), versioned=False))
            revenue_version_bump()
            return function()

        return run

    staff, _ = User.objects.get_or_create(
        email="bench-staff@plateau.test", defaults={"is_staff": True, "is_superuser": True}
    )
    request = RequestFactory().get(f"/admin/analytics/?start={month.first_day}&end={today}&granularity=day")
    request.user = staff
    request.session = {}

    def dashboard():
        response = views.dashboard(request)
        assert response.status_code == 200

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM billing_subscriptionhistory), (SELECT count(DISTINCT stripe_subscription_id) "
            "FROM billing_subscriptionhistory), (SELECT count(*) FROM billing_subscriptionpayment), "
            "(SELECT reltuples::bigint FROM pg_class WHERE relname = 'analytics_event')"
        )
        rows, subs, payments, events = cursor.fetchone()
    print(f"data: {subs:,} subscriptions ({rows:,} states), {payments:,} payments, ~{events:,} events", flush=True)
    cases = {
        "MRR series, 12 months by day, uncached": uncached(lambda: mrr_series(period=year, granularity="day")),
        "MRR series, 12 months by day, cached": lambda: mrr_series(period=year, granularity="day"),
        "MRR series, 12 months by month, uncached": uncached(lambda: mrr_series(period=year, granularity="month")),
        "cohort table, 24 months, uncached": uncached(
            lambda: cohort_retention(first_month=two_years.first_day, last_month=today)
        ),
        "lifetime value, top 10, uncached": uncached(lambda: customer_lifetime_values(limit=10)),
        "funnel, 30 days, uncached": cold(lambda: conversion_funnel(period=month)),
        "funnel, 30 days, event steps cached": uncached(lambda: conversion_funnel(period=month)),
        "dashboard view (last 30 days), uncached": cold(dashboard),
        "dashboard view (30 days), event figures cached": uncached(dashboard),
        "dashboard view (last 30 days), cached": dashboard,
    }
    for name, function in cases.items():
        print(f"  {name:<45} {_timed(function, rounds):9.1f} ms (median of {rounds})", flush=True)


def events_throughput(*, count: int) -> None:
    """Events accepted by the API view and persisted (buffer → bulk insert), in this process."""
    from rest_framework.test import APIClient

    from accounts.models import Membership, Organization, Role, User
    from accounts.services.api_keys import api_key_create
    from analytics.models import Event
    from analytics.services import events_flush
    from common import events

    user, _ = User.objects.get_or_create(email="bench-events@plateau.test")
    org, _ = Organization.objects.get_or_create(
        slug="bench-events", defaults={"name": "Bench events", "email": user.email}
    )
    Membership.objects.get_or_create(user=user, organization=org, defaults={"role": Role.ADMIN})
    key = api_key_create(organization=org, name="bench", created_by=user, scopes=["events:write"]).secret
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    events.flusher_register(lambda waiting: None)  # measure the API and the flush apart, then together
    before = Event.objects.count()
    batch = {"events": [{"name": "click", "anonymous_id": f"v{n}", "properties": {"n": n}} for n in range(100)]}
    started = time.perf_counter()
    for _ in range(count // 100):
        response = client.post("/api/v1/analytics/events", batch, format="json", HTTP_HOST="127.0.0.1")
        assert response.status_code == 202, response.content
    accepted = time.perf_counter() - started
    started = time.perf_counter()
    while events.buffer().waiting():
        events_flush()
    flushed = time.perf_counter() - started
    stored = Event.objects.count() - before
    print(f"events: {count:,} posted in batches of 100, {stored:,} stored")
    print(f"  API accept (one process, test client): {count / accepted:,.0f} events/s")
    print(f"  flush (buffer → bulk insert):          {count / flushed:,.0f} events/s")
    print(f"  end to end, one process:               {count / (accepted + flushed):,.0f} events/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--subscriptions", type=int, default=100_000)
    gen.add_argument("--payments", type=int, default=1_000_000)
    gen.add_argument("--events", type=int, default=10_000_000)
    gen.add_argument("--seed", type=int, default=1)
    meas = sub.add_parser("measure")
    meas.add_argument("--rounds", type=int, default=5)
    ev = sub.add_parser("events")
    ev.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (migrated, for the benchmark only).")
    if args.command == "generate":
        generate(subscriptions=args.subscriptions, payments=args.payments, events=args.events, seed=args.seed)
    elif args.command == "measure":
        measure(rounds=args.rounds)
    else:
        events_throughput(count=args.count)


if __name__ == "__main__":
    main()
