"""The reconcile job re-reads Stripe itself, so it repairs whatever the webhooks left wrong.

Before, it re-read dj-stripe's local mirror: a mirror gone stale (a lost or wrongly
dropped event) stayed stale for ever.
"""

from datetime import timedelta

import pytest
import stripe
from django.utils import timezone
from djstripe.models import Subscription

from billing import purchasables
from billing.models import EntitlementGrant, Purchase, SubscriptionState
from billing.purchasables import PricedItem
from billing.services.entitlements import entitlements_refresh
from billing.services.reconcile import subscriptions_reconcile
from billing.tests.checkout_helpers import pay_hosted_checkout, subscribe
from billing.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def subscriber(billing_site):
    membership = MembershipFactory()
    assert subscribe(membership) == 303
    billing_site.flush()
    state = SubscriptionState.objects.get(organization=membership.organization)
    assert (state.plan, state.status) == ("premium", "active")
    return membership


def test_reconcile_repairs_a_deliberately_corrupted_mirror(subscriber):
    org = subscriber.organization
    mirrored = Subscription.objects.get(customer__subscriber=org)
    mirrored.stripe_data = {**mirrored.stripe_data, "status": "canceled"}
    mirrored.save(update_fields=["stripe_data"])
    SubscriptionState.objects.filter(organization=org).update(status="canceled")
    entitlements_refresh(organization=org)
    assert not EntitlementGrant.objects.filter(organization=org, feature="free_quiz").exists()

    assert subscriptions_reconcile() == 1

    assert Subscription.objects.get(pk=mirrored.pk).stripe_data["status"] == "active"
    state = SubscriptionState.objects.get(organization=org)
    assert (state.plan, state.status) == ("premium", "active")
    assert EntitlementGrant.objects.get(organization=org, feature="free_quiz").limit == 2


def test_reconcile_revokes_a_cancellation_whose_webhook_never_came(subscriber, billing_site):
    org = subscriber.organization
    for endpoint in stripe.WebhookEndpoint.list().auto_paging_iter():
        stripe.WebhookEndpoint.modify(endpoint.id, disabled=True)
    stripe.Subscription.cancel(SubscriptionState.objects.get(organization=org).stripe_subscription_id)
    billing_site.flush()
    assert SubscriptionState.objects.get(organization=org).status == "active"  # nothing told us

    subscriptions_reconcile()

    assert SubscriptionState.objects.get(organization=org).status == "canceled"
    assert not EntitlementGrant.objects.filter(organization=org, feature="free_quiz").exists()


def test_reconcile_settles_a_paid_purchase_whose_webhook_never_came(stripe_sandbox, monkeypatch):
    item = PricedItem("prompt_template", "t9", "Sales email template", 900, "usd")
    monkeypatch.setitem(purchasables._resolvers, "prompt_template", lambda item_id: item if item_id == "t9" else None)
    from rest_framework.test import APIClient

    member = MembershipFactory()
    api = APIClient()
    api.force_authenticate(member.user)
    started = api.post("/api/v1/purchases/", {"item_type": "prompt_template", "item_id": "t9"}, format="json").json()
    assert pay_hosted_checkout(started["checkout_url"], card="4242424242424242", email=member.user.email) == 303
    assert Purchase.objects.get().status == "pending"

    subscriptions_reconcile(now=timezone.now() + timedelta(hours=1))

    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.amount) == ("paid", 900)
