import pytest
import stripe
from django.core.management import call_command

from accounts.demo import CUSTOMER_EMAIL
from accounts.demo import seed_demo as seed_accounts
from accounts.models import Organization, User
from billing.demo import seed_demo
from billing.models import SubscriptionState, UsageCounter, UsageLedgerEntry
from billing.selectors import access_check
from billing.services.subscriptions import subscription_state_sync

pytestmark = pytest.mark.django_db


def test_demo_organization_is_premium_with_some_usage_and_a_rerun_adds_nothing():
    seed_accounts()
    seed_demo()
    seed_demo()
    org = UsageLedgerEntry.objects.first().organization
    article = access_check(organization_id=org.pk, user_id=None, feature="premium_article", cached=False)
    assert (article.limit, article.used) == (3, 2)
    assert UsageLedgerEntry.objects.count() == 3
    assert sorted(UsageCounter.objects.values_list("feature", "used")) == [
        ("ai_chat", 3),
        ("free_quiz", 1),
        ("premium_article", 2),
    ]


def test_the_demo_customer_lands_on_acme_premium(client):
    """Signed in, the demo customer's pages are about the organization that pays (issue 10, item 11)."""
    seed_accounts()
    seed_demo()
    client.force_login(User.objects.get(email=CUSTOMER_EMAIL))
    html = client.get("/billing/settings/").content.decode()
    acme = Organization.objects.get(name="Acme AI")
    assert f'aria-current="page" data-org="{acme.pk}">Acme AI · Premium</strong>' in html
    assert "Plan: Premium" in html
    html = client.get(f"/billing/settings/?org={acme.pk}").content.decode()
    assert "Plan: Premium" in html
    assert "2 of 3 premium articles used this cycle" in html
    assert "Payment method and billing portal" in html  # an admin of Acme


@pytest.mark.django_db(transaction=True)
def test_with_stripe_running_the_demo_premium_is_a_real_subscription_that_a_resync_keeps(stripe_sandbox):
    call_command("billing_setup")
    seed_accounts()
    seed_demo()
    acme = Organization.objects.get(name="Acme AI")
    state = SubscriptionState.objects.get(organization=acme)
    assert (state.plan, state.status, state.price_lookup_key) == ("premium", "active", "premium_monthly")
    subscription = stripe.Subscription.retrieve(state.stripe_subscription_id)
    assert (subscription.status, subscription["items"]["data"][0]["price"]["unit_amount"]) == ("active", 3200)

    # What any webhook about the customer does: re-read the mirror. Premium stays (it was local state before).
    assert subscription_state_sync(organization=acme).plan == "premium"
    seed_demo()  # a second run keeps the subscription and adds no usage
    assert SubscriptionState.objects.get(organization=acme).stripe_subscription_id == subscription.id
    assert len(stripe.Subscription.list(customer=subscription.customer).data) == 1
    article = access_check(organization_id=acme.pk, user_id=None, feature="premium_article", cached=False)
    assert (article.limit, article.used) == (3, 2)


@pytest.mark.django_db
def test_demo_purchases_made_with_made_up_stripe_ids_are_marked_demo_instead():
    from importlib import import_module

    from django.apps import apps

    from billing.models import Purchase

    migration = import_module("billing.migrations.0014_purchase_is_demo")
    base = {"item_type": "prompt_template", "item_name": "x", "list_amount": 100, "amount": 100, "status": "paid"}
    seeded = Purchase.objects.create(
        item_id="a", stripe_checkout_session_id="cs_demo_1", stripe_payment_intent_id="pi_demo_1", **base
    )
    analytics = Purchase.objects.create(item_id="b", stripe_payment_intent_id="pi_demo_purchase_3", **base)
    real = Purchase.objects.create(
        item_id="c", stripe_checkout_session_id="cs_test_9", stripe_payment_intent_id="pi_3Q", **base
    )
    migration.mark_earlier_demo_purchases(apps, None)
    rows = Purchase.objects.order_by("item_id").values_list(
        "pk", "is_demo", "stripe_checkout_session_id", "stripe_payment_intent_id"
    )
    assert list(rows) == [
        (seeded.pk, True, "", ""),
        (analytics.pk, True, "", ""),
        (real.pk, False, "cs_test_9", "pi_3Q"),
    ]
