"""Reads of billing's money and subscription records for analytics: aggregates, by UTC day, per currency.

Analytics composes these into its metrics (analytics/selectors.py) and never reads
dj-stripe or these tables itself. Amounts are integer minor units next to their currency.

"In force at the end of day d" is the convention for every state: a history row counts
for day d when it started before the next midnight and had not ended before it
(`valid_from < end` and `valid_to` null or `>= end`), so a change made at any moment of a
day shows in that day's figure.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from django.db import connection
from django.db.models import Count, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncDate, TruncMonth

from billing.models import (
    CohortCell,
    CohortOpen,
    CustomerCohort,
    CustomerPayingMonth,
    CustomerRevenue,
    MrrDay,
    PaymentDay,
    Purchase,
    PurchaseRefund,
    PurchaseStatus,
    SubscriptionPayment,
    SubscriptionRefund,
)
from billing.services.revenue import MRR_STATUSES, revenue_version

# Re-exported: analytics keys its cache on the version and counts the same statuses.
__all__ = ["MRR_STATUSES", "revenue_version"]

# A purchase that was paid stays revenue when refunded; its refunds are subtracted when made.
SETTLED_STATUSES = (PurchaseStatus.PAID, PurchaseStatus.PARTIALLY_REFUNDED, PurchaseStatus.REFUNDED)


@dataclass(frozen=True)
class ItemScope:
    """Narrows purchase figures to some items (a seller's templates); None fields: everything."""

    item_type: str | None = None
    item_ids: frozenset[str] | None = None


def _day(column: str) -> TruncDate:
    return TruncDate(column, tzinfo=UTC)


# --- Subscriptions: MRR, counts, changes ---------------------------------------------------


@dataclass(frozen=True)
class MrrDayChange:
    """What changed at the end of one UTC day in one currency (billing's `MrrDay` rollup)."""

    day: date
    currency: str
    mrr: int
    subscriptions: int  # counted in MRR
    paying_customers: int  # organizations with a state adding more than 0
    new: int  # subscriptions counted for the first time
    churned: int  # subscriptions cancelled after being counted


def mrr_days(*, first_day: date, last_day: date) -> tuple[dict[str, tuple[int, int, int]], list[MrrDayChange]]:
    """{currency: (MRR, subscriptions, paying customers) at the end of the day before `first_day`}, and the
    changes of each day in [first_day, last_day] that had one, ordered by day then currency.

    Read from the `MrrDay` rollup billing keeps when it records a state, so a figure at the
    end of a day is the figure before the period plus the changes up to that day.
    """
    base = {
        currency: (int(mrr), int(subscriptions), int(customers))
        for currency, mrr, subscriptions, customers in MrrDay.objects.filter(day__lt=first_day)
        .values_list("currency")
        .annotate(m=Sum("mrr"), s=Sum("subscriptions"), c=Sum("paying_customers"))
        .order_by()
    }
    changes = [
        MrrDayChange(day=d, currency=c, mrr=m, subscriptions=s, paying_customers=p, new=n, churned=x)
        for d, c, m, s, p, n, x in MrrDay.objects.filter(day__gte=first_day, day__lte=last_day)
        .order_by("day", "currency")
        .values_list("day", "currency", "mrr", "subscriptions", "paying_customers", "new", "churned")
    ]
    return base, changes


# --- Money in and out, by day ----------------------------------------------------------------


def _purchases(scope: ItemScope | None) -> QuerySet[Purchase]:
    queryset = Purchase.objects.filter(status__in=SETTLED_STATUSES, amount__gt=0)
    if scope is not None and scope.item_type is not None:
        queryset = queryset.filter(item_type=scope.item_type)
    if scope is not None and scope.item_ids is not None:
        queryset = queryset.filter(item_id__in=scope.item_ids)
    return queryset


def _purchase_refunds(scope: ItemScope | None) -> QuerySet[PurchaseRefund]:
    queryset = PurchaseRefund.objects.all()
    if scope is not None and scope.item_type is not None:
        queryset = queryset.filter(purchase__item_type=scope.item_type)
    if scope is not None and scope.item_ids is not None:
        queryset = queryset.filter(purchase__item_id__in=scope.item_ids)
    return queryset


@dataclass(frozen=True)
class MoneyDay:
    day: date
    currency: str
    subscriptions: int  # subscription invoices paid that day
    purchases: int  # one-time purchases paid that day
    refunds: int  # refunds made that day, of either
    payments: int  # how many payments (invoices and purchases)


def _is_midnight(instant: datetime) -> bool:
    return instant.astimezone(UTC).time() == time(0)


def _utc_date(instant: datetime) -> date:
    return instant.astimezone(UTC).date()


def money_by_day(*, start: datetime, end: datetime, scope: ItemScope | None = None) -> list[MoneyDay]:
    """Money in and out per UTC day and currency in [start, end), cash basis, ordered by day then currency.

    With a `scope` only the scoped purchases and their refunds count (no subscriptions).
    """
    totals: dict[tuple[date, str], list[int]] = {}

    def add(rows: Iterable, index: int, with_count: bool = False) -> None:
        for day, currency, amount, *count in rows:
            line = totals.setdefault((day, currency), [0, 0, 0, 0])
            line[index] += amount
            if with_count:
                line[3] += count[0]

    add(
        _purchases(scope)
        .filter(paid_at__gte=start, paid_at__lt=end)
        .annotate(day=_day("paid_at"))
        .values_list("day", "currency")
        .annotate(amount=Sum("amount"), count=Count("id"))
        .order_by(),
        1,
        with_count=True,
    )
    add(
        _purchase_refunds(scope)
        .filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=_day("created_at"))
        .values_list("day", "purchase__currency")
        .annotate(amount=Sum("amount"))
        .order_by(),
        2,
    )
    if scope is None and _is_midnight(start) and _is_midnight(end):  # whole days: billing's daily totals
        add(
            PaymentDay.objects.filter(day__gte=_utc_date(start), day__lt=_utc_date(end)).values_list(
                "day", "currency", "amount", "payments"
            ),
            0,
            with_count=True,
        )
    elif scope is None:
        add(
            SubscriptionPayment.objects.filter(paid_at__gte=start, paid_at__lt=end)
            .annotate(day=_day("paid_at"))
            .values_list("day", "currency")
            .annotate(amount=Sum("amount"), count=Count("id"))
            .order_by(),
            0,
            with_count=True,
        )
    if scope is None:
        add(
            SubscriptionRefund.objects.filter(refunded_at__gte=start, refunded_at__lt=end)
            .annotate(day=_day("refunded_at"))
            .values_list("day", "currency")
            .annotate(amount=Sum("amount"))
            .order_by(),
            2,
        )
    return [
        MoneyDay(day=day, currency=currency, subscriptions=s, purchases=p, refunds=r, payments=n)
        for (day, currency), (s, p, r, n) in sorted(totals.items())
    ]


