"""Reads: business metrics computed from the other apps' own tables, each in one aggregate query.

Money is in integer minor units, always next to its ISO currency code; amounts in
different currencies are never added together, so every figure comes per currency.

What is measured today: one-time purchases (`billing.models.Purchase`). Subscription
revenue is not: billing mirrors Stripe's invoices with dj-stripe, which only `billing`
may import, and it keeps no table of its own for invoice payments yet. MRR, churn,
cohorts and event counts will be further selectors here, next to these ones.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, QuerySet, Sum, Window
from django.db.models.functions import RowNumber

from billing.models import Purchase, PurchaseStatus

# A purchase that was paid stays revenue when refunded; its refunds are subtracted.
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
    gross: int  # charged, minor units
    refunds: int  # refunded since, minor units
    net: int  # gross - refunds
    purchases: int


def revenue_summary(*, start: datetime, end: datetime, organization_id: int | None = None) -> list[RevenueLine]:
    """One-time purchase revenue per currency for purchases paid in [start, end), net of their refunds.

    A refund counts against the period its purchase was paid in, whenever it was made:
    billing records how much of a purchase was refunded but not when (Purchase has no
    refunded_at). So the figures are "purchases paid in the period, net of what was later
    refunded", and a past period's `refunds` and `net` change when one of its purchases is
    refunded today (its `gross` and `purchases` do not).

    Anonymous purchases (no organization) count unless `organization_id` narrows the
    summary to one customer. Subscription invoices are not included (see the module's
    docstring). Lines are ordered by currency; a currency with no purchase has no line.
    """
    rows = (
        _purchases_settled(organization_id=organization_id)
        .filter(paid_at__gte=start, paid_at__lt=end)
        .values("currency")
        .annotate(gross=Sum("amount"), refunds=Sum("refunded_amount"), purchases=Count("id"))
        .annotate(net=F("gross") - F("refunds"))
        .order_by("currency")
    )
    return [RevenueLine(**row) for row in rows]


@dataclass(frozen=True)
class CustomerLifetimeValue:
    organization_id: int
    name: str
    currency: str
    paid: int  # charged over all its purchases, minor units
    refunds: int
    lifetime_value: int  # paid - refunds
    purchases: int


def customer_lifetime_values(*, limit: int = 10, organization_id: int | None = None) -> list[CustomerLifetimeValue]:
    """The customers (organizations) with the highest lifetime value, the top `limit` in each currency.

    LTV = total paid minus refunds over all of the customer's purchases (SPEC 5), one-time
    purchases only for now (see the module's docstring). Values in different currencies
    are not comparable, so customers are ranked within each currency: the result is
    ordered by currency, then by LTV (highest first), then by organization id. A customer
    who paid in two currencies appears once per currency. Purchases whose organization
    was deleted, and anonymous ones, belong to no customer and are left out.
    """
    per_customer = (
        _purchases_settled(organization_id=organization_id)
        .filter(organization__isnull=False)
        .values("organization_id", "currency")
        .annotate(
            name=F("organization__name"),
            paid=Sum("amount"),
            refunds=Sum("refunded_amount"),
            purchases=Count("id"),
        )
        .annotate(lifetime_value=F("paid") - F("refunds"))
    )
    ranked = (
        per_customer.annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("currency"),
                order_by=[F("lifetime_value").desc(), F("organization_id").asc()],
            )
        )
        .filter(rank__lte=limit)
        .order_by("currency", "-lifetime_value", "organization_id")
    )
    return [
        CustomerLifetimeValue(
            organization_id=row["organization_id"],
            name=row["name"],
            currency=row["currency"],
            paid=row["paid"],
            refunds=row["refunds"],
            lifetime_value=row["lifetime_value"],
            purchases=row["purchases"],
        )
        for row in ranked
    ]
