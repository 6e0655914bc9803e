"""Revenue and lifetime value from one-time purchases: exact sums, refunds netted, one query each."""

from datetime import UTC, datetime, timedelta

import pytest

from analytics.selectors import CustomerLifetimeValue, RevenueLine, customer_lifetime_values, revenue_summary
from analytics.tests.factories import OrganizationFactory, PurchaseFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def test_revenue_is_gross_minus_refunds_per_currency_and_leaves_out_unpaid_purchases():
    org = OrganizationFactory()
    PurchaseFactory(organization=org, amount=6000)
    PurchaseFactory(organization=org, amount=4000, refunded_amount=1500, status="partially_refunded")
    PurchaseFactory(organization=org, amount=1000, refunded_amount=1000, status="refunded")
    PurchaseFactory(organization=None, amount=700)  # anonymous buyer: still revenue
    PurchaseFactory(organization=org, amount=2500, currency="eur")
    # Not revenue: never paid, abandoned, or free on the plan's quota.
    PurchaseFactory(organization=org, amount=9000, status="pending", paid_at=None)
    PurchaseFactory(organization=org, amount=7000, status="expired", paid_at=None)
    PurchaseFactory(organization=org, amount=0, list_amount=4000, discount_amount=4000)

    assert revenue_summary(start=START, end=END) == [
        RevenueLine(currency="eur", gross=2500, refunds=0, net=2500, purchases=1),
        RevenueLine(currency="usd", gross=11700, refunds=2500, net=9200, purchases=4),
    ]


def test_the_period_includes_its_start_and_excludes_its_end():
    PurchaseFactory(amount=100, paid_at=START)
    PurchaseFactory(amount=200, paid_at=END - MICROSECOND)
    PurchaseFactory(amount=400, paid_at=START - MICROSECOND)
    PurchaseFactory(amount=800, paid_at=END)

    assert revenue_summary(start=START, end=END) == [
        RevenueLine(currency="usd", gross=300, refunds=0, net=300, purchases=2)
    ]
    assert revenue_summary(start=END, end=END + timedelta(days=1)) == [
        RevenueLine(currency="usd", gross=800, refunds=0, net=800, purchases=1)
    ]
    assert revenue_summary(start=END + timedelta(days=1), end=END + timedelta(days=2)) == []


def test_a_refund_counts_against_the_period_its_purchase_was_paid_in():
    october = PurchaseFactory(amount=5000, paid_at=START - timedelta(days=3))
    PurchaseFactory(amount=3000)
    # Refunded in November, but the purchase was paid in October: October's net drops.
    october.refunded_amount, october.status = 2000, "partially_refunded"
    october.save()

    assert revenue_summary(start=START - timedelta(days=31), end=START) == [
        RevenueLine(currency="usd", gross=5000, refunds=2000, net=3000, purchases=1)
    ]
    assert revenue_summary(start=START, end=END) == [
        RevenueLine(currency="usd", gross=3000, refunds=0, net=3000, purchases=1)
    ]


def test_revenue_for_one_customer():
    ours, theirs = OrganizationFactory(), OrganizationFactory()
    PurchaseFactory(organization=ours, amount=1200, refunded_amount=200, status="partially_refunded")
    PurchaseFactory(organization=theirs, amount=9900)
    PurchaseFactory(organization=None, amount=500)

    assert revenue_summary(start=START, end=END, organization_id=ours.pk) == [
        RevenueLine(currency="usd", gross=1200, refunds=200, net=1000, purchases=1)
    ]
    assert revenue_summary(start=START, end=END, organization_id=OrganizationFactory().pk) == []


def test_revenue_is_one_query_however_many_purchases(django_assert_num_queries):
    for currency in ("usd", "eur", "gbp"):
        PurchaseFactory.create_batch(5, currency=currency, amount=100, refunded_amount=10, status="partially_refunded")

    with django_assert_num_queries(1):
        lines = revenue_summary(start=START, end=END)
    assert [(line.currency, line.net, line.purchases) for line in lines] == [
        ("eur", 450, 5),
        ("gbp", 450, 5),
        ("usd", 450, 5),
    ]


@pytest.fixture
def customers():
    """Three customers' purchases over the years, in two currencies."""
    big, mid, gone = (OrganizationFactory(name=name) for name in ("Big", "Mid", "Refunded"))
    PurchaseFactory(organization=big, amount=9000, paid_at=START - timedelta(days=400))
    PurchaseFactory(organization=big, amount=100, currency="eur")
    PurchaseFactory(organization=mid, amount=6000)
    PurchaseFactory(organization=mid, amount=4000, refunded_amount=1500, status="partially_refunded")
    PurchaseFactory(organization=gone, amount=10000, refunded_amount=10000, status="refunded")
    PurchaseFactory(organization=gone, amount=3000, status="pending", paid_at=None)  # not paid: not counted
    PurchaseFactory(organization=None, amount=50000)  # anonymous: no customer
    return big, mid, gone


def test_top_customers_by_lifetime_value_are_ranked_within_each_currency(customers):
    big, mid, gone = customers

    assert customer_lifetime_values(limit=2) == [
        CustomerLifetimeValue(
            organization_id=big.pk, name="Big", currency="eur", paid=100, refunds=0, lifetime_value=100, purchases=1
        ),
        CustomerLifetimeValue(
            organization_id=big.pk, name="Big", currency="usd", paid=9000, refunds=0, lifetime_value=9000, purchases=1
        ),
        CustomerLifetimeValue(
            organization_id=mid.pk,
            name="Mid",
            currency="usd",
            paid=10000,
            refunds=1500,
            lifetime_value=8500,
            purchases=2,
        ),
    ]
    assert [(c.name, c.currency, c.lifetime_value) for c in customer_lifetime_values()] == [
        ("Big", "eur", 100),
        ("Big", "usd", 9000),
        ("Mid", "usd", 8500),
        ("Refunded", "usd", 0),
    ]


def test_equal_lifetime_values_are_ordered_by_customer(customers):
    big, mid, gone = customers
    PurchaseFactory(organization=gone, amount=8500)  # level with Mid

    assert mid.pk < gone.pk
    assert [(c.name, c.lifetime_value) for c in customer_lifetime_values(limit=3) if c.currency == "usd"] == [
        ("Big", 9000),
        ("Mid", 8500),
        ("Refunded", 8500),
    ]


def test_lifetime_value_of_one_customer(customers):
    big, mid, gone = customers

    assert [(c.currency, c.lifetime_value) for c in customer_lifetime_values(organization_id=big.pk)] == [
        ("eur", 100),
        ("usd", 9000),
    ]
    assert customer_lifetime_values(organization_id=OrganizationFactory().pk) == []


def test_top_customers_is_one_query(customers, django_assert_num_queries):
    for org in OrganizationFactory.create_batch(5):
        PurchaseFactory.create_batch(2, organization=org, amount=100)

    with django_assert_num_queries(1):
        top = customer_lifetime_values(limit=3)
    assert [(c.currency, c.lifetime_value) for c in top] == [("eur", 100), ("usd", 9000), ("usd", 8500), ("usd", 200)]