# Ids per `IN (...)` list: SQLite's older builds take at most 999 parameters.
IN_CHUNK = 900

# --- Customers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerTotal:
    organization_id: int
    currency: str
    paid: int  # subscriptions and purchases, all time, minor units
    refunds: int  # all refunds, whenever made
    payments: int


def customer_payment_months(*, scope: ItemScope) -> set[tuple[int, date]]:
    """(organization, first day of the month) of every month a customer paid for a scoped purchase."""
    months = set(
        _purchases(scope)
        .filter(organization__isnull=False)
        .annotate(month=TruncMonth("paid_at", tzinfo=UTC))
        .values_list("organization_id", "month")
        .distinct()
    )
    return {(org, month.date() if isinstance(month, datetime) else month) for org, month in months}


def customer_first_payments(*, scope: ItemScope) -> dict[int, datetime]:
    """{organization: when it first paid for a scoped purchase}."""
    return dict(
        _purchases(scope)
        .filter(organization__isnull=False)
        .values_list("organization_id")
        .annotate(first=Min("paid_at"))
        .order_by()
    )


def _add_month(month: date, n: int = 1) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def customer_cohort_table(*, first_month: date, last_month: date) -> list[tuple[date, int, tuple[int, ...]]]:
    """(cohort month, customers, retained 0, 1, ... months later) for the cohorts of [first_month, last_month].

    The rules are analytics' (docs/analytics.md, `cohort_retention`): a customer's cohort is
    the UTC month of its first payment (an invoice or a purchase); it is paying in a month
    when it paid something in it or a state adding to MRR (amount > 0) was in force at the
    end of one of its days. Read from the cohort counts billing keeps for invoices and states
    (`CohortCell`, `CohortOpen`); the few customers with a one-time purchase are then
    recounted with their purchases (which may move their cohort earlier and add months).
    """
    counts: dict[tuple[date, date], int] = defaultdict(int)
    in_range = {"cohort_month__gte": first_month, "cohort_month__lte": last_month}
    for cohort, month, n in CohortCell.objects.filter(month__lte=last_month, **in_range).values_list(
        "cohort_month", "month", "customers"
    ):
        counts[(cohort, month)] += n
    opened = list(
        CohortOpen.objects.filter(from_month__lte=last_month, customers__gt=0, **in_range).values_list(
            "cohort_month", "from_month", "customers"
        )
    )
    for cohort, from_month, n in opened:
        month = from_month
        while month <= last_month:
            counts[(cohort, month)] += n
            month = _add_month(month)

    def contribution(cohort, months, open_from) -> set[tuple[date, date]]:
        if cohort is None or not first_month <= cohort <= last_month:
            return set()
        paying = {m for m in months if cohort <= m <= last_month}
        if open_from is not None:
            month = max(open_from, cohort)
            while month <= last_month:
                paying.add(month)
                month = _add_month(month)
        return {(cohort, m) for m in paying}

    purchase_months: dict[int, set[date]] = defaultdict(set)
    for org, month in (
        _purchases(None)
        .filter(organization__isnull=False)
        .annotate(month=TruncMonth("paid_at", tzinfo=UTC))
        .values_list("organization_id", "month")
        .distinct()
    ):
        purchase_months[org].add(month.date() if isinstance(month, datetime) else month)
    if purchase_months:
        kept = {
            org: (cohort, open_from)
            for org, cohort, open_from in CustomerCohort.objects.filter(
                organization_id__in=purchase_months
            ).values_list("organization_id", "cohort_month", "open_from")
        }
        months_kept: dict[int, set[date]] = defaultdict(set)
        for org, month in CustomerPayingMonth.objects.filter(organization_id__in=purchase_months).values_list(
            "organization_id", "month"
        ):
            months_kept[org].add(month)
        for org, bought in purchase_months.items():
            cohort, open_from = kept.get(org, (None, None))
            for key in contribution(cohort, months_kept[org], open_from):
                counts[key] -= 1
            first_bought = min(bought)
            real_cohort = first_bought if cohort is None else min(cohort, first_bought)
            for key in contribution(real_cohort, months_kept[org] | bought, open_from):
                counts[key] += 1
    rows = []
    cohort = first_month
    while cohort <= last_month:
        customers = counts.get((cohort, cohort), 0)
        if customers:
            retained, month = [], cohort
            while month <= last_month:
                retained.append(counts.get((cohort, month), 0))
                month = _add_month(month)
            rows.append((cohort, customers, tuple(retained)))
        cohort = _add_month(cohort)
    return rows


