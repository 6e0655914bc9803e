"""Reads: business metrics computed from the other apps' own tables, in one or two aggregate queries each.

Money is in integer minor units, always next to its ISO currency code; amounts in
different currencies are never added together, so every figure comes per currency.

Sources: billing's own records (one-time purchases and their refunds; subscription
invoice payments and refunds; the state history of every subscription), read through
`billing.selectors_revenue`, never dj-stripe; and the product events analytics stores.
docs/analytics.md defines every figure. Figures over subscriptions and payments are
cached under billing's revenue version, which changes after every commit that records a
payment, a refund or a subscription change, so a cached figure is never stale.
"""

import hashlib
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import Membership, Organization
from analytics.models import FUNNEL_EVENT_STEPS, DailyRollup, Event, StepVisitor
from analytics.periods import ReportPeriod, buckets, month_start, months_between
from billing.models import Purchase, PurchaseRefund, PurchaseStatus
from billing.selectors_revenue import (
    ItemScope,
    customer_cohort_counts,
    customer_cohort_table,
    customer_first_payments,
    customer_first_payments_between,
    customer_payment_months,
    customer_totals_top,
    customers_paying_first_in,
    money_by_day,
    mrr_days,
    revenue_version,
)
from common.item_audience import ItemAudience

# A purchase that was paid stays revenue when refunded; its refunds are subtracted when made.
SETTLED_STATUSES = (PurchaseStatus.PAID, PurchaseStatus.PARTIALLY_REFUNDED, PurchaseStatus.REFUNDED)


def _purchases_settled(*, organization_id: int | None = None) -> QuerySet[Purchase]:
    """Purchases that took money: paid (then perhaps refunded), not pending or expired, not free.

    Free purchases (a quiz on the plan's quota) are paid at 0 and left out, so that
    `purchases` counts sales that moved money.
    """
    queryset = Purchase.objects.filter(status__in=SETTLED_STATUSES, amount__gt=0)
    if organization_id is not None:
        queryset = queryset.filter(organization_id=organization_id)
    return queryset


@dataclass(frozen=True)
class RevenueLine:
    currency: str
    gross: int  # charged for purchases paid in the period, minor units
    refunds: int  # refunded in the period, of any purchase, minor units
    net: int  # gross - refunds; negative when the period refunded more than it sold
    purchases: int  # paid in the period


def revenue_summary(*, start: datetime, end: datetime, organization_id: int | None = None) -> list[RevenueLine]:
    """One-time purchase revenue per currency in [start, end), cash basis: money in minus money out.

    `gross` and `purchases` are the purchases paid in the period; `refunds` is what was
    refunded in the period (each refund counts when it was made, whatever period its
    purchase was paid in), in the purchase's currency; `net` = gross - refunds, and is
    negative for a period that refunded more than it sold. A refund made today changes
    today's period, not the one its purchase was paid in. Refunds made before billing
    recorded them one by one are dated at their purchase's payment (billing's migration
    0005), so they count in the period it was paid in.

    Anonymous purchases (no organization) count unless `organization_id` narrows the
    summary to one customer. Subscription invoices are not included (see the module's
    docstring). Lines are ordered by currency; a currency with neither a payment nor a
    refund in the period has no line, one with only refunds has gross 0 and purchases 0.
    """
    sold = {
        currency: (gross, purchases)
        for currency, gross, purchases in _purchases_settled(organization_id=organization_id)
        .filter(paid_at__gte=start, paid_at__lt=end)
        .values_list("currency")
        .annotate(gross=Sum("amount"), purchases=Count("id"))
        .order_by()
    }
    refunds_made = PurchaseRefund.objects.filter(created_at__gte=start, created_at__lt=end)
    if organization_id is not None:
        refunds_made = refunds_made.filter(purchase__organization_id=organization_id)
    refunded = dict(refunds_made.values_list("purchase__currency").annotate(refunds=Sum("amount")).order_by())
    lines = []
    for currency in sorted(sold.keys() | refunded.keys()):
        gross, purchases = sold.get(currency, (0, 0))
        refunds = refunded.get(currency, 0)
        lines.append(
            RevenueLine(currency=currency, gross=gross, refunds=refunds, net=gross - refunds, purchases=purchases)
        )
    return lines


