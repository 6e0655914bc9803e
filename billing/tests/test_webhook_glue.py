"""From a stored dj-stripe event to our subscription state, grants and emails.

The mirror rows are written as dj-stripe would have written them; the end-to-end path
through the sandbox's signed webhooks is covered separately.
"""

from datetime import UTC, datetime, timedelta

import pytest
from djstripe.models import Customer, Event, Subscription

from billing.models import BillingEmail, EntitlementGrant, SubscriptionState
from billing.receivers import stripe_event_received
from billing.services.entitlements import plan_effective
from billing.services.reconcile import grace_periods_expire
from billing.services.webhooks import stripe_event_apply
from billing.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
_ids = iter(range(10**6))


def subscription_data(customer_id, *, status="active", start=None, end=None):
    start = start or datetime.now(tz=UTC) - timedelta(days=1)
    end = end or start + timedelta(days=30)
    return {
        "id": f"sub_{customer_id}",
        "object": "subscription",
        "customer": customer_id,
        "status": status,
        "created": int(start.timestamp()),
        "cancel_at_period_end": False,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{customer_id}",
                    "current_period_start": int(start.timestamp()),
                    "current_period_end": int(end.timestamp()),
                    "price": {"id": "price_premium", "lookup_key": "premium_monthly", "metadata": {}},
                }
            ],
        },
    }


def mirror(org, **subscription):
    customer = Customer.objects.create(id=f"cus_{org.pk}", subscriber=org, stripe_data={"id": f"cus_{org.pk}"})
    data = subscription_data(customer.id, **subscription)
    Subscription.objects.update_or_create(id=data["id"], defaults={"customer": customer, "stripe_data": data})
    return data


def stored_event(event_type, obj):
    return Event.objects.create(id=f"evt_{next(_ids)}", type=event_type, data={"object": obj}, stripe_data={})


def plan_of(org):
    """The plan whose rights are in force (the state keeps the subscription's own plan)."""
    return plan_effective(state=SubscriptionState.objects.get(organization=org), now=datetime.now(tz=UTC))