# --- Computed in the database (the dashboard's figures at scale) ------------------------------


def _sql(queryset: QuerySet) -> tuple[str, tuple]:
    """The queryset's SQL and parameters, without the model's default ordering (a subquery needs none)."""
    sql, params = queryset.order_by().query.sql_with_params()
    return sql, tuple(params)


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def customer_totals_top(
    *, limit: int, scope: ItemScope | None = None, organization_id: int | None = None
) -> list[CustomerTotal]:
    """What each customer (organization) paid and was refunded, all time, per currency: the top `limit`
    per currency by paid - refunds, ranked in the database.

    A purchase's refunds are its `refunded_amount` (billing keeps it equal to the sum of
    its refund rows). With a `scope`, only the scoped purchases. Anonymous purchases and
    those of deleted organizations belong to no customer and are left out. Ordered by
    currency, then paid - refunds (highest first), then organization id.
    """
    if scope is None and organization_id is None:
        return _customer_totals_ranked(limit=limit)
    only = {"organization_id": organization_id} if organization_id is not None else {"organization__isnull": False}
    parts = [
        _purchases(scope)
        .filter(**only)
        .values_list("organization_id", "currency")
        .annotate(paid=Sum("amount"), refunds=Sum("refunded_amount"), payments=Count("id"))
        .order_by()
    ]
    if scope is None:
        parts += [
            CustomerRevenue.objects.filter(**only)
            .values_list("organization_id", "currency")
            .annotate(paid=Sum("amount"), refunds=Value(0), payments=Sum("payments"))
            .order_by(),
            SubscriptionRefund.objects.filter(**only)
            .values_list("organization_id", "currency")
            .annotate(paid=Value(0), refunds=Sum("amount"), payments=Value(0))
            .order_by(),
        ]
    compiled = [_sql(part) for part in parts]
    union = " UNION ALL ".join(f"SELECT * FROM ({sql}) AS part{n}" for n, (sql, _) in enumerate(compiled))  # noqa: S608
    sql = f"""
        SELECT organization_id, currency, paid, refunds, payments FROM (
            SELECT organization_id, currency, paid, refunds, payments,
                   ROW_NUMBER() OVER (PARTITION BY currency ORDER BY paid - refunds DESC, organization_id) AS place
            FROM (
                SELECT organization_id, currency, COALESCE(SUM(paid), 0) AS paid,
                       COALESCE(SUM(refunds), 0) AS refunds, SUM(payments) AS payments
                FROM ({union}) AS lines GROUP BY organization_id, currency
            ) AS totals
        ) AS ranked
        WHERE place <= %s
        ORDER BY currency, place
    """  # noqa: S608 (the ORM's own SQL; values are parameters)
    rows = _fetch(sql, (*(p for _, params in compiled for p in params), limit))
    return [
        CustomerTotal(organization_id=org, currency=currency, paid=int(paid), refunds=int(refunds), payments=int(n))
        for org, currency, paid, refunds, n in rows
    ]