@dataclass(frozen=True)
class CustomerLifetimeValue:
    organization_id: int
    name: str
    currency: str
    paid: int  # subscription invoices and purchases, all time, minor units
    refunds: int  # refunded, whenever, minor units
    lifetime_value: int  # paid - refunds
    payments: int


def customer_lifetime_values(
    *, limit: int = 10, organization_id: int | None = None, scope: ItemScope | None = None
) -> list[CustomerLifetimeValue]:
    """The customers (organizations) with the highest lifetime value, the top `limit` in each currency.

    LTV = everything the customer paid (subscription invoices and one-time purchases)
    minus everything refunded to it, all time (SPEC 5). Values in different currencies
    are not comparable, so customers are ranked within each currency: ordered by
    currency, then LTV (highest first), then organization id. A `scope` (a seller's
    templates) counts only those purchases. Anonymous purchases belong to no customer.
    """
    return _customer_lifetime_values(limit=limit, organization_id=organization_id, scope=scope)


def _customer_lifetime_values(
    *, limit: int, organization_id: int | None, scope: ItemScope | None
) -> list[CustomerLifetimeValue]:
    # The totals are billing's (cached under its version); the names are read fresh.
    ranked = _cached(
        "ltv",
        (limit, organization_id, scope),
        lambda: customer_totals_top(limit=limit, scope=scope, organization_id=organization_id),
    )
    names = dict(Organization.objects.filter(pk__in={t.organization_id for t in ranked}).values_list("pk", "name"))
    return [
        CustomerLifetimeValue(
            organization_id=t.organization_id,
            name=names.get(t.organization_id, ""),
            currency=t.currency,
            paid=t.paid,
            refunds=t.refunds,
            lifetime_value=t.paid - t.refunds,
            payments=t.payments,
        )
        for t in ranked
    ]


# --- Subscriptions: MRR, ARR, ARPU, growth, churn -------------------------------------------------


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def _percent(part: int, whole: int) -> Decimal | None:
    """part / whole × 100, to two decimal places, rounded half up; None when whole is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(CENT, rounding=ROUND_HALF_UP)


CENT = Decimal("0.01")


def _days(period: ReportPeriod) -> list[date]:
    return [period.first_day + timedelta(days=n) for n in range((period.last_day - period.first_day).days + 1)]


@dataclass(frozen=True)
class _DailyFigures:
    daily: dict[date, dict[str, tuple[int, int, int]]]  # at the end of each day: {currency: (MRR, subs, customers)}
    base: dict[str, tuple[int, int, int]]  # the same at the end of the day before the period
    changes: dict[date, dict[str, int]]  # {day: {"new": n, "churn": n}} (all currencies)


def _daily_figures(period: ReportPeriod) -> _DailyFigures:
    """MRR, subscriptions counted and paying customers at the end of each day, per currency, and the
    new and cancelled subscriptions per day: running sums of billing's daily rollup (`mrr_days`)."""
    base, day_changes = mrr_days(first_day=period.first_day, last_day=period.last_day)
    by_day: dict[date, list] = {}
    changes: dict[date, dict[str, int]] = {}
    for change in day_changes:
        by_day.setdefault(change.day, []).append(change)
        counts = changes.setdefault(change.day, {"new": 0, "churn": 0})
        counts["new"] += change.new
        counts["churn"] += change.churned
    running = {currency: list(values) for currency, values in base.items()}
    daily = {}
    for day in _days(period):
        for change in by_day.get(day, ()):
            line = running.setdefault(change.currency, [0, 0, 0])
            line[0] += change.mrr
            line[1] += change.subscriptions
            line[2] += change.paying_customers
        daily[day] = {currency: (line[0], line[1], line[2]) for currency, line in running.items()}
    return _DailyFigures(daily=daily, base=base, changes=changes)


@dataclass(frozen=True)
class MrrPoint:
    day: date  # the last day of the bucket: figures are the state at its end
    currency: str
    mrr: int
    arr: int  # MRR × 12
    subscriptions: int  # counted in MRR (active or past due)
    paying_customers: int  # organizations with a subscription adding more than 0
    arpu: int | None  # MRR ÷ paying customers, rounded half up; None without paying customers


