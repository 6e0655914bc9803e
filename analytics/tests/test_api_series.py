"""The series endpoints: exact figures, CSV, who may ask (staff with the permission; sellers for their own)."""

from datetime import UTC, date, datetime

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import UserFactory
from analytics.models import DailyRollup
from analytics.tests.test_api import client_for, metrics_viewer
from billing.services.revenue import subscription_history_record, subscription_payment_record
from billing.tests.factories import MembershipFactory, OrganizationFactory, PurchaseFactory
from marketplace.tests.factories import PromptTemplateFactory

pytestmark = pytest.mark.django_db

NOVEMBER = "start=2026-11-01&end=2026-11-30"


def _subscription(sub_id, status, *, unit, interval="month", start, at=None):
    at = at or start
    return {
        "id": sub_id,
        "status": status,
        "start_date": int(start.timestamp()),
        "ended_at": int(at.timestamp()) if status == "canceled" else None,
        "items": {
            "data": [
                {"quantity": 1, "price": {"unit_amount": unit, "currency": "usd", "recurring": {"interval": interval}}}
            ]
        },
    }


@pytest.fixture
def business():
    acme, solo = OrganizationFactory(name="Acme"), OrganizationFactory(name="Solo")
    oct_1, nov_10 = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 10, 8, tzinfo=UTC)
    subscription_history_record(
        organization=acme, subscriptions=[_subscription("sub_a", "active", unit=3200, start=oct_1)], now=oct_1
    )
    subscription_history_record(
        organization=solo,
        subscriptions=[_subscription("sub_s", "active", unit=32000, interval="year", start=oct_1)],
        now=oct_1,
    )
    subscription_history_record(
        organization=solo,
        subscriptions=[_subscription("sub_s", "canceled", unit=32000, interval="year", start=oct_1, at=nov_10)],
        now=nov_10,
    )
    subscription_payment_record(
        invoice={
            "id": "in_1",
            "amount_paid": 3200,
            "currency": "usd",
            "status_transitions": {"paid_at": int(datetime(2026, 11, 1, 9, tzinfo=UTC).timestamp())},
            "parent": {"subscription_details": {"subscription": "sub_a"}},
        },
        organization=acme,
    )
    seller = OrganizationFactory(name="Prompt Forge")
    template = PromptTemplateFactory(seller=seller, slug="cold-email")
    PurchaseFactory(organization=solo, item_type="prompt_template", item_id=template.slug, amount=900)
    PurchaseFactory(organization=acme, item_type="quiz", item_id="q1", amount=4000)
    DailyRollup.objects.create(
        day=date(2026, 11, 3),
        name="page_view",
        item_type="marketplace:detail",
        item_id="cold-email",
        events=12,
        visitors=5,
    )
    DailyRollup.objects.create(
        day=date(2026, 11, 3),
        name="page_view",
        item_type="content:article_detail",
        item_id="tone",
        events=30,
        visitors=9,
    )
    return acme, solo, seller


def test_mrr_by_month(business):
    body = (
        client_for(metrics_viewer())
        .get("/api/v1/analytics/mrr/?start=2026-10-01&end=2026-11-30&granularity=month")
        .json()
    )
    assert body["points"] == [
        {
            "day": "2026-10-31",
            "currency": "usd",
            "mrr": 5867,
            "arr": 70404,
            "subscriptions": 2,
            "paying_customers": 2,
            "arpu": 2934,
        },
        {
            "day": "2026-11-30",
            "currency": "usd",
            "mrr": 3200,
            "arr": 38400,
            "subscriptions": 1,
            "paying_customers": 1,
            "arpu": 3200,
        },
    ]


def test_growth_and_churn(business):
    body = client_for(metrics_viewer()).get(f"/api/v1/analytics/growth/?{NOVEMBER}&granularity=month").json()
    assert body["points"] == [
        {
            "first_day": "2026-11-01",
            "last_day": "2026-11-30",
            "new": 0,
            "cancelled": 1,
            "net": -1,
            "active_at_start": 2,
            "churn_rate": "50.00",
        }
    ]


