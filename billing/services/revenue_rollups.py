"""Billing's rollups of its revenue records, kept in the transaction that writes the records.

- `MrrDay`: per UTC day and currency, the change in MRR, subscriptions counted, paying
  customers, new and churned subscriptions at the end of that day. A state row adds its
  MRR on the day it began and takes it back on the day it ended (the convention of
  billing.selectors_revenue: a state counts for day d when it began before the next
  midnight and had not ended before it), so a figure is a running sum of these rows.
- `PayingCustomerChange`: per organization and currency, +1 / -1 on the days it starts
  and stops paying; recomputed from the organization's states whenever they change, and
  the difference added to `MrrDay.paying_customers`.
- `CustomerPaymentMonth`: subscription invoices per organization, UTC month and currency.

Every increment is one `INSERT … ON CONFLICT DO UPDATE SET x = x + delta`, so concurrent
recorders (different subscriptions, the same day and currency) never lose one. The
recording services are idempotent (a replayed webhook writes no state and no payment),
and the rollups move only with what they write, so replays and reordered webhooks leave
the rollups equal to `revenue_rollups_rebuild`'s recomputation from the source rows (the
repair: `manage.py revenue_rollups_rebuild`; the backfill: migration 0016).

On PostgreSQL a rebuild takes an exclusive advisory lock that every recorder takes
shared before touching a rollup, and a recorder locks its organization (another
advisory lock) while it recomputes its paying-customer days.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime

from django.apps import apps as global_apps
from django.db import connection, transaction
from django.db.models import Count, Min, Sum
from django.db.models.functions import TruncDate, TruncMonth

# (key 1, key 2) of PostgreSQL's advisory locks: all rollups (shared by recorders, exclusive for a
# rebuild), and one organization's paying-customer days.
ROLLUPS_LOCK = (0x706C6174, 0)
ORGANIZATION_LOCK_SPACE = 0x706C6175
MRR_STATUSES = ("active", "past_due")
MRR_DAY_FIELDS = ("mrr", "subscriptions", "paying_customers", "new", "churned")


def _utc_day(instant: datetime) -> date:
    return instant.astimezone(UTC).date()


def _month(instant: datetime) -> date:
    day = _utc_day(instant)
    return date(day.year, day.month, 1)


def _table(model_name: str) -> str:
    return connection.ops.quote_name(global_apps.get_model("billing", model_name)._meta.db_table)


def _advisory_lock(key: tuple[int, int], *, shared: bool = False) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite writes one transaction at a time
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", key)  # noqa: S608 (a constant)


def rollups_lock_shared() -> None:
    """Taken by a recorder before it reads or moves a rollup: waits for a rebuild in progress."""
    _advisory_lock(ROLLUPS_LOCK, shared=True)


# --- Pure: what a state, an organization's states, a payment add ------------------------------------


def paying_customer_days(spans: Iterable[tuple[str, datetime, datetime | None]]) -> dict[tuple[str, date], int]:
    """{(currency, day): +1 or -1}: the days an organization starts / stops paying, from its states (pure).

    `spans` are (currency, valid_from, valid_to) of its states adding to MRR (counted, amount
    > 0). It pays at the end of day d in a currency while a running sum of +1 (the day a
    state began) and -1 (the day it ended) is above 0; a change is a crossing of 0.
    """
    deltas: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for currency, valid_from, valid_to in spans:
        deltas[currency][_utc_day(valid_from)] += 1
        if valid_to is not None:
            deltas[currency][_utc_day(valid_to)] -= 1
    changes = {}
    for currency, by_day in deltas.items():
        running = 0
        for day in sorted(by_day):
            before, running = running, running + by_day[day]
            if before <= 0 < running:
                changes[(currency, day)] = 1
            elif running <= 0 < before:
                changes[(currency, day)] = -1
    return changes


def state_mrr_day_deltas(*, state, closed_at: datetime | None = None) -> dict[tuple[date, str], dict[str, int]]:
    """What a state row adds to `MrrDay` when it is appended (closed_at None) or closed at `closed_at` (pure)."""
    deltas: dict[tuple[date, str], dict[str, int]] = {}
    counted = state.status in MRR_STATUSES
    if closed_at is not None:
        if counted:
            deltas[(_utc_day(closed_at), state.currency)] = {"mrr": -state.mrr_amount, "subscriptions": -1}
        return deltas
    line = deltas.setdefault((_utc_day(state.valid_from), state.currency), {})
    if counted:
        line.update(mrr=state.mrr_amount, subscriptions=1)
    if state.change == "new":
        line["new"] = 1
    elif state.change == "churn":
        line["churned"] = 1
    if state.valid_to is not None and counted:  # appended already closed (never by billing's recorder)
        end = deltas.setdefault((_utc_day(state.valid_to), state.currency), {})
        end["mrr"] = end.get("mrr", 0) - state.mrr_amount
        end["subscriptions"] = end.get("subscriptions", 0) - 1
    return deltas


# --- Increments ------------------------------------------------------------------------------------------


def mrr_day_add(deltas: dict[tuple[date, str], dict[str, int]]) -> None:
    """Add the deltas to `MrrDay`, one atomic upsert per (day, currency) with something to add."""
    table = _table("MrrDay")
    columns = ", ".join(MRR_DAY_FIELDS)
    updates = ", ".join(f"{f} = {table}.{f} + excluded.{f}" for f in MRR_DAY_FIELDS)
    sql = (
        f"INSERT INTO {table} (day, currency, {columns}) VALUES (%s, %s, {', '.join(['%s'] * len(MRR_DAY_FIELDS))}) "  # noqa: S608
        f"ON CONFLICT (day, currency) DO UPDATE SET {updates}"
    )
    rows = []
    for (day, currency), values in sorted(deltas.items()):
        if any(values.get(f, 0) for f in MRR_DAY_FIELDS):
            rows.append((day, currency, *(values.get(f, 0) for f in MRR_DAY_FIELDS)))
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def merge_deltas(into: dict, more: dict) -> dict:
    for key, values in more.items():
        line = into.setdefault(key, {})
        for field, value in values.items():
            line[field] = line.get(field, 0) + value
    return into


def paying_customers_refresh(*, organization_id: int) -> None:
    """Recompute one organization's paying days from its states; move `MrrDay` by the difference.

    Idempotent: a second call finds nothing to change. Runs in the caller's transaction.
    """
    SubscriptionHistory = global_apps.get_model("billing", "SubscriptionHistory")
    PayingCustomerChange = global_apps.get_model("billing", "PayingCustomerChange")
    _advisory_lock((ORGANIZATION_LOCK_SPACE, organization_id))
    wanted = paying_customer_days(
        SubscriptionHistory.objects.filter(
            organization_id=organization_id, status__in=MRR_STATUSES, mrr_amount__gt=0
        ).values_list("currency", "valid_from", "valid_to")
    )
    stored = {
        (currency, day): (pk, change)
        for pk, currency, day, change in PayingCustomerChange.objects.filter(organization_id=organization_id)
        .order_by()
        .values_list("pk", "currency", "day", "change")
    }
    deltas: dict[tuple[date, str], dict[str, int]] = {}
    gone = []
    for key, (pk, change) in stored.items():
        if wanted.get(key) != change:
            gone.append(pk)
            merge_deltas(deltas, {(key[1], key[0]): {"paying_customers": -change}})
    added = []
    for key, change in wanted.items():
        if stored.get(key, (None, None))[1] != change:
            added.append(
                PayingCustomerChange(organization_id=organization_id, currency=key[0], day=key[1], change=change)
            )
            merge_deltas(deltas, {(key[1], key[0]): {"paying_customers": change}})
    if gone:
        PayingCustomerChange.objects.filter(pk__in=gone).delete()
    if added:
        PayingCustomerChange.objects.bulk_create(added)
    mrr_day_add(deltas)


def customer_payment_month_add(*, organization_id: int | None, paid_at: datetime, currency: str, amount: int) -> None:
    """Count one subscription payment in its organization's month (one atomic upsert)."""
    if organization_id is None:
        return
    table = _table("CustomerPaymentMonth")
    sql = (
        f"INSERT INTO {table} (organization_id, month, currency, amount, payments, first_paid_at) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, 1, %s) ON CONFLICT (organization_id, month, currency) DO UPDATE SET "
        f"amount = {table}.amount + excluded.amount, payments = {table}.payments + 1, "
        f"first_paid_at = CASE WHEN excluded.first_paid_at < {table}.first_paid_at "
        f"THEN excluded.first_paid_at ELSE {table}.first_paid_at END"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(sql, (organization_id, _month(paid_at), currency, amount, adapt(paid_at)))


# --- Rebuild -----------------------------------------------------------------------------------------------


def revenue_rollups_computed(*, apps=global_apps) -> tuple[dict, dict, dict]:
    """The rollups recomputed from the source rows: ({(day, currency): fields}, {(org, currency, day): change},
    {(org, month, currency): (amount, payments, first_paid_at)})."""
    SubscriptionHistory = apps.get_model("billing", "SubscriptionHistory")
    SubscriptionPayment = apps.get_model("billing", "SubscriptionPayment")
    counted = SubscriptionHistory.objects.filter(status__in=MRR_STATUSES)
    mrr_days: dict[tuple[date, str], dict[str, int]] = {}
    for field, sign, queryset in (
        ("valid_from", 1, counted),
        ("valid_to", -1, counted.filter(valid_to__isnull=False)),
    ):
        for day, currency, mrr, n in (
            queryset.annotate(d=TruncDate(field, tzinfo=UTC))
            .values_list("d", "currency")
            .annotate(mrr=Sum("mrr_amount"), n=Count("id"))
            .order_by()
        ):
            merge_deltas(mrr_days, {(day, currency): {"mrr": sign * mrr, "subscriptions": sign * n}})
    for day, currency, change, n in (
        SubscriptionHistory.objects.filter(change__in=("new", "churn"))
        .annotate(d=TruncDate("valid_from", tzinfo=UTC))
        .values_list("d", "currency", "change")
        .annotate(n=Count("id"))
        .order_by()
    ):
        merge_deltas(mrr_days, {(day, currency): {"new" if change == "new" else "churned": n}})
    paying: dict[tuple[int, str, date], int] = {}
    spans: list = []
    organization = None
    rows = (
        counted.filter(mrr_amount__gt=0, organization__isnull=False)
        .order_by("organization_id")
        .values_list("organization_id", "currency", "valid_from", "valid_to")
    )
    for org, currency, valid_from, valid_to in [*rows.iterator(chunk_size=10_000), (None, "", None, None)]:
        if org != organization:
            for (c, day), change in paying_customer_days(spans).items():
                paying[(organization, c, day)] = change
                merge_deltas(mrr_days, {(day, c): {"paying_customers": change}})
            organization, spans = org, []
        spans.append((currency, valid_from, valid_to))
    mrr_days = {key: {f: v for f, v in values.items() if v} for key, values in mrr_days.items() if any(values.values())}
    months = {
        (org, month.date() if isinstance(month, datetime) else month, currency): (amount, n, first)
        for org, month, currency, amount, n, first in SubscriptionPayment.objects.filter(organization__isnull=False)
        .annotate(month=TruncMonth("paid_at", tzinfo=UTC))
        .values_list("organization_id", "month", "currency")
        .annotate(amount=Sum("amount"), n=Count("id"), first=Min("paid_at"))
        .order_by()
        .iterator(chunk_size=10_000)
    }
    return mrr_days, paying, months


def revenue_rollups_stored(*, apps=global_apps) -> tuple[dict, dict, dict]:
    """The rollups as stored, in the shape of `revenue_rollups_computed` (rows that add nothing left out)."""
    MrrDay = apps.get_model("billing", "MrrDay")
    PayingCustomerChange = apps.get_model("billing", "PayingCustomerChange")
    CustomerPaymentMonth = apps.get_model("billing", "CustomerPaymentMonth")
    mrr_days = {}
    for day, currency, *values in MrrDay.objects.values_list("day", "currency", *MRR_DAY_FIELDS):
        if any(values):
            mrr_days[(day, currency)] = {f: v for f, v in zip(MRR_DAY_FIELDS, values, strict=True) if v}
    paying = {
        (org, currency, day): change
        for org, currency, day, change in PayingCustomerChange.objects.values_list(
            "organization_id", "currency", "day", "change"
        )
    }
    months = {
        (org, month, currency): (amount, n, first)
        for org, month, currency, amount, n, first in CustomerPaymentMonth.objects.filter(
            organization__isnull=False
        ).values_list("organization_id", "month", "currency", "amount", "payments", "first_paid_at")
    }
    return mrr_days, paying, months


def revenue_rollups_rebuild(*, apps=global_apps) -> dict[str, int]:
    """Recompute every rollup from billing's source rows (the backfill and the repair); returns row counts.

    Holds the rollups' exclusive lock on PostgreSQL, so recorders wait and then add to the
    rebuilt rows what their own transaction wrote (which the rebuild could not see).
    """
    MrrDay = apps.get_model("billing", "MrrDay")
    PayingCustomerChange = apps.get_model("billing", "PayingCustomerChange")
    CustomerPaymentMonth = apps.get_model("billing", "CustomerPaymentMonth")
    with transaction.atomic():
        _advisory_lock(ROLLUPS_LOCK)
        mrr_days, paying, months = revenue_rollups_computed(apps=apps)
        MrrDay.objects.all().delete()
        PayingCustomerChange.objects.all().delete()
        CustomerPaymentMonth.objects.all().delete()
        MrrDay.objects.bulk_create(
            (MrrDay(day=day, currency=currency, **values) for (day, currency), values in sorted(mrr_days.items())),
            batch_size=5000,
        )
        PayingCustomerChange.objects.bulk_create(
            (
                PayingCustomerChange(organization_id=org, currency=currency, day=day, change=change)
                for (org, currency, day), change in paying.items()
            ),
            batch_size=5000,
        )
        CustomerPaymentMonth.objects.bulk_create(
            (
                CustomerPaymentMonth(
                    organization_id=org, month=month, currency=currency, amount=a, payments=n, first_paid_at=first
                )
                for (org, month, currency), (a, n, first) in months.items()
            ),
            batch_size=5000,
        )
    return {"mrr_days": len(mrr_days), "paying_customer_changes": len(paying), "payment_months": len(months)}
