"""/api/v1/analytics/revenue/ and /top-customers/: staff only, exact figures, the project's error shape."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from analytics import periods
from billing.tests.factories import OrganizationFactory, PurchaseFactory

pytestmark = pytest.mark.django_db

REVENUE = "/api/v1/analytics/revenue/"
TOP = "/api/v1/analytics/top-customers/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def metrics_viewer(**fields):
    """A staff member in a group granted analytics.view_metrics, as staff are given it."""
    group, _ = Group.objects.get_or_create(name="Analysts")
    group.permissions.add(Permission.objects.get(codename="view_metrics", content_type__app_label="analytics"))
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(group)
    return user


@pytest.fixture
def staff():
    return client_for(metrics_viewer())


@pytest.fixture
def sales():
    acme, solo = OrganizationFactory(name="Acme"), OrganizationFactory(name="Solo")
    PurchaseFactory(organization=acme, amount=6000, paid_at=datetime(2026, 11, 1, tzinfo=UTC))
    # Paid on the last day of November, partly refunded the next morning: the refund is December's.
    PurchaseFactory(
        organization=acme,
        amount=4000,
        paid_at=datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC),
        refunded_amount=1500,
        refunded_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    )
    PurchaseFactory(organization=solo, amount=1000, refunded_amount=1000)  # refunded when paid, 14 Nov
    PurchaseFactory(organization=solo, amount=2500, currency="eur")
    PurchaseFactory(organization=acme, amount=9999, paid_at=datetime(2026, 12, 1, tzinfo=UTC))  # the day after
    PurchaseFactory(organization=acme, amount=7000, status="expired", paid_at=None)
    return acme, solo


@pytest.mark.parametrize("url", [REVENUE, TOP])
@pytest.mark.parametrize("user", [{}, {"is_staff": True}], ids=["customer", "staff-without-the-permission"])
def test_only_staff_with_the_permission_see_metrics(url, user, sales):
    response = client_for(UserFactory(**user)).get(url, HTTP_X_REQUEST_ID="req-403")
    assert response.status_code == 403
    assert response.json() == {
        "status": 403,
        "code": "permission_denied",
        "message": "Business metrics need the analytics.view_metrics permission.",
        "errors": [],
        "request_id": "req-403",
    }
    anonymous = APIClient().get(url)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")


def test_revenue_for_a_period(staff, sales):
    response = staff.get(REVENUE, {"start": "2026-11-01", "end": "2026-11-30"})
    assert response.status_code == 200
    assert response.json() == {
        "start": "2026-11-01",
        "end": "2026-11-30",
        "customer": None,
        "currencies": [
            {"currency": "eur", "gross": 2500, "refunds": 0, "net": 2500, "purchases": 1},
            {"currency": "usd", "gross": 11000, "refunds": 1000, "net": 10000, "purchases": 3},
        ],
    }


def test_revenue_for_one_day_and_one_customer(staff, sales):
    acme, solo = sales
    one_day = staff.get(REVENUE, {"start": "2026-11-30", "end": "2026-11-30", "customer": acme.pk}).json()
    assert one_day == {
        "start": "2026-11-30",
        "end": "2026-11-30",
        "customer": acme.pk,
        "currencies": [{"currency": "usd", "gross": 4000, "refunds": 0, "net": 4000, "purchases": 1}],
    }
    next_day = staff.get(REVENUE, {"start": "2026-12-01", "end": "2026-12-01", "customer": acme.pk}).json()
    assert next_day["currencies"] == [{"currency": "usd", "gross": 9999, "refunds": 1500, "net": 8499, "purchases": 1}]
    solo_lines = staff.get(REVENUE, {"start": "2026-11-01", "end": "2026-11-30", "customer": solo.pk}).json()
    assert solo_lines["currencies"] == [
        {"currency": "eur", "gross": 2500, "refunds": 0, "net": 2500, "purchases": 1},
        {"currency": "usd", "gross": 1000, "refunds": 1000, "net": 0, "purchases": 1},
    ]


def test_a_period_with_only_refunds_has_a_negative_net(staff, sales):
    acme, solo = sales
    PurchaseFactory(
        organization=solo,
        amount=2500,
        currency="eur",
        refunded_amount=2500,
        refunded_at=datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
    )
    body = staff.get(REVENUE, {"start": "2026-12-02", "end": "2026-12-31"}).json()
    assert body["currencies"] == [{"currency": "eur", "gross": 0, "refunds": 2500, "net": -2500, "purchases": 0}]


def test_revenue_defaults_to_the_last_30_days(staff, sales, monkeypatch):
    now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    monkeypatch.setattr(periods, "timezone", SimpleNamespace(now=lambda: now))

    body = staff.get(REVENUE).json()
    assert (body["start"], body["end"]) == ("2026-11-01", "2026-11-30")
    assert [(line["currency"], line["net"]) for line in body["currencies"]] == [("eur", 2500), ("usd", 10000)]
    only_end = staff.get(REVENUE, {"end": "2026-11-29"}).json()
    assert (only_end["start"], only_end["end"]) == ("2026-10-31", "2026-11-29")
    assert [(line["currency"], line["net"]) for line in only_end["currencies"]] == [("eur", 2500), ("usd", 6000)]


def test_end_before_start_is_a_field_error(staff, sales):
    response = staff.get(REVENUE, {"start": "2026-11-30", "end": "2026-11-29"}, HTTP_X_REQUEST_ID="req-400")
    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "code": "validation_error",
        "message": "The request has invalid fields.",
        "errors": [{"field": "end", "message": "The end is before the start."}],
        "request_id": "req-400",
    }


def test_malformed_parameters_are_field_errors(staff):
    response = staff.get(REVENUE, {"start": "30/11/2026", "end": "tomorrow", "customer": "acme"})
    assert response.status_code == 400
    assert sorted(error["field"] for error in response.json()["errors"]) == ["customer", "end", "start"]
    for limit in ("0", "101", "ten"):
        response = staff.get(TOP, {"limit": limit})
        assert (response.status_code, response.json()["errors"][0]["field"]) == (400, "limit")


def test_an_unknown_customer_is_404(staff, sales):
    response = staff.get(REVENUE, {"customer": 999_999})
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_top_customers(staff, sales):
    acme, solo = sales
    response = staff.get(TOP, {"limit": 1})
    assert response.status_code == 200
    assert response.json() == {
        "limit": 1,
        "customers": [
            {
                "customer": solo.pk,
                "name": "Solo",
                "currency": "eur",
                "paid": 2500,
                "refunds": 0,
                "lifetime_value": 2500,
                "payments": 1,
            },
            {
                "customer": acme.pk,
                "name": "Acme",
                "currency": "usd",
                "paid": 19999,
                "refunds": 1500,
                "lifetime_value": 18499,
                "payments": 3,
            },
        ],
    }
    default = staff.get(TOP).json()
    assert default["limit"] == 10
    assert [(c["name"], c["currency"], c["lifetime_value"]) for c in default["customers"]] == [
        ("Solo", "eur", 2500),
        ("Acme", "usd", 18499),
        ("Solo", "usd", 0),
    ]


def test_an_error_asked_for_as_csv_is_json_in_the_error_shape(db):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/analytics/mrr/", {"format": "csv"})
    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"status", "code", "message", "errors", "request_id"}
