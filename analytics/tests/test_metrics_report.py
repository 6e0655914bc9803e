"""`manage.py metrics_report`: the same figures as the API, for a period."""

import re
from datetime import UTC, datetime
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command

from analytics import periods
from billing.tests.factories import OrganizationFactory, PurchaseFactory

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

    assert report("--start", "2026-11-01", "--end", "2026-11-30").splitlines() == [
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