def mrr_series(*, period: ReportPeriod, granularity: str = "day") -> list[MrrPoint]:
    """MRR, ARR, subscriptions, paying customers and ARPU at the end of each bucket, per currency.

    Every currency with a subscription counted at any end of day in the period (or just
    before it) has a point in every bucket, 0 where it had none.
    """
    return _cached("mrr", (period, granularity), lambda: _mrr_series(period=period, granularity=granularity))


def _mrr_series(*, period: ReportPeriod, granularity: str) -> list[MrrPoint]:
    figures = _daily_figures(period)
    daily, base = figures.daily, figures.base
    currencies = sorted(
        {c for values in daily.values() for c, (_, n, _) in values.items() if n}
        | {c for c, (_, n, _) in base.items() if n}
    )
    points = []
    for bucket in buckets(period=period, granularity=granularity):
        for currency in currencies:
            mrr, subscriptions, customers = daily[bucket.last_day].get(currency, (0, 0, 0))
            points.append(
                MrrPoint(
                    day=bucket.last_day,
                    currency=currency,
                    mrr=mrr,
                    arr=mrr * 12,
                    subscriptions=subscriptions,
                    paying_customers=customers,
                    arpu=_round_half_up(mrr, customers) if customers else None,
                )
            )
    return points


@dataclass(frozen=True)
class GrowthPoint:
    first_day: date
    last_day: date
    new: int  # subscriptions counted in MRR for the first time in the bucket
    cancelled: int  # subscriptions cancelled in the bucket after being counted
    net: int  # new - cancelled
    active_at_start: int  # counted in MRR at the end of the day before the bucket
    churn_rate: Decimal | None  # cancelled / active_at_start × 100, 2 places; None when none were active


def growth_series(*, period: ReportPeriod, granularity: str = "month") -> list[GrowthPoint]:
    """New and cancelled subscriptions and the churn rate per bucket (all currencies: they are counts)."""
    return _cached("growth", (period, granularity), lambda: _growth_series(period=period, granularity=granularity))


def _growth_series(*, period: ReportPeriod, granularity: str) -> list[GrowthPoint]:
    figures = _daily_figures(period)
    totals = {day: sum(n for _, n, _ in values.values()) for day, values in figures.daily.items()}
    totals[period.first_day - timedelta(days=1)] = sum(n for _, n, _ in figures.base.values())
    changes = figures.changes
    points = []
    for bucket in buckets(period=period, granularity=granularity):
        days = [d for d in _days(ReportPeriod(bucket.first_day, bucket.last_day))]
        new = sum(changes.get(d, {}).get("new", 0) for d in days)
        cancelled = sum(changes.get(d, {}).get("churn", 0) for d in days)
        active = totals[bucket.first_day - timedelta(days=1)]
        points.append(
            GrowthPoint(
                first_day=bucket.first_day,
                last_day=bucket.last_day,
                new=new,
                cancelled=cancelled,
                net=new - cancelled,
                active_at_start=active,
                churn_rate=_percent(cancelled, active),
            )
        )
    return points


# --- Money: revenue trend -------------------------------------------------------------------------


@dataclass(frozen=True)
class RevenuePoint:
    first_day: date
    last_day: date
    currency: str
    subscriptions: int  # subscription invoices paid in the bucket
    purchases: int  # one-time purchases paid in the bucket
    refunds: int  # refunds made in the bucket, of either
    net: int  # subscriptions + purchases - refunds
    payments: int


def revenue_trend(
    *, period: ReportPeriod, granularity: str = "day", scope: ItemScope | None = None
) -> list[RevenuePoint]:
    """Money in minus money out per bucket and currency, cash basis; every currency in every bucket.

    A `scope` (a seller's templates) counts only those purchases and their refunds.
    """
    return _cached(
        "revenue",
        (period, granularity, scope),
        lambda: _revenue_trend(period=period, granularity=granularity, scope=scope),
    )


