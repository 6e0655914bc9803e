"""The whole subscription lifecycle as a customer sees it, in headless Chromium.

Checkout on the sandbox's hosted page → signed webhooks → grants → quota used to the
limit and refused → the clock renews the subscription and resets the quota → the card
starts failing, the renewal fails, the past-due banner shows during the grace period →
grace ends and access goes → the customer subscribes again. Screenshots of every step
land in artifacts/screenshots/<this test>/.
"""

import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
import stripe
from django.test import Client
from django.utils import timezone

from billing.models import SubscriptionState
from billing.services.reconcile import grace_periods_expire
from billing.tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

METER = ".meter[data-feature=premium_article]"


def _advance_days(sandbox, days: int) -> None:
    data = urllib.parse.urlencode({"seconds": days * 86_400}).encode()
    with urllib.request.urlopen(f"{sandbox.url}/_sandbox/clock/advance", data=data, timeout=30) as response:
        assert response.status == 200
    sandbox.flush()


def _checkout_premium(page, live_server, sandbox, *, shot_prefix: str) -> None:
    page.goto(f"{live_server.url}/billing/settings/")
    page.click("text=See plans")
    page.click("button[data-price=premium_monthly]")
    page.fill("#card_number", "4242 4242 4242 4242")
    page.shot(f"{shot_prefix}-hosted-checkout")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/billing/checkout/success/**")
    sandbox.flush()


def test_lifecycle_from_checkout_to_resubscribe_in_the_browser(billing_site, live_server, page):
    membership = MembershipFactory()
    org = membership.organization
    api = Client()
    api.force_login(membership.user)
    page.context.add_cookies([{"name": "sessionid", "value": api.cookies["sessionid"].value, "url": live_server.url}])

    def read_article(key: str):
        body = {"customer": org.pk, "feature": "premium_article", "quantity": 1, "idempotency_key": key}
        return api.post("/api/v1/features/track-usage/", body, content_type="application/json")

    # Checkout → webhooks → grants.
    _checkout_premium(page, live_server, billing_site, shot_prefix="first")
    page.goto(f"{live_server.url}/billing/settings/")
    page.shot("premium")
    assert "Plan: Premium" in page.content()
    assert "0 of 3 premium articles used this cycle" in page.locator(METER).inner_text()

    # Use the quota to the limit; the next use is refused.
    assert [read_article(f"c1-{n}").status_code for n in range(3)] == [200, 200, 200]
    refused = read_article("c1-over")
    assert (refused.status_code, refused.json()["code"]) == (402, "quota_exceeded")
    page.reload()
    page.shot("quota-used-up")
    assert "3 of 3 premium articles used this cycle" in page.locator(METER).inner_text()

    # The clock passes the renewal: a new cycle, a fresh quota.
    _advance_days(billing_site, 31)
    page.reload()
    page.shot("renewed")
    assert "0 of 3 premium articles used this cycle" in page.locator(METER).inner_text()
    assert read_article("c2-0").status_code == 200

    # The card on file starts failing (…0341): the next renewal fails.
    state = SubscriptionState.objects.get(organization=org)
    failing = stripe.PaymentMethod.attach("pm_card_chargeCustomerFail", customer=state.stripe_customer_id)
    stripe.Subscription.modify(state.stripe_subscription_id, default_payment_method=failing.id)
    _advance_days(billing_site, 31)
    page.reload()
    page.shot("past-due-banner")
    assert "Your last payment failed." in page.content()
    assert "Plan: Premium" in page.content()  # the grace period keeps access
    assert read_article("c3-0").status_code == 200

    # Grace ends. The sandbox's clock moved but ours did not, so the grace window is
    # made to lie in the past, then the beat job runs at the real time: access goes.
    state.refresh_from_db()
    assert state.grace_until > timezone.now()
    SubscriptionState.objects.filter(pk=state.pk).update(grace_until=timezone.now() - timedelta(seconds=1))
    assert grace_periods_expire() == 1
    page.reload()
    page.shot("access-revoked")
    assert "You are on the Free plan." in page.content()
    assert "Your last payment failed." not in page.content()
    assert read_article("c3-1").json()["code"] == "not_entitled"

    # Staff cancel the unpaid subscription; the customer subscribes again.
    stripe.Subscription.cancel(state.stripe_subscription_id)
    billing_site.flush()
    _checkout_premium(page, live_server, billing_site, shot_prefix="again")
    page.goto(f"{live_server.url}/billing/settings/")
    page.shot("resubscribed")
    assert "Plan: Premium" in page.content()
    assert "0 of 3 premium articles used this cycle" in page.locator(METER).inner_text()