def _customer_totals_ranked(*, limit: int) -> list[CustomerTotal]:
    """`customer_totals_top` of every customer: billing's per-customer invoice totals, read in rank order from
    their index, and the customers with a purchase or a refund, whose totals are added up apart.

    A customer with neither has paid its invoice total, so the top `limit` of those in each
    currency, with every adjusted customer, hold the top `limit` of all.
    """
    adjusted: dict[tuple[int, str], list[int]] = {}  # (org, currency): [paid, refunds, payments]

    def adjust(rows, paid: int, refunds: int, payments: int) -> None:
        for org, currency, *values in rows:
            line = adjusted.setdefault((org, currency), [0, 0, 0])
            for index, value in ((0, paid), (1, refunds), (2, payments)):
                if value is not None:
                    line[index] += int(values[value] or 0)

    purchases = _purchases(None).filter(organization__isnull=False)
    adjust(
        purchases.values_list("organization_id", "currency")
        .annotate(paid=Sum("amount"), refunds=Sum("refunded_amount"), n=Count("id"))
        .order_by(),
        0,
        1,
        2,
    )
    adjust(
        SubscriptionRefund.objects.filter(organization__isnull=False)
        .values_list("organization_id", "currency")
        .annotate(refunds=Sum("amount"))
        .order_by(),
        None,
        0,
        None,
    )
    adjusted_orgs = sorted({org for org, _ in adjusted})
    for n in range(0, len(adjusted_orgs), IN_CHUNK):
        for org, currency, amount, payments in CustomerRevenue.objects.filter(
            organization_id__in=adjusted_orgs[n : n + IN_CHUNK]
        ).values_list("organization_id", "currency", "amount", "payments"):
            line = adjusted.setdefault((org, currency), [0, 0, 0])
            line[0] += amount
            line[2] += payments
    currencies = set(
        CustomerRevenue.objects.filter(organization__isnull=False)
        .order_by()
        .values_list("currency", flat=True)
        .distinct()
    ) | {currency for _, currency in adjusted}
    result = []
    for currency in sorted(currencies):
        here = [
            CustomerTotal(organization_id=org, currency=c, paid=paid, refunds=refunds, payments=n)
            for (org, c), (paid, refunds, n) in adjusted.items()
            if c == currency
        ]
        skipped = {t.organization_id for t in here}
        ranked = (
            CustomerRevenue.objects.filter(currency=currency, organization__isnull=False)
            .order_by("-amount", "organization_id")
            .values_list("organization_id", "amount", "payments")[: limit + len(skipped)]
        )
        here += [
            CustomerTotal(organization_id=org, currency=currency, paid=amount, refunds=0, payments=n)
            for org, amount, n in ranked
            if org not in skipped
        ]
        here.sort(key=lambda t: (-(t.paid - t.refunds), t.organization_id))
        result += here[:limit]
    return result


def customers_paying_first_in(*, start: datetime, end: datetime) -> Q:
    """A filter on `organization_id`: the customers who may have first paid in [start, end) (those who first paid
    an invoice in a currency, or bought something, in it): a superset of `customer_first_payments_between`'s,
    as subqueries, for reading their rows without a list of ids."""
    return Q(
        organization_id__in=CustomerRevenue.objects.filter(
            first_paid_at__gte=start, first_paid_at__lt=end, organization__isnull=False
        ).values("organization_id")
    ) | Q(
        organization_id__in=_purchases(None)
        .filter(paid_at__gte=start, paid_at__lt=end, organization__isnull=False)
        .values("organization_id")
    )