def test_receiver_schedules_the_sync_after_commit(django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    data = mirror(org)
    event = stored_event("customer.subscription.created", data)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        stripe_event_received(sender=Event, event=event)
    assert not SubscriptionState.objects.exists()  # nothing happens inside dj-stripe's transaction
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    assert plan_of(org) == "premium"
    assert EntitlementGrant.objects.get(organization=org, feature="premium_article").limit == 3
    email = BillingEmail.objects.get(template="subscription_started")
    assert (email.recipient, email.status) == (org.email, "sent")


def test_the_same_event_applied_twice_sends_one_email_and_same_grants(django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    event = stored_event("customer.subscription.created", mirror(org))
    with django_capture_on_commit_callbacks(execute=True):
        stripe_event_apply(event_id=event.id)
    grants = list(EntitlementGrant.objects.values_list("feature", "limit", "updated_at"))
    with django_capture_on_commit_callbacks(execute=True):
        stripe_event_apply(event_id=event.id)
    assert list(EntitlementGrant.objects.values_list("feature", "limit", "updated_at")) == grants
    assert BillingEmail.objects.count() == 1


def test_an_event_that_changes_nothing_writes_no_state_and_no_grants(django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    data = mirror(org)
    stripe_event_apply(event_id=stored_event("customer.subscription.created", data).id)
    state = SubscriptionState.objects.get(organization=org)
    grants = list(EntitlementGrant.objects.values_list("feature", "limit", "updated_at"))

    invoice = {"id": "in_1", "object": "invoice", "customer": data["customer"], "amount_paid": 0}
    stripe_event_apply(event_id=stored_event("invoice.finalized", invoice).id)
    stripe_event_apply(event_id=stored_event("customer.subscription.updated", data).id)

    assert SubscriptionState.objects.get(organization=org).updated_at == state.updated_at
    assert list(EntitlementGrant.objects.values_list("feature", "limit", "updated_at")) == grants
    # A real change is written and the grants follow it.
    Subscription.objects.filter(id=data["id"]).update(stripe_data={**data, "status": "canceled"})
    stripe_event_apply(event_id=stored_event("customer.subscription.deleted", {**data, "status": "canceled"}).id)
    assert SubscriptionState.objects.get(organization=org).status == "canceled"
    assert plan_of(org) == "free"


def test_updated_before_created_converges_on_the_mirror():
    org = OrganizationFactory()
    data = mirror(org)
    stripe_event_apply(event_id=stored_event("customer.subscription.updated", data).id)
    stripe_event_apply(event_id=stored_event("customer.subscription.created", {**data, "status": "incomplete"}).id)
    # The event bodies disagree; the mirror holds the latest, and that is what counts.
    assert plan_of(org) == "premium"


def test_deleted_subscription_revokes_and_emails(django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    mirror(org)
    stripe_event_apply(event_id=stored_event("customer.subscription.created", subscription_data(f"cus_{org.pk}")).id)
    cancelled = subscription_data(f"cus_{org.pk}", status="canceled")
    Subscription.objects.filter(id=cancelled["id"]).update(stripe_data=cancelled)
    with django_capture_on_commit_callbacks(execute=True):
        stripe_event_apply(event_id=stored_event("customer.subscription.deleted", cancelled).id)
    assert plan_of(org) == "free"
    assert not EntitlementGrant.objects.filter(organization=org, feature="premium_article").exists()
    assert BillingEmail.objects.filter(template="subscription_cancelled", recipient=org.email).count() == 1


def test_failed_payment_starts_grace_and_warns_once_per_attempt(settings, django_capture_on_commit_callbacks):
    settings.BILLING_GRACE_DAYS = 3
    org = OrganizationFactory()
    mirror(org, status="past_due")
    invoice = {"id": "in_1", "object": "invoice", "customer": f"cus_{org.pk}", "attempt_count": 1}
    with django_capture_on_commit_callbacks(execute=True):
        stripe_event_apply(event_id=stored_event("invoice.payment_failed", invoice).id)
        stripe_event_apply(event_id=stored_event("invoice.payment_failed", invoice).id)
    state = SubscriptionState.objects.get(organization=org)
    assert state.status == "past_due"
    assert plan_of(org) == "premium"  # grace: still Premium rights
    assert BillingEmail.objects.filter(template="payment_failed").count() == 1
    assert grace_periods_expire(now=state.grace_until) == 1
    assert not EntitlementGrant.objects.filter(organization=org, feature="premium_article").exists()


def test_events_for_unknown_customers_are_ignored():
    event = stored_event("customer.subscription.created", subscription_data("cus_nobody"))
    assert stripe_event_apply(event_id=event.id) is None
    assert not SubscriptionState.objects.exists()


def test_a_failed_payment_is_a_payment_failed_event_in_the_system_log_once_per_attempt(
    django_capture_on_commit_callbacks,
):
    from common.models import SystemLog
    from common.system_log import system_log_handler

    handler = system_log_handler()
    handler.write_queued()
    SystemLog.objects.all().delete()
    org = OrganizationFactory()
    mirror(org, status="past_due")
    invoice = {
        "id": "in_9",
        "object": "invoice",
        "customer": f"cus_{org.pk}",
        "attempt_count": 1,
        "amount_due": 3200,
        "currency": "usd",
    }
    with django_capture_on_commit_callbacks(execute=True):
        stripe_event_apply(event_id=stored_event("invoice.payment_failed", invoice).id)
        stripe_event_apply(event_id=stored_event("invoice.payment_failed", invoice).id)  # a duplicate delivery
    handler.write_queued()

    row = SystemLog.objects.get(event="payment_failed")
    assert (row.level, row.logger, row.organization_id) == (30, "billing.services.webhooks", org.pk)
    assert row.message == f"payment failed for invoice in_9 of organization {org.pk}"
    assert row.context["invoice"] == "in_9" and row.context["amount_due"] == 3200
    assert row.context["subscription"] == f"sub_cus_{org.pk}"

    with django_capture_on_commit_callbacks(execute=True):  # Stripe's next attempt fails too: a new event
        stripe_event_apply(event_id=stored_event("invoice.payment_failed", {**invoice, "attempt_count": 2}).id)
    handler.write_queued()
    assert SystemLog.objects.filter(event="payment_failed").count() == 2