def test_revenue_trend_for_staff_and_for_a_seller(business):
    acme, solo, seller = business
    staff = client_for(metrics_viewer())
    body = staff.get(f"/api/v1/analytics/revenue-trend/?{NOVEMBER}&granularity=month").json()
    assert body["points"] == [
        {
            "first_day": "2026-11-01",
            "last_day": "2026-11-30",
            "currency": "usd",
            "subscriptions": 3200,
            "purchases": 4900,
            "refunds": 0,
            "net": 8100,
            "payments": 3,
        }
    ]
    member = MembershipFactory(organization=seller, role=Role.SELLER).user
    own = client_for(member).get(
        f"/api/v1/analytics/revenue-trend/?{NOVEMBER}&granularity=month&organization={seller.pk}"
    )
    assert own.status_code == 200
    assert own.json()["points"] == [
        {
            "first_day": "2026-11-01",
            "last_day": "2026-11-30",
            "currency": "usd",
            "subscriptions": 0,
            "purchases": 900,
            "refunds": 0,
            "net": 900,
            "payments": 1,
        }
    ]
    top = client_for(member).get(f"/api/v1/analytics/top-content/?{NOVEMBER}&organization={seller.pk}").json()
    assert top["items"] == [
        {"item_type": "marketplace:detail", "item_id": "cold-email", "views": 12, "daily_visitors": 5}
    ]
    buyers = client_for(member).get(f"/api/v1/analytics/top-customers/?organization={seller.pk}").json()
    assert [(c["name"], c["lifetime_value"]) for c in buyers["customers"]] == [("Solo", 900)]


@pytest.mark.parametrize("url", ["revenue-trend", "top-content", "top-customers", "cohorts"])
def test_a_seller_asking_about_another_organization_or_the_whole_business_gets_404_or_403(business, url):
    acme, solo, seller = business
    outsider = MembershipFactory(organization=OrganizationFactory(), role=Role.SELLER).user
    assert client_for(outsider).get(f"/api/v1/analytics/{url}/?organization={seller.pk}").status_code == 404
    buyer = MembershipFactory(organization=seller, role=Role.BUYER).user  # a member, but not selling
    assert client_for(buyer).get(f"/api/v1/analytics/{url}/?organization={seller.pk}").status_code == 404
    seller_member = MembershipFactory(organization=seller, role=Role.SELLER).user
    assert client_for(seller_member).get(f"/api/v1/analytics/{url}/").status_code == 403


@pytest.mark.parametrize("url", ["mrr", "growth", "funnel"])
def test_business_wide_series_are_staff_only(business, url):
    seller = business[2]
    member = MembershipFactory(organization=seller, role=Role.SELLER).user
    assert client_for(member).get(f"/api/v1/analytics/{url}/?organization={seller.pk}").status_code == 403
    assert client_for(UserFactory(is_staff=True)).get(f"/api/v1/analytics/{url}/").status_code == 403
    assert APIClient().get(f"/api/v1/analytics/{url}/").status_code == 401


def test_cohorts_and_funnel(business):
    staff = client_for(metrics_viewer())
    cohorts = staff.get("/api/v1/analytics/cohorts/?start=2026-11-01&end=2026-12-31").json()["cohorts"]
    # Acme and Solo paid first in November (the factory's purchases are dated 14 Nov); Acme still pays in December.
    assert cohorts == [{"month": "2026-11-01", "customers": 2, "retained": [2, 1], "retention": ["100.00", "50.00"]}]
    funnel = staff.get(f"/api/v1/analytics/funnel/?{NOVEMBER}").json()["steps"]
    assert funnel == [
        {"step": "visit", "count": 0, "conversion": None},
        {"step": "signup", "count": 0, "conversion": None},
        {"step": "checkout_started", "count": 0, "conversion": None},
        {"step": "paid", "count": 2, "conversion": None},
    ]


def test_every_table_downloads_as_csv(business):
    staff = client_for(metrics_viewer())
    response = staff.get("/api/v1/analytics/mrr/?start=2026-10-31&end=2026-11-01&format=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="mrr.csv"'
    assert response.content.decode().splitlines() == [
        "start,end,granularity,day,currency,mrr,arr,subscriptions,paying_customers,arpu",
        "2026-10-31,2026-11-01,day,2026-10-31,usd,5867,70404,2,2,2934",
        "2026-10-31,2026-11-01,day,2026-11-01,usd,5867,70404,2,2,2934",
    ]
    cohorts = staff.get("/api/v1/analytics/cohorts/?start=2026-11-01&end=2026-12-31&format=csv").content.decode()
    assert cohorts.splitlines()[1] == "2026-11-01,2026-12-31,,2026-11-01,2,2;1,100.00;50.00"
    for url in ("growth", "revenue-trend", "funnel", "top-content", "top-customers", "revenue"):
        response = staff.get(f"/api/v1/analytics/{url}/?format=csv")
        assert (response.status_code, response["Content-Type"]) == (200, "text/csv; charset=utf-8"), url
    refused = client_for(UserFactory()).get("/api/v1/analytics/mrr/?format=csv")
    assert refused.status_code == 403
    # An error is JSON in the error shape even when CSV was asked for.
    assert refused["Content-Type"].startswith("application/json")
    assert refused.json()["code"] == "permission_denied"
