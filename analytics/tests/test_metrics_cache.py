"""Figures are cached under billing's revenue version: a second read costs no query; a change is seen at once."""

from datetime import UTC, date, datetime

import pytest
from django.core.cache import cache

from accounts.models import Organization
from analytics.periods import ReportPeriod
from analytics.selectors import _cache_key, conversion_funnel, customer_lifetime_values, mrr_series, revenue_trend
from analytics.services import events_store
from billing.services.revenue import subscription_history_record, subscription_payment_record
from billing.tests.factories import OrganizationFactory
from common.events import event_payload

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


def _pay(org, invoice_id: str, amount: int, paid_at: datetime) -> None:
    subscription_payment_record(
        invoice={
            "id": invoice_id,
            "amount_paid": amount,
            "currency": "usd",
            "status_transitions": {"paid_at": int(paid_at.timestamp())},
            "parent": {"subscription_details": {"subscription": "sub_1"}},
        },
        organization=org,
    )


def test_lifetime_value_and_the_funnels_paid_step_follow_a_payment_at_once(django_capture_on_commit_callbacks):
    first, second = OrganizationFactory(name="First"), OrganizationFactory(name="Second")
    with django_capture_on_commit_callbacks(execute=True):
        _pay(first, "in_1", 5000, datetime(2026, 11, 3, tzinfo=UTC))
    assert [(c.name, c.lifetime_value) for c in customer_lifetime_values(limit=1)] == [("First", 5000)]
    assert [s.count for s in conversion_funnel(period=PERIOD)] == [0, 0, 0, 1]

    with django_capture_on_commit_callbacks(execute=True):
        _pay(second, "in_2", 9000, datetime(2026, 11, 4, tzinfo=UTC))
    assert [(c.name, c.lifetime_value) for c in customer_lifetime_values(limit=1)] == [("Second", 9000)]
    assert [s.count for s in conversion_funnel(period=PERIOD)] == [0, 0, 0, 2]

    # Names are not billing's: a rename shows at once, the ranked totals stay cached.
    Organization.objects.filter(pk=second.pk).update(name="Renamed")
    assert [c.name for c in customer_lifetime_values(limit=1)] == ["Renamed"]


def test_the_funnels_event_steps_are_kept_a_few_minutes(django_capture_on_commit_callbacks):
    assert [s.count for s in conversion_funnel(period=PERIOD)] == [0, 0, 0, 0]
    events_store(payloads=[event_payload("page_view", anonymous_id="v1", at=datetime(2026, 11, 5, tzinfo=UTC))])
    assert conversion_funnel(period=PERIOD)[0].count == 0  # cached for EVENTS_CACHE_SECONDS
    cache.delete(_cache_key("funnel-events", (PERIOD,), versioned=False))  # as when they expire
    assert conversion_funnel(period=PERIOD)[0].count == 1
