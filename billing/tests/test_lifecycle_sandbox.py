"""The subscription lifecycle through the Stripe sandbox and dj-stripe's signed webhook endpoint.

Nothing about Stripe is mocked: our pages call the sandbox over HTTP, the hosted
Checkout page is paid with a test card, and the sandbox posts signed events to
the site's webhook endpoint on the live server, whose receiver leads to our grants.
"""

import urllib.parse
import urllib.request

import pytest
import stripe

from billing.exceptions import QuotaExceeded
from billing.models import BillingEmail, EntitlementGrant, SubscriptionState
from billing.services.reconcile import grace_periods_expire
from billing.services.usage import usage_track
from billing.tests.checkout_helpers import subscribe
from billing.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_checkout_webhooks_grant_premium_quotas(billing_site):
    membership = MembershipFactory()
    org = membership.organization
    assert subscribe(membership) == 303
    deliveries = billing_site.flush()
    outcomes = {(d["type"], d["status"]) for d in deliveries}
    assert {status for _, status in outcomes} == {"delivered"}, outcomes
    assert {"customer.created", "customer.updated", "customer.subscription.created"} <= {t for t, _ in outcomes}

    state = SubscriptionState.objects.get(organization=org)
    assert (state.plan, state.status, state.price_lookup_key) == ("premium", "active", "premium_monthly")
    assert state.current_period_end > state.current_period_start
    grant = EntitlementGrant.objects.get(organization=org, feature="premium_article")
    assert (grant.limit, grant.cycle_start, grant.cycle_end) == (
        3,
        state.current_period_start,
        state.current_period_end,
    )

    for n in range(3):
        usage_track(organization=org, user_id=None, feature="premium_article", quantity=1, idempotency_key=f"a{n}")

    with pytest.raises(QuotaExceeded):
        usage_track(organization=org, user_id=None, feature="premium_article", quantity=1, idempotency_key="a3")


def advance_sandbox_clock(sandbox, *, days: int) -> None:
    """The sandbox's documented control: move its clock and run the renewals that fall due."""
    data = urllib.parse.urlencode({"seconds": days * 86_400}).encode()
    with urllib.request.urlopen(f"{sandbox.url}/_sandbox/clock/advance", data=data, timeout=30) as response:
        assert response.status == 200


def test_renewal_resets_failed_renewal_keeps_access_in_grace_then_revokes_and_resubscribe(billing_site, client):
    membership = MembershipFactory()
    org = membership.organization
    assert subscribe(membership) == 303
    billing_site.flush()
    first_cycle = SubscriptionState.objects.get(organization=org).current_period_end
    for n in range(3):
        usage_track(organization=org, user_id=None, feature="premium_article", quantity=1, idempotency_key=f"c1-{n}")
    with pytest.raises(QuotaExceeded):
        usage_track(organization=org, user_id=None, feature="premium_article", quantity=1, idempotency_key="c1-x")

    # Renewal: a new cycle starts and the quota with it.
    advance_sandbox_clock(billing_site, days=31)
    billing_site.flush()
    state = SubscriptionState.objects.get(organization=org)
    assert (state.status, state.current_period_start) == ("active", first_cycle)
    renewed = usage_track(organization=org, user_id=None, feature="premium_article", quantity=1, idempotency_key="c2")
    assert (renewed.used, renewed.remaining) == (1, 2)

    # The card on file now fails (…0341): the next renewal fails and the subscription goes past_due.
    subscription = stripe.Subscription.retrieve(state.stripe_subscription_id)
    failing = stripe.PaymentMethod.attach("pm_card_chargeCustomerFail", customer=state.stripe_customer_id)
    stripe.Subscription.modify(subscription.id, default_payment_method=failing.id)
    advance_sandbox_clock(billing_site, days=31)
    billing_site.flush()
    state.refresh_from_db()
    assert state.status == "past_due"
    assert state.grace_until is not None
    assert EntitlementGrant.objects.get(organization=org, feature="premium_article").limit == 3  # grace keeps access
    client.force_login(membership.user)
    assert "Your last payment failed." in client.get("/billing/settings/").content.decode()
    assert BillingEmail.objects.filter(organization=org, template="payment_failed").exists()

    # Grace ends: access is revoked; the banner goes and the Free plan shows.
    assert grace_periods_expire(now=state.grace_until) == 1
    assert not EntitlementGrant.objects.filter(organization=org, feature="premium_article").exists()

    # Staff cancel the unpaid subscription; the customer subscribes again.
    stripe.Subscription.cancel(subscription.id)
    billing_site.flush()
    state.refresh_from_db()
    assert state.status == "canceled"
    assert subscribe(membership) == 303
    billing_site.flush()
    state.refresh_from_db()
    assert (state.status, state.plan) == ("active", "premium")
    assert EntitlementGrant.objects.get(organization=org, feature="premium_article").limit == 3


def test_a_trial_set_in_settings_gives_premium_rights_while_trialing(billing_site, settings):
    settings.BILLING_TRIAL_DAYS = 14
    membership = MembershipFactory()
    assert subscribe(membership) == 303
    billing_site.flush()
    state = SubscriptionState.objects.get(organization=membership.organization)
    assert (state.status, state.plan, state.trial_end is not None) == ("trialing", "premium", True)
    assert EntitlementGrant.objects.get(organization=membership.organization, feature="premium_article").limit == 3
