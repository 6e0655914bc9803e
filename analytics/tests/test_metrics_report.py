"""`manage.py metrics_report`: the same figures as the API, for a period."""

import re
from datetime import UTC, datetime
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command

from analytics import periods
from analytics.services import events_store
from billing.services.revenue import subscription_history_record, subscription_payment_record
from billing.tests.factories import OrganizationFactory, PurchaseFactory
from common.events import event_payload

pytestmark = pytest.mark.django_db


def report(*args: str) -> str:
    out = StringIO()
    call_command("metrics_report", *args, stdout=out)
    return out.getvalue()


HEADING = "Revenue from one-time purchases (not subscriptions): paid in the period minus refunds made in it"


def test_the_report_prints_revenue_net_of_refunds_and_top_customers():
    acme, solo = OrganizationFactory(name="Acme"), OrganizationFactory(name="Solo")
    PurchaseFactory(organization=acme, amount=6000)
    PurchaseFactory(organization=acme, amount=4000, refunded_amount=1500)
    PurchaseFactory(organization=solo, amount=2500, currency="eur")
    # Paid in October, part refunded in November: the refund is November's.
    PurchaseFactory(
        organization=solo,
        amount=120000,
        paid_at=datetime(2026, 10, 31, 23, 0, tzinfo=UTC),
        refunded_amount=20000,
        refunded_at=datetime(2026, 11, 2, tzinfo=UTC),
    )
    # Only refunds in November for this currency.
    PurchaseFactory(
        organization=acme,
        amount=3000,
        currency="gbp",
        paid_at=datetime(2026, 10, 1, tzinfo=UTC),
        refunded_amount=3000,
        refunded_at=datetime(2026, 11, 3, tzinfo=UTC),
    )

    assert report("--start", "2026-11-01", "--end", "2026-11-30").splitlines()[:12] == [
        "Metrics report, 2026-11-01 to 2026-11-30 (UTC, both days included)",
        "",
        HEADING,
        "  EUR: 1 purchase, gross €25.00, refunds €0.00, net €25.00",
        "  GBP: 0 purchases, gross £0.00, refunds £30.00, net -£30.00",
        "  USD: 2 purchases, gross $100.00, refunds $215.00, net -$115.00",
        "",
        "Top customers by lifetime value (paid minus refunds, all time), top 10 per currency",
        f"  EUR Solo (#{solo.pk}): €25.00 (paid €25.00, refunded €0.00)",
        f"  GBP Acme (#{acme.pk}): £0.00 (paid £30.00, refunded £30.00)",
        f"  USD Solo (#{solo.pk}): $1,000.00 (paid $1,200.00, refunded $200.00)",
        f"  USD Acme (#{acme.pk}): $85.00 (paid $100.00, refunded $15.00)",
    ]


def test_the_report_defaults_to_the_last_30_days(monkeypatch):
    monkeypatch.setattr(periods, "timezone", SimpleNamespace(now=lambda: datetime(2026, 11, 30, 8, 0, tzinfo=UTC)))
    PurchaseFactory(amount=0, list_amount=4000, discount_amount=4000)  # free: not a sale

    assert report("--limit", "1").splitlines() == [
        "Metrics report, 2026-11-01 to 2026-11-30 (UTC, both days included)",
        "",
        HEADING,
        "  No purchase paid or refunded.",
        "",
        "Top customers by lifetime value (paid minus refunds, all time), top 1 per currency",
        "  No paying customers.",
        "",
        "Subscriptions at the end of 2026-11-30 (active or past due, not trialing)",
        "  No subscription.",
        "  In the period: 0 new, 0 cancelled, net +0; 0 active at the start; churn - (none active at the start)",
        "",
        "All revenue: subscription invoices + purchases - refunds, cash basis",
        "  No payment or refund.",
        "",
        "Conversion funnel",
        "  visit: 0",
        "  signup: 0",
        "  checkout started: 0",
        "  paid: 0",
    ]


def test_the_report_prints_subscriptions_all_revenue_and_the_funnel(django_capture_on_commit_callbacks):
    acme, solo = OrganizationFactory(name="Acme"), OrganizationFactory(name="Solo")
    october = datetime(2026, 10, 1, tzinfo=UTC)

    def subscription(sub_id, status, unit, interval, at):
        return {
            "id": sub_id,
            "status": status,
            "start_date": int(october.timestamp()),
            "ended_at": int(at.timestamp()) if status == "canceled" else None,
            "items": {
                "data": [{"price": {"unit_amount": unit, "currency": "usd", "recurring": {"interval": interval}}}]
            },
        }

    subscription_history_record(
        organization=acme, subscriptions=[subscription("a", "active", 3200, "month", october)], now=october
    )
    subscription_history_record(
        organization=solo, subscriptions=[subscription("s", "active", 32000, "year", october)], now=october
    )
    cancelled = datetime(2026, 11, 5, tzinfo=UTC)
    subscription_history_record(
        organization=solo, subscriptions=[subscription("s", "canceled", 32000, "year", cancelled)], now=cancelled
    )
    subscription_payment_record(
        invoice={
            "id": "in_1",
            "amount_paid": 3200,
            "currency": "usd",
            "status_transitions": {"paid_at": int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())},
            "parent": {"subscription_details": {"subscription": "a"}},
        },
        organization=acme,
    )
    PurchaseFactory(organization=acme, amount=4000, refunded_amount=500)
    events_store(payloads=[event_payload("page_view", anonymous_id=f"v{n}", at=cancelled) for n in range(4)])
    events_store(payloads=[event_payload("signup", user_id=1, at=cancelled)])

    lines = report("--start", "2026-11-01", "--end", "2026-11-30").splitlines()
    assert lines[
        lines.index("Top customers by lifetime value (paid minus refunds, all time), top 10 per currency") :
    ] == [
        "Top customers by lifetime value (paid minus refunds, all time), top 10 per currency",
        f"  USD Acme (#{acme.pk}): $67.00 (paid $72.00, refunded $5.00)",
        "",
        "Subscriptions at the end of 2026-11-30 (active or past due, not trialing)",
        "  USD: MRR $32.00, ARR $384.00, ARPU $32.00, 1 subscriptions, 1 paying customers",
        "  In the period: 0 new, 1 cancelled, net -1; 2 active at the start; churn 50.00%",
        "",
        "All revenue: subscription invoices + purchases - refunds, cash basis",
        "  USD: subscriptions $32.00 + purchases $40.00 - refunds $5.00 = $67.00",
        "",
        "Conversion funnel",
        "  visit: 4",
        "  signup: 1 (25.00% of the step before)",
        "  checkout started: 0 (0.00% of the step before)",
        "  paid: 1",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--start", "2026-11-30", "--end", "2026-11-01"), "The end is before the start."),
        (("--start", "30/11/2026"), "argument --start: not a date (YYYY-MM-DD): '30/11/2026'"),
        (("--limit", "0"), "--limit must be at least 1."),
    ],
)
def test_the_report_refuses_bad_arguments(args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        report(*args)
