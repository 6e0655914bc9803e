"""Revenue (cash basis: paid minus refunded in the period) and lifetime value: exact sums, few queries."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from analytics.selectors import CustomerLifetimeValue, RevenueLine, customer_lifetime_values, revenue_summary
from billing.models import PurchaseRefund
from billing.tests.factories import OrganizationFactory, PurchaseFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
DECEMBER = (END, datetime(2027, 1, 1, tzinfo=UTC))
MICROSECOND = timedelta(microseconds=1)


def refund_again(purchase, *, amount: int, at: datetime) -> None:
    """A further refund of `purchase`, kept as billing keeps it: one more row, and the total raised."""
    PurchaseRefund.objects.create(purchase=purchase, amount=amount, source="staff", created_at=at)
    purchase.refunded_amount += amount
    purchase.status = "refunded" if purchase.refunded_amount == purchase.amount else "partially_refunded"
    purchase.save(update_fields=["refunded_amount", "status"])


def test_revenue_is_gross_minus_refunds_per_currency_and_leaves_out_unpaid_purchases():
    org = OrganizationFactory()
    PurchaseFactory(organization=org, amount=6000)
    # Refunded on the day they were paid (the factory's default date for the refund).
    PurchaseFactory(organization=org, amount=4000, refunded_amount=1500)
    PurchaseFactory(organization=org, amount=1000, refunded_amount=1000)
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


def test_refunds_made_at_the_start_count_and_at_the_end_do_not():
    paid_in_october = START - timedelta(days=20)
    PurchaseFactory(amount=5000, paid_at=paid_in_october, refunded_amount=10, refunded_at=START)
    PurchaseFactory(amount=5000, paid_at=paid_in_october, refunded_amount=20, refunded_at=END - MICROSECOND)
    PurchaseFactory(amount=5000, paid_at=paid_in_october, refunded_amount=40, refunded_at=START - MICROSECOND)
    PurchaseFactory(amount=5000, paid_at=paid_in_october, refunded_amount=80, refunded_at=END)

    assert revenue_summary(start=START, end=END) == [
        RevenueLine(currency="usd", gross=0, refunds=30, net=-30, purchases=0)
    ]
    assert revenue_summary(start=END, end=END + timedelta(days=1)) == [
        RevenueLine(currency="usd", gross=0, refunds=80, net=-80, purchases=0)
    ]
    assert revenue_summary(start=START - timedelta(days=31), end=START) == [
        RevenueLine(currency="usd", gross=20000, refunds=40, net=19960, purchases=4)
    ]


def test_a_refund_counts_in_the_period_it_was_made_not_the_one_its_purchase_was_paid_in():
    PurchaseFactory(
        amount=5000, paid_at=START + timedelta(days=19), refunded_amount=2000, refunded_at=END + timedelta(days=2)
    )

    # November sold 50.00 and refunded nothing; December sold nothing and refunded 20.00.
    assert revenue_summary(start=START, end=END) == [
        RevenueLine(currency="usd", gross=5000, refunds=0, net=5000, purchases=1)
    ]
    assert revenue_summary(start=DECEMBER[0], end=DECEMBER[1]) == [
        RevenueLine(currency="usd", gross=0, refunds=2000, net=-2000, purchases=0)
    ]
    assert revenue_summary(start=START, end=DECEMBER[1]) == [
        RevenueLine(currency="usd", gross=5000, refunds=2000, net=3000, purchases=1)
    ]


def test_each_refund_of_one_purchase_counts_in_its_own_period():
    purchase = PurchaseFactory(amount=5000, refunded_amount=1000, refunded_at=START + timedelta(days=20))
    refund_again(purchase, amount=4000, at=DECEMBER[0] + timedelta(days=9))
    PurchaseFactory(amount=3000, paid_at=DECEMBER[0] + timedelta(days=1))

    assert revenue_summary(start=START, end=END) == [
        RevenueLine(currency="usd", gross=5000, refunds=1000, net=4000, purchases=1)
    ]
    assert revenue_summary(start=DECEMBER[0], end=DECEMBER[1]) == [
        RevenueLine(currency="usd", gross=3000, refunds=4000, net=-1000, purchases=1)
    ]


def test_a_currency_with_only_refunds_in_the_period_has_a_line_with_nothing_sold():
    PurchaseFactory(amount=2500, currency="eur", refunded_amount=2500, refunded_at=DECEMBER[0] + timedelta(days=4))
    PurchaseFactory(amount=3000, currency="usd", paid_at=DECEMBER[0] + timedelta(days=5))
    PurchaseFactory(amount=900, currency="gbp", refunded_amount=300, refunded_at=DECEMBER[0] + timedelta(days=6))

    assert revenue_summary(start=DECEMBER[0], end=DECEMBER[1]) == [
        RevenueLine(currency="eur", gross=0, refunds=2500, net=-2500, purchases=0),
        RevenueLine(currency="gbp", gross=0, refunds=300, net=-300, purchases=0),
        RevenueLine(currency="usd", gross=3000, refunds=0, net=3000, purchases=1),
    ]


def test_revenue_for_one_customer():
    ours, theirs = OrganizationFactory(), OrganizationFactory()
    PurchaseFactory(organization=ours, amount=1200, refunded_amount=200)
    PurchaseFactory(organization=theirs, amount=9900)
    PurchaseFactory(organization=None, amount=500)

    assert revenue_summary(start=START, end=END, organization_id=ours.pk) == [
        RevenueLine(currency="usd", gross=1200, refunds=200, net=1000, purchases=1)
    ]
    assert revenue_summary(start=START, end=END, organization_id=OrganizationFactory().pk) == []


def test_the_customer_filter_applies_to_refunds():
    ours, theirs = OrganizationFactory(), OrganizationFactory()
    october = START - timedelta(days=10)
    PurchaseFactory(organization=ours, amount=1200, paid_at=october, refunded_amount=200, refunded_at=START)
    PurchaseFactory(organization=theirs, amount=9900, paid_at=october, refunded_amount=900, refunded_at=START)
    PurchaseFactory(organization=None, amount=500, paid_at=october, refunded_amount=500, refunded_at=START)

    assert revenue_summary(start=START, end=END, organization_id=ours.pk) == [
        RevenueLine(currency="usd", gross=0, refunds=200, net=-200, purchases=0)
    ]
    assert revenue_summary(start=START, end=END, organization_id=theirs.pk) == [
        RevenueLine(currency="usd", gross=0, refunds=900, net=-900, purchases=0)
    ]
    # Without the filter the anonymous buyer's refund counts too.
    assert revenue_summary(start=START, end=END) == [
        RevenueLine(currency="usd", gross=0, refunds=1600, net=-1600, purchases=0)
    ]


@pytest.mark.parametrize("organization", [False, True])
def test_revenue_is_two_queries_at_most_however_many_purchases_and_refunds(organization, django_assert_max_num_queries):
    org = OrganizationFactory()
    for currency in ("usd", "eur", "gbp"):
        PurchaseFactory.create_batch(5, organization=org, currency=currency, amount=100, refunded_amount=10)
        PurchaseFactory.create_batch(
            2,
            organization=org,
            currency=currency,
            paid_at=START - timedelta(days=1),
            refunded_amount=5,
            refunded_at=START,
        )
    PurchaseFactory(
        organization=org, currency="jpy", paid_at=START - timedelta(days=1), refunded_amount=700, refunded_at=START
    )

    with django_assert_max_num_queries(2):
        lines = revenue_summary(start=START, end=END, organization_id=org.pk if organization else None)
    assert [(line.currency, line.gross, line.refunds, line.net, line.purchases) for line in lines] == [
        ("eur", 500, 60, 440, 5),
        ("gbp", 500, 60, 440, 5),
        ("jpy", 0, 700, -700, 0),
        ("usd", 500, 60, 440, 5),
    ]


@pytest.fixture
def customers():
    """Three customers' purchases over the years, in two currencies."""
    big, mid, gone = (OrganizationFactory(name=name) for name in ("Big", "Mid", "Refunded"))
    PurchaseFactory(organization=big, amount=9000, paid_at=START - timedelta(days=400))
    PurchaseFactory(organization=big, amount=100, currency="eur")
    PurchaseFactory(organization=mid, amount=6000)
    # Lifetime value counts every refund, whenever it was made.
    PurchaseFactory(organization=mid, amount=4000, refunded_amount=1500, refunded_at=START + timedelta(days=400))
    PurchaseFactory(organization=gone, amount=10000, refunded_amount=10000)
    PurchaseFactory(organization=gone, amount=3000, status="pending", paid_at=None)  # not paid: not counted
    PurchaseFactory(organization=None, amount=50000)  # anonymous: no customer
    return big, mid, gone


