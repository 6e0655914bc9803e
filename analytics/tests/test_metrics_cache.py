"""Figures are cached under billing's revenue version: a second read costs no query; a change is seen at once."""

from datetime import UTC, date, datetime

import pytest

from analytics.periods import ReportPeriod
from analytics.selectors import mrr_series, revenue_trend
from billing.services.revenue import subscription_history_record, subscription_payment_record
from billing.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

PERIOD = ReportPeriod(first_day=date(2026, 11, 1), last_day=date(2026, 11, 30))
START = datetime(2026, 10, 1, tzinfo=UTC)


def _subscription(status: str, unit: int) -> dict:
    return {
        "id": "sub_1",
        "status": status,
        "start_date": int(START.timestamp()),
        "items": {"data": [{"price": {"unit_amount": unit, "currency": "usd", "recurring": {"interval": "month"}}}]},
    }


def test_a_cached_figure_changes_as_soon_as_billing_commits_a_change(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    org = OrganizationFactory()
    with django_capture_on_commit_callbacks(execute=True):
        subscription_history_record(organization=org, subscriptions=[_subscription("active", 3200)], now=START)
    assert mrr_series(period=PERIOD, granularity="month")[0].mrr == 3200
    with django_assert_num_queries(0):
        assert mrr_series(period=PERIOD, granularity="month")[0].mrr == 3200

    # An upgrade is recorded (as a webhook would): the next read sees it, not the cached figure.
    with django_capture_on_commit_callbacks(execute=True):
        subscription_history_record(
            organization=org, subscriptions=[_subscription("active", 9900)], now=datetime(2026, 11, 20, tzinfo=UTC)
        )
    assert mrr_series(period=PERIOD, granularity="month")[0].mrr == 9900

    assert revenue_trend(period=PERIOD, granularity="month") == []
    with django_capture_on_commit_callbacks(execute=True):
        subscription_payment_record(
            invoice={
                "id": "in_1",
                "amount_paid": 9900,
                "currency": "usd",
                "status_transitions": {"paid_at": int(datetime(2026, 11, 20, tzinfo=UTC).timestamp())},
                "parent": {"subscription_details": {"subscription": "sub_1"}},
            },
            organization=org,
        )
    assert [p.net for p in revenue_trend(period=PERIOD, granularity="month")] == [9900]
