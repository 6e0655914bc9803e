"""Reads: business metrics computed from the other apps' own tables, in one or two aggregate queries each.

Money is in integer minor units, always next to its ISO currency code; amounts in
different currencies are never added together, so every figure comes per currency.

What is measured today: one-time purchases (`billing.models.Purchase`) and their
refunds (`billing.models.PurchaseRefund`, one row per refund). Subscription revenue is
not: billing mirrors Stripe's invoices with dj-stripe, which only `billing` may import,
and it keeps no table of its own for invoice payments yet. MRR, churn, cohorts and event
counts will be further selectors here, next to these ones.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, QuerySet, Sum, Window
from django.db.models.functions import RowNumber

from billing.models import Purchase, PurchaseRefund, PurchaseStatus

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
    paid: int  # charged over all its purchases, minor units
    refunds: int  # refunded over all its purchases, whenever, minor units
    lifetime_value: int  # paid - refunds
    purchases: int


def customer_lifetime_values(*, limit: int = 10, organization_id: int | None = None) -> list[CustomerLifetimeValue]:
    """The customers (organizations) with the highest lifetime value, the top `limit` in each currency.

    LTV = total paid minus refunds over all of the customer's purchases (SPEC 5), one-time
    purchases only for now (see the module's docstring). A purchase's refunds are its
    `refunded_amount`, which billing keeps equal to the sum of its refund rows, so this
    stays one query with no join to the rows; all refunds count, whenever they were made.

    Values in different currencies are not comparable, so customers are ranked within
    each currency: the result is ordered by currency, then by LTV (highest first), then
    by organization id. A customer who paid in two currencies appears once per currency.
    Purchases whose organization was deleted, and anonymous ones, belong to no customer
    and are left out.
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