def test_top_customers_by_lifetime_value_are_ranked_within_each_currency(customers):
    big, mid, gone = customers

    assert customer_lifetime_values(limit=2) == [
        CustomerLifetimeValue(
            organization_id=big.pk, name="Big", currency="eur", paid=100, refunds=0, lifetime_value=100, payments=1
        ),
        CustomerLifetimeValue(
            organization_id=big.pk, name="Big", currency="usd", paid=9000, refunds=0, lifetime_value=9000, payments=1
        ),
        CustomerLifetimeValue(
            organization_id=mid.pk,
            name="Mid",
            currency="usd",
            paid=10000,
            refunds=1500,
            lifetime_value=8500,
            payments=2,
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


def test_top_customers_is_a_fixed_number_of_queries_however_many_customers(customers, django_assert_num_queries):
    for org in OrganizationFactory.create_batch(5):
        PurchaseFactory.create_batch(2, organization=org, amount=100)

    # Purchases and refunds per customer, those customers' invoice totals, the currencies, the top of
    # billing's invoice totals in each of the 2 currencies, then the names.
    with django_assert_num_queries(7):
        customer_lifetime_values(limit=3, organization_id=None)
    for org in OrganizationFactory.create_batch(20):
        PurchaseFactory(organization=org, amount=50)
    cache.clear()
    with django_assert_num_queries(7):
        top = customer_lifetime_values(limit=3)
    assert [(c.currency, c.lifetime_value) for c in top] == [("eur", 100), ("usd", 9000), ("usd", 8500), ("usd", 200)]