def _revenue_trend(*, period: ReportPeriod, granularity: str, scope: ItemScope | None) -> list[RevenuePoint]:
    days = money_by_day(start=period.start, end=period.end, scope=scope)
    currencies = sorted({d.currency for d in days})
    points = []
    for bucket in buckets(period=period, granularity=granularity):
        for currency in currencies:
            inside = [d for d in days if d.currency == currency and bucket.first_day <= d.day <= bucket.last_day]
            subscriptions = sum(d.subscriptions for d in inside)
            purchases = sum(d.purchases for d in inside)
            refunds = sum(d.refunds for d in inside)
            points.append(
                RevenuePoint(
                    first_day=bucket.first_day,
                    last_day=bucket.last_day,
                    currency=currency,
                    subscriptions=subscriptions,
                    purchases=purchases,
                    refunds=refunds,
                    net=subscriptions + purchases - refunds,
                    payments=sum(d.payments for d in inside),
                )
            )
    return points


# --- Cohorts -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortRow:
    month: date  # first day of the month of the customers' first payment
    customers: int
    retained: tuple[int, ...]  # still paying 0, 1, 2, ... months later (up to the last month)
    retention: tuple[Decimal, ...]  # retained ÷ customers × 100, 2 places


def cohort_retention(*, first_month: date, last_month: date, scope: ItemScope | None = None) -> list[CohortRow]:
    """Customers by month of first payment, and the share still paying N months later.

    A customer is paying in a month when it paid something in it (an invoice or a
    purchase) or had a subscription adding to MRR at the end of one of its days (so a
    yearly subscriber stays). With a `scope`, only the scoped purchases count.
    """
    first_month, last_month = month_start(first_month), month_start(last_month)
    return _cached(
        "cohorts",
        (first_month, last_month, scope),
        lambda: _cohort_retention(first_month=first_month, last_month=last_month, scope=scope),
    )


def _cohort_retention(*, first_month: date, last_month: date, scope: ItemScope | None) -> list[CohortRow]:
    if scope is None:  # billing's cohort counts (invoices and states), purchases added
        counted = customer_cohort_table(first_month=first_month, last_month=last_month)
    else:  # a seller's purchases: one PostgreSQL query, or Python
        counted = customer_cohort_counts(first_month=first_month, last_month=last_month, scope=scope)
    if counted is not None:
        return [
            CohortRow(
                month=month,
                customers=customers,
                retained=retained,
                retention=tuple(_percent(r, customers) for r in retained),
            )
            for month, customers, retained in counted
        ]
    return _cohort_retention_in_python(first_month=first_month, last_month=last_month, scope=scope)


def _cohort_retention_in_python(*, first_month: date, last_month: date, scope: ItemScope) -> list[CohortRow]:
    """The table of a scope's purchases from the customers' payment months read into Python (SQLite; long spans)."""
    first_paid = {
        org: month_start(at.astimezone(UTC).date()) for org, at in customer_first_payments(scope=scope).items()
    }
    cohorts: dict[date, set[int]] = {}
    for org, month in first_paid.items():
        if first_month <= month <= last_month:
            cohorts.setdefault(month, set()).add(org)
    paying: dict[int, set[date]] = {}
    for org, month in customer_payment_months(scope=scope):
        paying.setdefault(org, set()).add(month)
    rows = []
    for month in sorted(cohorts):
        members = cohorts[month]
        retained = tuple(
            sum(1 for org in members if _add_months(month, n) in paying.get(org, ()))
            for n in range(months_between(month, last_month) + 1)
        )
        rows.append(
            CohortRow(
                month=month,
                customers=len(members),
                retained=retained,
                retention=tuple(_percent(r, len(members)) for r in retained),
            )
        )
    return rows


def _add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


logger = logging.getLogger(__name__)

# --- Cache --------------------------------------------------------------------------------------------

CACHE_SECONDS = 24 * 3600
# Figures over product events (not billing changes: no version tells when they change) are
# kept this long, so they lag the events by at most as much.
EVENTS_CACHE_SECONDS = 5 * 60


def _cache_key(name: str, params: tuple, *, versioned: bool = True) -> str:
    digest = hashlib.sha256(repr(params).encode()).hexdigest()[:32]
    return f"analytics:{name}:{revenue_version()}:{digest}" if versioned else f"analytics:{name}:{digest}"


