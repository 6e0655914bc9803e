"""Reads of billing's money and subscription records for analytics: aggregates, by UTC day, per currency.

Analytics composes these into its metrics (analytics/selectors.py) and never reads
dj-stripe or these tables itself. Amounts are integer minor units next to their currency.

"In force at the end of day d" is the convention for every state: a history row counts
for day d when it started before the next midnight and had not ended before it
(`valid_from < end` and `valid_to` null or `>= end`), so a change made at any moment of a
day shows in that day's figure.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db.models import Count, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth

from billing.models import (
    Purchase,
    PurchaseRefund,
    PurchaseStatus,
    SubscriptionChange,
    SubscriptionHistory,
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


def _counted() -> Q:
    return Q(status__in=MRR_STATUSES)


def _in_force_before(instant: datetime) -> Q:
    return Q(valid_from__lt=instant) & (Q(valid_to__isnull=True) | Q(valid_to__gte=instant))


# --- Subscriptions: MRR, counts, changes ---------------------------------------------------


def subscription_mrr_before(*, instant: datetime) -> dict[str, tuple[int, int]]:
    """{currency: (MRR, subscriptions counted)} of the states in force just before `instant`."""
    rows = (
        SubscriptionHistory.objects.filter(_counted() & _in_force_before(instant))
        .values_list("currency")
        .annotate(mrr=Sum("mrr_amount"), subscriptions=Count("id"))
        .order_by()
    )
    return {currency: (mrr, subscriptions) for currency, mrr, subscriptions in rows}


def subscription_mrr_day_changes(*, start: datetime, end: datetime) -> list[tuple[date, str, int, int]]:
    """(day, currency, MRR change, subscriptions change) for each day in [start, end).

    Only days where a counted state began or ended have a line (two lines when both).
    """
    began = (
        SubscriptionHistory.objects.filter(_counted(), valid_from__gte=start, valid_from__lt=end)
        .annotate(day=_day("valid_from"))
        .values_list("day", "currency")
        .annotate(mrr=Sum("mrr_amount"), subscriptions=Count("id"))
        .order_by()
    )
    ended = (
        SubscriptionHistory.objects.filter(_counted(), valid_to__gte=start, valid_to__lt=end)
        .annotate(day=_day("valid_to"))
        .values_list("day", "currency")
        .annotate(mrr=Sum("mrr_amount"), subscriptions=Count("id"))
        .order_by()
    )
    return [*((d, c, m, n) for d, c, m, n in began), *((d, c, -m, -n) for d, c, m, n in ended)]


def paying_customer_spans(*, start: datetime, end: datetime) -> list[tuple[int, str, date, date | None]]:
    """(organization, currency, first UTC day, UTC day of its end) of every state adding to MRR (amount > 0)
    that overlaps [start, end). Days, not instants: a state counts at the end of day d when d is on or after its
    first day and before the day of its end (reading dates costs a fraction of reading datetimes).
    """
    return list(
        SubscriptionHistory.objects.filter(_counted(), mrr_amount__gt=0, organization__isnull=False)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=start), valid_from__lt=end)
        .annotate(from_day=_day("valid_from"), to_day=_day("valid_to"))
        .values_list("organization_id", "currency", "from_day", "to_day")
    )


def subscription_changes_by_day(*, start: datetime, end: datetime) -> list[tuple[date, str, int]]:
    """(day, "new" | "churn", how many) in [start, end).

    New: first counted in MRR; churn: cancelled after being counted.
    """
    return list(
        SubscriptionHistory.objects.filter(
            change__in=(SubscriptionChange.NEW, SubscriptionChange.CHURN), valid_from__gte=start, valid_from__lt=end
        )
        .annotate(day=_day("valid_from"))
        .values_list("day", "change")
        .annotate(count=Count("id"))
        .order_by()
    )


def subscriptions_counted_before(*, instant: datetime) -> int:
    """How many subscriptions were counted in MRR (active or past due) just before `instant`."""
    return SubscriptionHistory.objects.filter(_counted() & _in_force_before(instant)).count()


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
    if scope is None:
        add(
            SubscriptionPayment.objects.filter(paid_at__gte=start, paid_at__lt=end)
            .annotate(day=_day("paid_at"))
            .values_list("day", "currency")
            .annotate(amount=Sum("amount"), count=Count("id"))
            .order_by(),
            0,
            with_count=True,
        )
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


# --- Customers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerTotal:
    organization_id: int
    currency: str
    paid: int  # subscriptions and purchases, all time, minor units
    refunds: int  # all refunds, whenever made
    payments: int


def customer_totals(*, scope: ItemScope | None = None, organization_id: int | None = None) -> list[CustomerTotal]:
    """What each customer (organization) paid and was refunded, all time, per currency.

    A purchase's refunds are its `refunded_amount` (billing keeps it equal to the sum of
    its refund rows). With a `scope`, only the scoped purchases. Anonymous purchases and
    those of deleted organizations belong to no customer and are left out.
    """
    totals: dict[tuple[int, str], list[int]] = {}
    only = {"organization_id": organization_id} if organization_id is not None else {"organization__isnull": False}

    def add(rows: Iterable) -> None:
        for org, currency, paid, refunds, count in rows:
            line = totals.setdefault((org, currency), [0, 0, 0])
            line[0] += paid or 0
            line[1] += refunds or 0
            line[2] += count

    add(
        _purchases(scope)
        .filter(**only)
        .values_list("organization_id", "currency")
        .annotate(paid=Sum("amount"), refunds=Sum("refunded_amount"), count=Count("id"))
        .order_by()
    )
    if scope is None:
        add(
            (org, currency, paid, 0, count)
            for org, currency, paid, count in SubscriptionPayment.objects.filter(**only)
            .values_list("organization_id", "currency")
            .annotate(paid=Sum("amount"), count=Count("id"))
            .order_by()
        )
        add(
            (org, currency, 0, refunds, 0)
            for org, currency, refunds in SubscriptionRefund.objects.filter(**only)
            .values_list("organization_id", "currency")
            .annotate(refunds=Sum("amount"))
            .order_by()
        )
    return [
        CustomerTotal(organization_id=org, currency=currency, paid=paid, refunds=refunds, payments=payments)
        for (org, currency), (paid, refunds, payments) in sorted(totals.items())
    ]


def customer_payment_months(*, scope: ItemScope | None = None) -> set[tuple[int, date]]:
    """(organization, first day of the month) of every month a customer paid something (an invoice or a purchase)."""
    months = set(
        _purchases(scope)
        .filter(organization__isnull=False)
        .annotate(month=TruncMonth("paid_at", tzinfo=UTC))
        .values_list("organization_id", "month")
        .distinct()
    )
    if scope is None:
        months |= set(
            SubscriptionPayment.objects.filter(organization__isnull=False)
            .annotate(month=TruncMonth("paid_at", tzinfo=UTC))
            .values_list("organization_id", "month")
            .distinct()
        )
    return {(org, month.date() if isinstance(month, datetime) else month) for org, month in months}


def customer_first_payments(*, scope: ItemScope | None = None) -> dict[int, datetime]:
    """{organization: when it first paid anything} (an invoice or a purchase)."""
    first = dict(
        _purchases(scope)
        .filter(organization__isnull=False)
        .values_list("organization_id")
        .annotate(first=Min("paid_at"))
        .order_by()
    )
    if scope is None:
        for organization_id, paid_at in (
            SubscriptionPayment.objects.filter(organization__isnull=False)
            .values_list("organization_id")
            .annotate(first=Min("paid_at"))
            .order_by()
        ):
            if organization_id not in first or paid_at < first[organization_id]:
                first[organization_id] = paid_at
    return first


def subscription_history_all() -> QuerySet[SubscriptionHistory]:
    """Every subscription state (for cohorts: months a customer stayed subscribed)."""
    return SubscriptionHistory.objects.filter(_counted(), mrr_amount__gt=0, organization__isnull=False)