def customer_first_payments_between(*, start: datetime, end: datetime) -> dict[int, datetime]:
    """{organization: when it first paid anything} for the customers whose first payment fell in [start, end).

    The candidates are the customers who paid in the period for the first time in a currency
    (billing's per-customer invoice totals, indexed by first payment) or bought something in
    it; each one's first payment ever is then the earliest of its totals and purchases.
    """
    revenue = CustomerRevenue.objects.filter(organization__isnull=False)
    purchases = _purchases(None).filter(organization__isnull=False)
    first: dict[int, datetime] = {}
    for candidates in (
        revenue.filter(first_paid_at__gte=start, first_paid_at__lt=end).values("organization_id"),
        purchases.filter(paid_at__gte=start, paid_at__lt=end).values("organization_id"),
    ):
        for queryset, field in ((revenue, "first_paid_at"), (purchases, "paid_at")):
            for org, at in (
                queryset.filter(organization_id__in=candidates)
                .values_list("organization_id")
                .annotate(first=Min(field))
                .order_by()
            ):
                if org not in first or at < first[org]:
                    first[org] = at
    return {org: at for org, at in first.items() if start <= at < end}


# A bigint holds one bit per month: cohorts over more months are computed in Python (analytics).
COHORT_SQL_MONTHS = 62


def customer_cohort_counts(
    *, first_month: date, last_month: date, scope: ItemScope
) -> list[tuple[date, int, tuple[int, ...]]] | None:
    """The cohort table of a scope's purchases (a seller's templates) in one PostgreSQL query; None elsewhere.

    A customer's cohort is the UTC month of its first scoped purchase; it is paying in a
    month when it bought one in it (without a scope: `customer_cohort_table`). Each
    customer's paying months in [first_month, last_month] are the bits of a bigint, OR-ed
    per customer, then counted per cohort and offset. None (not PostgreSQL, or more than
    COHORT_SQL_MONTHS months): the caller computes it.
    """
    months = (last_month.year - first_month.year) * 12 + last_month.month - first_month.month + 1
    if connection.vendor != "postgresql" or not 0 < months <= COHORT_SQL_MONTHS:
        return None
    after = date(last_month.year + last_month.month // 12, last_month.month % 12 + 1, 1)
    first_start = datetime(first_month.year, first_month.month, 1, tzinfo=UTC)
    after_start = datetime(after.year, after.month, 1, tzinfo=UTC)
    parts = [_sql(_purchases(scope).filter(organization__isnull=False).values_list("organization_id", "paid_at"))]
    # A month's index is that of the last of these starts at or before the instant (0: first_month; -1
    # before it, `months` after last_month): a binary search, no time zone arithmetic per row.
    starts = [
        datetime(
            first_month.year + (first_month.month - 1 + n) // 12, (first_month.month - 1 + n) % 12 + 1, 1, tzinfo=UTC
        )
        for n in range(months + 1)
    ]
    month = "(width_bucket({}, %s::timestamptz[]) - 1)"
    bit = f"CASE WHEN {month} BETWEEN 0 AND {months - 1:d} THEN 1::bigint << {month} ELSE 0 END"
    # Per customer: its first payment and a bit per month it paid in (each source aggregated on its
    # own, so that PostgreSQL can read it in customer order from an index) ...
    lines, params = [], []
    for sql, ps in parts:
        lines.append(
            f"SELECT org, MIN(paid_at) AS first_at, BIT_OR({bit.format('paid_at', 'paid_at')}) AS months "  # noqa: S608
            f"FROM ({sql}) AS payments(org, paid_at) GROUP BY org"
        )
        params += [starts, starts, *ps]
    union = " UNION ALL ".join(lines)
    cells = ", ".join(f"SUM((months >> {n:d}) & 1)" for n in range(months))
    sql = f"""
        SELECT cohort, COUNT(*), {cells} FROM (
            SELECT {month.format("first_at")} AS cohort, months >> {month.format("first_at")} AS months
            FROM (
                SELECT org, MIN(first_at) AS first_at, BIT_OR(months) AS months FROM ({union}) AS lines GROUP BY org
            ) AS customers WHERE first_at >= %s AND first_at < %s
        ) AS members GROUP BY cohort ORDER BY cohort
    """  # noqa: S608 (the ORM's own SQL and integers; values are parameters)
    params = [starts, starts, *params, first_start, after_start]
    rows = _fetch(sql, params)
    result = []
    for cohort, customers, *cells in rows:
        month = starts[cohort].date()
        result.append((month, int(customers), tuple(int(c) for c in cells[: months - cohort])))
    return result