def _cached(name: str, params: tuple, compute, *, versioned: bool = True, timeout: int = CACHE_SECONDS):
    """The figure from the cache under billing's revenue version, or computed and stored.

    The version changes after every commit that records a payment, refund or subscription
    change, so a stored figure is never read after such a change. A cache that fails
    (Redis down) only costs the computation. `versioned=False` is for figures over
    product events only, which billing's version does not cover: they are kept `timeout`
    seconds (EVENTS_CACHE_SECONDS).
    """
    try:
        key = _cache_key(name, params, versioned=versioned)
        found = cache.get(key)
    except Exception:  # noqa: BLE001 — figures without a cache are slower, not wrong
        return compute()
    if found is not None:
        return found
    value = compute()
    try:
        cache.set(key, value, timeout=timeout)
    except Exception:  # noqa: BLE001
        logger.warning("analytics: could not cache %s", name, exc_info=True)
    return value


# --- Events: funnel and content --------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStep:
    step: str
    count: int
    conversion: Decimal | None  # count ÷ the previous step's count × 100, 2 places; None for the first step


def _distinct_visitors(queryset) -> int:
    counts = queryset.aggregate(
        users=Count("user_id", distinct=True),
        anonymous=Count("anonymous_id", distinct=True, filter=Q(user_id__isnull=True) & ~Q(anonymous_id="")),
    )
    return counts["users"] + counts["anonymous"]


def _step_visitors_cover(period: ReportPeriod) -> bool:
    """Whether `StepVisitor` (each visitor's last time per step) counts the period's visitors exactly:
    no event is at or after its end (a later one would hide an earlier one in the period) and none
    since its start can have been pruned (`events_prune` keeps ANALYTICS_EVENT_RETENTION_DAYS)."""
    kept_since = timezone.now() - timedelta(days=settings.ANALYTICS_EVENT_RETENTION_DAYS)
    return period.start >= kept_since and not Event.objects.filter(occurred_at__gte=period.end).exists()


def _funnel_event_steps(period: ReportPeriod) -> tuple[int, int, int]:
    """Distinct visitors with a page view, a signup and a checkout started in the period.

    For a period up to now (the dashboard's), the visitors whose last time at the step falls
    in it (`StepVisitor`, an index range each); otherwise a COUNT DISTINCT over raw events.
    """
    if _step_visitors_cover(period):
        return tuple(
            StepVisitor.objects.filter(name=name, last_at__gte=period.start).count() for name in FUNNEL_EVENT_STEPS
        )
    events = Event.objects.filter(occurred_at__gte=period.start, occurred_at__lt=period.end)
    return (
        _distinct_visitors(events.filter(name="page_view")),
        _distinct_visitors(events.filter(name="signup")),
        _distinct_visitors(events.filter(name="checkout_started")),
    )


def conversion_funnel(*, period: ReportPeriod) -> list[FunnelStep]:
    """Visit → signup → checkout started → paid, for the period (raw events: within their retention).

    visit: distinct visitors (a signed-in user, or an anonymous visitor id) with a page
    view; signup: distinct users with a signup event; checkout started: distinct visitors
    with a checkout_started event; paid: customers whose first payment ever (an invoice
    or a purchase) fell in the period, from billing's records.

    The paid step is cached under billing's revenue version; the three event steps for
    EVENTS_CACHE_SECONDS (they may lag the events by as much, never a billing change).
    """
    visits, signups, checkouts = _cached(
        "funnel-events", (period,), lambda: _funnel_event_steps(period), versioned=False, timeout=EVENTS_CACHE_SECONDS
    )
    paid = len(_first_payments_between(period))
    steps, previous = [], None
    for step, count in (("visit", visits), ("signup", signups), ("checkout_started", checkouts), ("paid", paid)):
        steps.append(
            FunnelStep(step=step, count=count, conversion=None if previous is None else _percent(count, previous))
        )
        previous = count
    return steps


@dataclass(frozen=True)
class ContentViews:
    item_type: str  # the page (view name), e.g. "content:article_detail"
    item_id: str  # its first URL argument, e.g. the article's slug
    views: int
    daily_visitors: int  # distinct visitors per day, summed over the days


