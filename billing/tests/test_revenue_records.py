"""Billing's own records of subscription money and state, written from the webhooks (Stripe sandbox, no mocks)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import stripe
from django.apps import apps
from djstripe.models import Event

from billing.models import SubscriptionHistory, SubscriptionPayment, SubscriptionRefund
from billing.services.revenue import monthly_recurring_amount, revenue_version
from billing.services.webhooks import stripe_event_apply
from billing.tests.checkout_helpers import subscribe
from billing.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _history(org):
    return list(
        SubscriptionHistory.objects.filter(organization=org)
        .order_by("valid_from", "id")
        .values_list("status", "mrr_amount", "change", "valid_to")
    )


def test_payments_refunds_and_history_from_a_subscription_lifecycle(billing_site):
    membership = MembershipFactory()
    org = membership.organization
    version = revenue_version()
    assert subscribe(membership) == 303
    billing_site.flush()

    first = SubscriptionPayment.objects.get(organization=org)
    assert (first.amount, first.currency, first.billing_reason) == (3200, "usd", "subscription_create")
    assert first.period_end > first.period_start
    [(status, mrr, change, valid_to)] = _history(org)
    assert (status, mrr, change, valid_to) == ("active", 3200, "new", None)
    assert revenue_version() != version

    # Every event applied again: nothing is recorded twice.
    for event in Event.objects.all():
        stripe_event_apply(event_id=event.id)
    assert SubscriptionPayment.objects.filter(organization=org).count() == 1
    assert len(_history(org)) == 1

    # A renewal is a second payment; the state did not change.
    billing_site.advance_clock(31 * 86_400)
    billing_site.flush()
    payments = list(SubscriptionPayment.objects.filter(organization=org).order_by("paid_at"))
    assert [(p.amount, p.billing_reason) for p in payments] == [
        (3200, "subscription_create"),
        (3200, "subscription_cycle"),
    ]
    assert payments[1].paid_at > payments[0].paid_at
    assert len(_history(org)) == 1

    # Staff refund part of the renewal from Stripe's dashboard.
    customer_id = org.djstripe_customers.get().id
    intents = stripe.PaymentIntent.list(customer=customer_id).data
    renewal_intent = max(intents, key=lambda i: i.created)
    refund = stripe.Refund.create(payment_intent=renewal_intent.id, amount=1200)
    billing_site.flush()
    billing_site.flush()
    recorded = SubscriptionRefund.objects.get()
    assert (recorded.organization_id, recorded.amount, recorded.currency, recorded.stripe_refund_id) == (
        org.pk,
        1200,
        "usd",
        refund.id,
    )

    # Cancelled now: the active row closes where the cancelled one starts.
    subscription_id = payments[0].stripe_subscription_id
    stripe.Subscription.cancel(subscription_id)
    billing_site.flush()
    rows = list(SubscriptionHistory.objects.filter(organization=org).order_by("valid_from", "id"))
    assert [(r.status, r.mrr_amount, r.change) for r in rows] == [("active", 3200, "new"), ("canceled", 0, "churn")]
    assert rows[0].valid_to == rows[1].valid_from
    assert rows[1].valid_to is None


def test_a_yearly_subscription_counts_a_twelfth_and_a_trial_nothing_until_it_converts(billing_site, settings):
    settings.BILLING_TRIAL_DAYS = 7
    membership = MembershipFactory()
    org = membership.organization
    assert subscribe(membership, lookup_key="premium_yearly") == 303
    billing_site.flush()
    assert _history(org) == [("trialing", 0, "update", None)]
    assert not SubscriptionPayment.objects.filter(organization=org).exists()  # the trial's invoice is 0

    billing_site.advance_clock(8 * 86_400)
    billing_site.flush()
    history = _history(org)
    assert [(s, m, c) for s, m, c, _ in history] == [("trialing", 0, "update"), ("active", 2667, "new")]
    assert SubscriptionPayment.objects.get(organization=org).amount == 32000


def test_the_data_migration_rebuilds_history_from_the_mirror(billing_site):
    membership = MembershipFactory()
    org = membership.organization
    assert subscribe(membership) == 303
    billing_site.flush()
    subscription_id = SubscriptionHistory.objects.get(organization=org).stripe_subscription_id
    billing_site.advance_clock(86_400)  # cancelled a day later: not in the second it started, which folds the two
    stripe.Subscription.cancel(subscription_id)
    billing_site.flush()
    SubscriptionHistory.objects.all().delete()

    migration = __import__("billing.migrations.0012_subscription_history_from_mirror", fromlist=["fill_history"])
    migration.fill_history(apps, None)
    migration.fill_history(apps, None)  # again: subscriptions with history are left alone

    rows = list(SubscriptionHistory.objects.filter(organization=org).order_by("valid_from"))
    assert [(r.status, r.mrr_amount, r.change) for r in rows] == [("active", 3200, "new"), ("canceled", 0, "churn")]
    assert rows[0].valid_to == rows[1].valid_from and rows[1].valid_to is None


@pytest.mark.parametrize(
    ("unit", "quantity", "interval", "count", "percent", "amount_off", "expected"),
    [
        (3200, 1, "month", 1, None, None, 3200),
        (32000, 1, "year", 1, None, None, 2667),  # 2666.67
        (1000, 1, "week", 1, None, None, 4333),  # 4333.33
        (1000, 1, "month", 3, None, None, 333),
        (3200, 3, "month", 1, Decimal("20"), None, 7680),
        (999, 1, "month", 1, Decimal("12.5"), None, 874),  # 124.875 off, rounded to 125
        (3200, 1, "month", 1, None, 5000, 0),  # never below zero
        (3200, 1, "month", 1, None, 700, 2500),
        (100, 1, "hour", 1, None, None, 0),  # not an interval Stripe bills subscriptions in
    ],
)
def test_monthly_recurring_amount(unit, quantity, interval, count, percent, amount_off, expected):
    assert (
        monthly_recurring_amount(
            unit_amount=unit,
            quantity=quantity,
            interval=interval,
            interval_count=count,
            percent_off=percent,
            amount_off=amount_off,
        )
        == expected
    )


def test_refunds_of_purchases_are_not_subscription_refunds():
    from billing.services.revenue import subscription_refund_record_from_stripe
    from billing.tests.factories import PurchaseFactory

    purchase = PurchaseFactory(stripe_payment_intent_id="pi_purchase", status="paid", paid_at=datetime.now(tz=UTC))
    refund = {"id": "re_1", "payment_intent": purchase.stripe_payment_intent_id, "amount": 100, "status": "succeeded"}
    assert subscription_refund_record_from_stripe(refund=refund) is None
    assert not SubscriptionRefund.objects.exists()
