from argparse import ArgumentTypeError
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from analytics.periods import report_period
from analytics.selectors import (
    conversion_funnel,
    customer_lifetime_values,
    growth_series,
    mrr_series,
    revenue_summary,
    revenue_trend,
)
from billing.money import money_display


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = (
        "Print the business metrics for a period of whole UTC days (default: the last 30 days): "
        "one-time purchase revenue per currency (paid in the period minus refunded in the period), "
        "the top customers by lifetime value, subscriptions (MRR, ARR, ARPU at the end; new, cancelled, churn), "
        "all revenue (subscriptions + purchases - refunds) and the conversion funnel."
    )

    def add_arguments(self, parser):
        parser.add_argument("--start", type=_day, help="First day, YYYY-MM-DD (included).")
        parser.add_argument("--end", type=_day, help="Last day, YYYY-MM-DD (included); default today.")
        parser.add_argument("--limit", type=int, default=10, help="Top customers per currency (default 10).")

    def handle(self, *args, start: date | None, end: date | None, limit: int, **options):
        period = report_period(first_day=start, last_day=end)
        if period.is_empty:
            raise CommandError("The end is before the start.")
        if limit < 1:
            raise CommandError("--limit must be at least 1.")
        lines = revenue_summary(start=period.start, end=period.end)
        customers = customer_lifetime_values(limit=limit)
        mrr_at_end = mrr_series(period=period, granularity="month")
        mrr_at_end = [p for p in mrr_at_end if p.day == period.last_day]
        [growth] = growth_series(period=period, granularity="period")
        revenue = revenue_trend(period=period, granularity="period")
        funnel = conversion_funnel(period=period)

        write = self.stdout.write
        write(f"Metrics report, {period.first_day} to {period.last_day} (UTC, both days included)")
        write("")
        write("Revenue from one-time purchases (not subscriptions): paid in the period minus refunds made in it")
        if not lines:
            write("  No purchase paid or refunded.")
        for line in lines:
            gross, refunds, net = (
                money_display(amount=amount, currency=line.currency) for amount in (line.gross, line.refunds, line.net)
            )
            write(
                f"  {line.currency.upper()}: {line.purchases} purchase{'s' if line.purchases != 1 else ''}, "
                f"gross {gross}, refunds {refunds}, net {net}"
            )
        write("")
        write(f"Top customers by lifetime value (paid minus refunds, all time), top {limit} per currency")
        if not customers:
            write("  No paying customers.")
        for customer in customers:
            value = money_display(amount=customer.lifetime_value, currency=customer.currency)
            paid = money_display(amount=customer.paid, currency=customer.currency)
            refunds = money_display(amount=customer.refunds, currency=customer.currency)
            write(
                f"  {customer.currency.upper()} {customer.name} (#{customer.organization_id}): {value}"
                f" (paid {paid}, refunded {refunds})"
            )

        write("")
        write(f"Subscriptions at the end of {period.last_day} (active or past due, not trialing)")
        if not mrr_at_end:
            write("  No subscription.")
        for point in mrr_at_end:
            money = {
                name: money_display(amount=getattr(point, name), currency=point.currency) for name in ("mrr", "arr")
            }
            arpu = money_display(amount=point.arpu, currency=point.currency) if point.arpu is not None else "-"
            write(
                f"  {point.currency.upper()}: MRR {money['mrr']}, ARR {money['arr']}, ARPU {arpu}, "
                f"{point.subscriptions} subscriptions, {point.paying_customers} paying customers"
            )
        churn = f"{growth.churn_rate}%" if growth.churn_rate is not None else "- (none active at the start)"
        write(
            f"  In the period: {growth.new} new, {growth.cancelled} cancelled, net {growth.net:+d}; "
            f"{growth.active_at_start} active at the start; churn {churn}"
        )
        write("")
        write("All revenue: subscription invoices + purchases - refunds, cash basis")
        if not revenue:
            write("  No payment or refund.")
        for point in revenue:
            subscriptions, purchases, refunds, net = (
                money_display(amount=getattr(point, name), currency=point.currency)
                for name in ("subscriptions", "purchases", "refunds", "net")
            )
            write(
                f"  {point.currency.upper()}: subscriptions {subscriptions} + purchases {purchases} "
                f"- refunds {refunds} = {net}"
            )
        write("")
        write("Conversion funnel")
        for step in funnel:
            conversion = f" ({step.conversion}% of the step before)" if step.conversion is not None else ""
            write(f"  {step.step.replace('_', ' ')}: {step.count}{conversion}")