def top_content(
    *, period: ReportPeriod, limit: int = 10, item_type: str | None = None, item_ids: Iterable[str] | None = None
) -> list[ContentViews]:
    """The most viewed pages with an item (articles, quizzes, templates...) in the period, from the daily rollups."""
    rows = DailyRollup.objects.filter(name="page_view", day__gte=period.first_day, day__lte=period.last_day).exclude(
        item_id=""
    )
    if item_type is not None:
        rows = rows.filter(item_type=item_type)
    if item_ids is not None:
        rows = rows.filter(item_id__in=list(item_ids))
    ranked = (
        rows.values_list("item_type", "item_id")
        .annotate(views=Sum("events"), visitors=Sum("visitors"))
        .order_by("-views", "item_type", "item_id")[:limit]
    )
    return [ContentViews(item_type=t, item_id=i, views=v, daily_visitors=d) for t, i, v, d in ranked]


# --- Content before conversion --------------------------------------------------------------------

# The pages of the items people read or try before paying: lessons, articles, templates.
CONVERSION_CONTENT_PAGES = ("content:lesson_detail", "content:article_detail", "marketplace:detail")
CONVERSION_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class ContentConversion:
    item_type: str  # the page (view name), e.g. "content:article_detail"
    item_id: str  # its first URL argument (a slug)
    customers: int  # customers who viewed it in the 7 days before their first payment
    views: int  # their views of it in those windows
    first_touch: int  # customers whose first view in the window was this item
    last_touch: int  # customers whose last view before paying was this item


@dataclass(frozen=True)
class ContentConversionReport:
    customers: int  # customers whose first payment fell in the period
    attributed: int  # of them, those with at least one content view in their window
    items: list[ContentConversion]


def content_before_conversion(*, period: ReportPeriod, limit: int = 20) -> ContentConversionReport:
    """Which lessons, articles and templates customers viewed in the 7 days before their first payment.

    A customer is an organization whose first payment ever (an invoice or a purchase, from
    billing's records) fell in the period. Its people are its members (today); a view is
    theirs when a member viewed the page signed in, or when the page was viewed signed out
    by a visitor id (the `plateau_vid` cookie) that one of them was ever seen with (an event
    carrying both, e.g. a page view while signed in or the signup). Views are page views of
    CONVERSION_CONTENT_PAGES in [first payment − 7 days, first payment). Per item: customers
    who viewed it, their views, and first touch / last touch: customers whose earliest /
    latest view in the window was this item (ties by time, then by event id). Raw events:
    as far back as ANALYTICS_EVENT_RETENTION_DAYS. Items ordered by customers, then last
    touch, first touch, views (all most first), then page and id; the top `limit`.

    Cached under billing's revenue version, for EVENTS_CACHE_SECONDS at most (the events
    and memberships may lag by as much, never a billing change).
    """
    return _cached(
        "conversion",
        (period, limit),
        lambda: _content_before_conversion(period=period, limit=limit),
        timeout=EVENTS_CACHE_SECONDS,
    )


def _first_payments_between(period: ReportPeriod) -> dict[int, datetime]:
    """{organization: its first payment} for the customers who first paid in the period (the funnel's paid
    step, and the customers of content before conversion), cached under billing's revenue version."""
    return _cached(
        "first-paid-at", (period,), lambda: customer_first_payments_between(start=period.start, end=period.end)
    )


