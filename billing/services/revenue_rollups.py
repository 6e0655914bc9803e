"""Billing's rollups of its revenue records, kept in the transaction that writes the records.

- `MrrDay`: per UTC day and currency, the change in MRR, subscriptions counted, paying
  customers, new and churned subscriptions at the end of that day. A state row adds its
  MRR on the day it began and takes it back on the day it ended (the convention of
  billing.selectors_revenue: a state counts for day d when it began before the next
  midnight and had not ended before it), so a figure is a running sum of these rows.
- `PayingCustomerChange`: per organization and currency, +1 / -1 on the days it starts
  and stops paying; recomputed from the organization's states whenever they change, and
  the difference added to `MrrDay.paying_customers`.
- `CustomerRevenue`: subscription invoices per organization and currency, all time;
  `PaymentDay`: per UTC day and currency.
- `CohortCell` / `CohortOpen`: per cohort (UTC month of an organization's first invoice),
  how many organizations paid in each month (an invoice, or a state adding to MRR in
  force at the end of one of its days), with `CustomerCohort` / `CustomerPayingMonth` as
  each organization's record of what it added; recomputed per organization like paying days.

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
from datetime import UTC, date, datetime, timedelta

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


def paying_customers_refresh(*, organization_id: int, forget: bool = False) -> dict[tuple[date, str], dict[str, int]]:
    """Recompute one organization's paying days from its states; returns the difference to add to `MrrDay`.

    Idempotent: a second call finds nothing to change. Runs in the caller's transaction,
    which adds the returned deltas with its own in one `mrr_day_add` (rows locked in one
    order, so two transactions cannot deadlock on them).
    `forget`: as if it had no states (it is being deleted: its states will belong to no one).
    """
    SubscriptionHistory = global_apps.get_model("billing", "SubscriptionHistory")
    PayingCustomerChange = global_apps.get_model("billing", "PayingCustomerChange")
    _advisory_lock((ORGANIZATION_LOCK_SPACE, organization_id))
    wanted = (
        {}
        if forget
        else paying_customer_days(
            SubscriptionHistory.objects.filter(
                organization_id=organization_id, status__in=MRR_STATUSES, mrr_amount__gt=0
            ).values_list("currency", "valid_from", "valid_to")
        )
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
    return deltas


def customer_revenue_add(*, organization_id: int | None, paid_at: datetime, currency: str, amount: int) -> None:
    """Count one subscription payment in its organization's total (one atomic upsert)."""
    if organization_id is None:
        return
    table = _table("CustomerRevenue")
    sql = (
        f"INSERT INTO {table} (organization_id, currency, amount, payments, first_paid_at) "  # noqa: S608
        "VALUES (%s, %s, %s, 1, %s) ON CONFLICT (organization_id, currency) DO UPDATE SET "
        f"amount = {table}.amount + excluded.amount, payments = {table}.payments + 1, "
        f"first_paid_at = CASE WHEN excluded.first_paid_at < {table}.first_paid_at "
        f"THEN excluded.first_paid_at ELSE {table}.first_paid_at END"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(sql, (organization_id, currency, amount, adapt(paid_at)))


def payment_day_add(*, paid_at: datetime, currency: str, amount: int) -> None:
    """Count one subscription payment in its day's total (one atomic upsert)."""
    table = _table("PaymentDay")
    sql = (
        f"INSERT INTO {table} (day, currency, amount, payments) VALUES (%s, %s, %s, 1) "  # noqa: S608
        f"ON CONFLICT (day, currency) DO UPDATE SET amount = {table}.amount + excluded.amount, "
        f"payments = {table}.payments + 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (_utc_day(paid_at), currency, amount))


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def customer_cohort_of(
    *, payment_months: Iterable[date], paying_days: dict[tuple[str, date], int]
) -> tuple[date | None, set[date], date | None]:
    """(cohort month, paying months before `open_from`, open_from) of one organization (pure).

    The cohort is its first invoice's month. It pays in a month when it paid an invoice in
    it or was a paying customer (`paying_customer_days`, any currency) at the end of one of
    its days; from `open_from` on it pays in every month (a span still open).
    """
    payment_months = set(payment_months)
    cohort = min(payment_months, default=None)
    months = set(payment_months)
    open_from = None
    by_currency: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for (currency, day), change in paying_days.items():
        by_currency[currency].append((day, change))
    for changes in by_currency.values():
        began = None
        for day, change in sorted(changes):
            if change > 0:
                began = day
            elif began is not None:
                last = day - timedelta(days=1)  # not paying at the end of the day it stopped
                month = date(began.year, began.month, 1)
                while month <= last:
                    months.add(month)
                    month = _next_month(month)
                began = None
        if began is not None:
            start = date(began.year, began.month, 1)
            open_from = start if open_from is None else min(open_from, start)
    if open_from is not None:
        months = {m for m in months if m < open_from}
    return cohort, months, open_from


def cohort_contribution(
    cohort: date | None, months: Iterable[date], open_from: date | None
) -> tuple[dict[tuple[date, date], int], dict[tuple[date, date], int]]:
    """What one organization adds to ({(cohort, month): 1} cells, {(cohort, from month): 1} open rows) (pure)."""
    if cohort is None:
        return {}, {}
    cells = {(cohort, m): 1 for m in months if m >= cohort}
    opened = {(cohort, max(open_from, cohort)): 1} if open_from is not None else {}
    if open_from is not None:
        cells = {key: n for key, n in cells.items() if key[1] < max(open_from, cohort)}
    return cells, opened


def _counts_add(model_name: str, columns: tuple[str, str], deltas: dict[tuple[date, date], int]) -> None:
    table = _table(model_name)
    first, second = columns
    sql = (
        f"INSERT INTO {table} ({first}, {second}, customers) VALUES (%s, %s, %s) "  # noqa: S608
        f"ON CONFLICT ({first}, {second}) DO UPDATE SET customers = {table}.customers + excluded.customers"
    )
    rows = [(a, b, n) for (a, b), n in sorted(deltas.items()) if n]
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def customer_cohort_refresh(*, organization_id: int, forget: bool = False) -> None:
    """Recompute one organization's cohort and paying months; move the cohort counts by the difference.

    Reads its invoices and its paying days (call after `paying_customers_refresh`). Idempotent.
    `forget`: as if it had neither (it is being deleted).
    """
    SubscriptionPayment = global_apps.get_model("billing", "SubscriptionPayment")
    PayingCustomerChange = global_apps.get_model("billing", "PayingCustomerChange")
    CustomerCohort = global_apps.get_model("billing", "CustomerCohort")
    CustomerPayingMonth = global_apps.get_model("billing", "CustomerPayingMonth")
    _advisory_lock((ORGANIZATION_LOCK_SPACE, organization_id))
    cohort, months, open_from = (
        (None, set(), None)
        if forget
        else customer_cohort_of(
            payment_months={
                _month(at)
                for at in SubscriptionPayment.objects.filter(organization_id=organization_id).values_list(
                    "paid_at", flat=True
                )
            },
            paying_days={
                (currency, day): change
                for currency, day, change in PayingCustomerChange.objects.filter(
                    organization_id=organization_id
                ).values_list("currency", "day", "change")
            },
        )
    )
    stored = CustomerCohort.objects.filter(organization_id=organization_id).first()
    stored_months = set(
        CustomerPayingMonth.objects.filter(organization_id=organization_id).values_list("month", flat=True)
    )
    old = (stored.cohort_month, stored_months, stored.open_from) if stored else (None, set(), None)
    if old == (cohort, months, open_from):
        return
    old_cells, old_open = cohort_contribution(*old)
    new_cells, new_open = cohort_contribution(cohort, months, open_from)
    cells = {k: new_cells.get(k, 0) - old_cells.get(k, 0) for k in old_cells.keys() | new_cells.keys()}
    opened = {k: new_open.get(k, 0) - old_open.get(k, 0) for k in old_open.keys() | new_open.keys()}
    CustomerCohort.objects.update_or_create(
        organization_id=organization_id, defaults={"cohort_month": cohort, "open_from": open_from}
    )
    if stored_months - months:
        CustomerPayingMonth.objects.filter(organization_id=organization_id, month__in=stored_months - months).delete()
    CustomerPayingMonth.objects.bulk_create(
        [CustomerPayingMonth(organization_id=organization_id, month=m) for m in sorted(months - stored_months)]
    )
    _counts_add("CohortCell", ("cohort_month", "month"), cells)
    _counts_add("CohortOpen", ("cohort_month", "from_month"), opened)


def revenue_rollups_organization_forget(*, organization_id: int) -> None:
    """Take an organization that is about to be deleted out of the paying customers and cohorts.

    Its states and invoices stay (financial records) but lose their organization, and the
    figures only count customers that exist; MRR itself is unchanged. Its per-customer
    totals lose their organization with it (SET_NULL). Called from the account deletion.
    """
    rollups_lock_shared()
    mrr_day_add(paying_customers_refresh(organization_id=organization_id, forget=True))
    customer_cohort_refresh(organization_id=organization_id, forget=True)


# --- Rebuild -----------------------------------------------------------------------------------------------


def revenue_rollups_computed(*, apps=global_apps) -> dict[str, dict]:
    """The rollups recomputed from the source rows (states and invoices), each as a dict keyed like its
    unique constraint: "mrr_days", "paying_days", "revenue", "payment_days", "cohorts",
    "paying_months", "cells", "open"."""
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
    # Each organization's paying days, from its states adding to MRR.
    paying_by_org: dict[int, dict[tuple[str, date], int]] = defaultdict(dict)
    spans: dict[int, list] = defaultdict(list)
    for org, currency, valid_from, valid_to in (
        counted.filter(mrr_amount__gt=0, organization__isnull=False)
        .values_list("organization_id", "currency", "valid_from", "valid_to")
        .iterator(chunk_size=10_000)
    ):
        spans[org].append((currency, valid_from, valid_to))
    for org, org_spans in spans.items():
        paying_by_org[org] = paying_customer_days(org_spans)
        for (currency, day), change in paying_by_org[org].items():
            merge_deltas(mrr_days, {(day, currency): {"paying_customers": change}})
    del spans
    mrr_days = {key: {f: v for f, v in values.items() if v} for key, values in mrr_days.items() if any(values.values())}
    paying_days = {
        (org, currency, day): change for org, days in paying_by_org.items() for (currency, day), change in days.items()
    }
    revenue = {
        (org, currency): (int(amount), n, first)
        for org, currency, amount, n, first in SubscriptionPayment.objects.filter(organization__isnull=False)
        .values_list("organization_id", "currency")
        .annotate(amount=Sum("amount"), n=Count("id"), first=Min("paid_at"))
        .order_by()
    }
    payment_days = {
        (day, currency): (int(amount), n)
        for day, currency, amount, n in SubscriptionPayment.objects.annotate(d=TruncDate("paid_at", tzinfo=UTC))
        .values_list("d", "currency")
        .annotate(amount=Sum("amount"), n=Count("id"))
        .order_by()
    }
    payment_months: dict[int, set[date]] = defaultdict(set)
    for org, month in (
        SubscriptionPayment.objects.filter(organization__isnull=False)
        .annotate(month=TruncMonth("paid_at", tzinfo=UTC))
        .values_list("organization_id", "month")
        .distinct()
        .iterator(chunk_size=10_000)
    ):
        payment_months[org].add(month.date() if isinstance(month, datetime) else month)
    cohorts, paying_months, cells, opened = {}, set(), defaultdict(int), defaultdict(int)
    for org in payment_months.keys() | paying_by_org.keys():
        cohort, months, open_from = customer_cohort_of(
            payment_months=payment_months.get(org, ()), paying_days=paying_by_org.get(org, {})
        )
        if cohort is not None or open_from is not None:
            cohorts[org] = (cohort, open_from)
        paying_months |= {(org, m) for m in months}
        org_cells, org_open = cohort_contribution(cohort, months, open_from)
        for key, n in org_cells.items():
            cells[key] += n
        for key, n in org_open.items():
            opened[key] += n
    return {
        "mrr_days": mrr_days,
        "paying_days": paying_days,
        "revenue": revenue,
        "payment_days": payment_days,
        "cohorts": cohorts,
        "paying_months": paying_months,
        "cells": {k: n for k, n in cells.items() if n},
        "open": {k: n for k, n in opened.items() if n},
    }


def revenue_rollups_stored(*, apps=global_apps) -> dict[str, dict]:
    """The rollups as stored, in the shape of `revenue_rollups_computed` (rows that add nothing left out)."""
    get = apps.get_model
    mrr_days = {}
    for day, currency, *values in get("billing", "MrrDay").objects.values_list("day", "currency", *MRR_DAY_FIELDS):
        if any(values):
            mrr_days[(day, currency)] = {f: v for f, v in zip(MRR_DAY_FIELDS, values, strict=True) if v}
    return {
        "mrr_days": mrr_days,
        "paying_days": {
            (org, currency, day): change
            for org, currency, day, change in get("billing", "PayingCustomerChange").objects.values_list(
                "organization_id", "currency", "day", "change"
            )
        },
        "revenue": {
            (org, currency): (amount, n, first)
            for org, currency, amount, n, first in get("billing", "CustomerRevenue")
            .objects.filter(organization__isnull=False)
            .values_list("organization_id", "currency", "amount", "payments", "first_paid_at")
        },
        "payment_days": {
            (day, currency): (amount, n)
            for day, currency, amount, n in get("billing", "PaymentDay").objects.values_list(
                "day", "currency", "amount", "payments"
            )
            if n
        },
        "cohorts": {
            org: (cohort, open_from)
            for org, cohort, open_from in get("billing", "CustomerCohort").objects.values_list(
                "organization_id", "cohort_month", "open_from"
            )
            if cohort is not None or open_from is not None
        },
        "paying_months": set(get("billing", "CustomerPayingMonth").objects.values_list("organization_id", "month")),
        "cells": {
            (c, m): n
            for c, m, n in get("billing", "CohortCell").objects.values_list("cohort_month", "month", "customers")
            if n
        },
        "open": {
            (c, m): n
            for c, m, n in get("billing", "CohortOpen").objects.values_list("cohort_month", "from_month", "customers")
            if n
        },
    }


ROLLUP_MODELS = (
    "MrrDay",
    "PayingCustomerChange",
    "CustomerRevenue",
    "PaymentDay",
    "CustomerCohort",
    "CustomerPayingMonth",
    "CohortCell",
    "CohortOpen",
)


def revenue_rollups_rebuild(*, apps=global_apps) -> dict[str, int]:
    """Recompute every rollup from billing's source rows (the backfill and the repair); returns row counts.

    Holds the rollups' exclusive lock on PostgreSQL, so recorders wait and then add to the
    rebuilt rows what their own transaction wrote (which the rebuild could not see).
    """
    models = {name: apps.get_model("billing", name) for name in ROLLUP_MODELS}
    with transaction.atomic():
        _advisory_lock(ROLLUPS_LOCK)
        computed = revenue_rollups_computed(apps=apps)
        for model in models.values():
            model.objects.all().delete()
        rows = {
            "MrrDay": (
                models["MrrDay"](day=day, currency=currency, **values)
                for (day, currency), values in computed["mrr_days"].items()
            ),
            "PayingCustomerChange": (
                models["PayingCustomerChange"](organization_id=org, currency=currency, day=day, change=change)
                for (org, currency, day), change in computed["paying_days"].items()
            ),
            "CustomerRevenue": (
                models["CustomerRevenue"](
                    organization_id=org, currency=currency, amount=amount, payments=n, first_paid_at=first
                )
                for (org, currency), (amount, n, first) in computed["revenue"].items()
            ),
            "PaymentDay": (
                models["PaymentDay"](day=day, currency=currency, amount=amount, payments=n)
                for (day, currency), (amount, n) in computed["payment_days"].items()
            ),
            "CustomerCohort": (
                models["CustomerCohort"](organization_id=org, cohort_month=cohort, open_from=open_from)
                for org, (cohort, open_from) in computed["cohorts"].items()
            ),
            "CustomerPayingMonth": (
                models["CustomerPayingMonth"](organization_id=org, month=month)
                for org, month in computed["paying_months"]
            ),
            "CohortCell": (
                models["CohortCell"](cohort_month=c, month=m, customers=n) for (c, m), n in computed["cells"].items()
            ),
            "CohortOpen": (
                models["CohortOpen"](cohort_month=c, from_month=m, customers=n)
                for (c, m), n in computed["open"].items()
            ),
        }
        for name, objects in rows.items():
            models[name].objects.bulk_create(objects, batch_size=5000)
    return {name: len(values) for name, values in computed.items()}