def _content_before_conversion(*, period: ReportPeriod, limit: int) -> ContentConversionReport:
    first_paid = _first_payments_between(period)
    if not first_paid:
        return ContentConversionReport(customers=0, attributed=0, items=[])
    members: dict[int, set[int]] = {}
    # The candidates' memberships by subquery (a list of thousands of ids costs more to send than to read).
    candidates = customers_paying_first_in(start=period.start, end=period.end)
    for org, user in Membership.objects.filter(candidates).values_list("organization_id", "user_id"):
        if org in first_paid:
            members.setdefault(org, set()).add(user)
    users = set().union(*members.values()) if members else set()
    visitor_ids: dict[int, set[str]] = {}
    for user, visitor in (
        Event.objects.filter(user_id__in=users)
        .exclude(anonymous_id="")
        .values_list("user_id", "anonymous_id")
        .distinct()
    ):
        visitor_ids.setdefault(user, set()).add(visitor)
    anonymous = set().union(*visitor_ids.values()) if visitor_ids else set()
    views = (
        Event.objects.filter(
            name="page_view",
            item_type__in=CONVERSION_CONTENT_PAGES,
            occurred_at__gte=min(first_paid.values()) - CONVERSION_WINDOW,
            occurred_at__lt=max(first_paid.values()),
        )
        .exclude(item_id="")
        .filter(Q(user_id__in=users) | Q(user_id__isnull=True, anonymous_id__in=anonymous))
        .order_by("occurred_at", "id")
        .values_list("occurred_at", "id", "user_id", "anonymous_id", "item_type", "item_id")
    )
    by_user: dict[int, list] = {}
    by_visitor: dict[str, list] = {}
    for view in views.iterator(chunk_size=5000):
        at, event_id, user, visitor, item_type, item_id = view
        entry = (at, event_id, (item_type, item_id))
        if user is not None:
            by_user.setdefault(user, []).append(entry)
        else:
            by_visitor.setdefault(visitor, []).append(entry)

    totals: dict[tuple[str, str], list[int]] = {}  # item: [customers, views, first, last]
    attributed = 0
    for org, paid_at in first_paid.items():
        people = members.get(org, set())
        visitors = set().union(*(visitor_ids.get(u, set()) for u in people)) if people else set()
        seen = [e for u in people for e in by_user.get(u, ())] + [e for v in visitors for e in by_visitor.get(v, ())]
        window = sorted(e for e in seen if paid_at - CONVERSION_WINDOW <= e[0] < paid_at)  # by time, then id
        if not window:
            continue
        attributed += 1
        counts: dict[tuple[str, str], int] = {}
        for _, _, item in window:
            counts[item] = counts.get(item, 0) + 1
        for item, n in counts.items():
            line = totals.setdefault(item, [0, 0, 0, 0])
            line[0] += 1
            line[1] += n
        totals[window[0][2]][2] += 1
        totals[window[-1][2]][3] += 1
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1][0], -kv[1][3], -kv[1][2], -kv[1][1], kv[0]))
    return ContentConversionReport(
        customers=len(first_paid),
        attributed=attributed,
        items=[
            ContentConversion(
                item_type=item_type, item_id=item_id, customers=c, views=v, first_touch=f, last_touch=last
            )
            for (item_type, item_id), (c, v, f, last) in ranked[:limit]
        ],
    )


# --- Audience of items, for other apps (common.item_audience) ---------------------------------------

# An item type and the page (view name) that shows one item of it.
AUDIENCE_PAGES = {"prompt_template": "marketplace:detail"}


def item_audience_from_events(
    item_type: str, item_ids: Collection[str], first_day: date, last_day: date
) -> dict[str, ItemAudience] | None:
    """Views, unique viewers and uses of each item over UTC days [first_day, last_day], from the raw events.

    Registered as common.item_audience's provider (the seller dashboard reads it without
    importing analytics). Views: page views of the item's page; unique viewers: distinct
    signed-in users plus distinct anonymous visitor ids among signed-out views (someone who
    looked both signed out and in counts twice); uses: `template_render` events. None when
    the period has no page view at all (tracking is not running, or the events are past
    ANALYTICS_EVENT_RETENTION_DAYS) or the item type has no page: unknown, not zero.
    """
    page = AUDIENCE_PAGES.get(item_type)
    if page is None:
        return None
    period = ReportPeriod(first_day=first_day, last_day=last_day)
    events = Event.objects.filter(occurred_at__gte=period.start, occurred_at__lt=period.end)
    if not events.filter(name="page_view").exists():
        return None
    ids = list(item_ids)
    views = {
        item_id: (n, users + anonymous)
        for item_id, n, users, anonymous in events.filter(name="page_view", item_type=page, item_id__in=ids)
        .values_list("item_id")
        .annotate(
            n=Count("id"),
            users=Count("user_id", distinct=True),
            anonymous=Count("anonymous_id", distinct=True, filter=Q(user_id__isnull=True) & ~Q(anonymous_id="")),
        )
        .order_by()
    }
    uses = dict(
        events.filter(name="template_render", item_type=item_type, item_id__in=ids)
        .values_list("item_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        item_id: ItemAudience(
            views=views.get(item_id, (0, 0))[0], unique_viewers=views.get(item_id, (0, 0))[1], uses=uses.get(item_id, 0)
        )
        for item_id in ids
    }
