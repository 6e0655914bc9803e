"""The billing back office: the Customer list, and each admin action through the changelist as staff.

(Refund is tested in test_refunds.py; API key and session revocation in accounts' admin tests.)
"""

from datetime import UTC, datetime, timedelta

import pytest
from djstripe.models import Customer as MirroredCustomer
from djstripe.models import Subscription

from billing.models import BillingEmail, Customer, EntitlementGrant, SubscriptionState
from billing.services.emails import billing_email_queue
from billing.services.entitlements import entitlements_refresh
from billing.tests.factories import OrganizationFactory, SubscriptionStateFactory
from billing.tests.test_webhook_glue import subscription_data
from common.models import OutboxMessage

pytestmark = pytest.mark.django_db


def run_action(staff_client, changelist: str, action: str, ids: list[int]) -> list[str]:
    """Open the list, tick the rows, run the action: the messages the next page shows."""
    assert staff_client.get(changelist).status_code == 200
    response = staff_client.post(changelist, {"action": action, "_selected_action": ids}, follow=True)
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_customers_are_listed_searchable_and_read_only(staff_client):
    acme = Customer.objects.create(
        organization=OrganizationFactory(name="Acme"),
        stripe_customer_id="cus_acme",
        email="billing@acme.example",
        name="Acme Inc.",
    )
    Customer.objects.create(
        organization=OrganizationFactory(name="Globex"),
        stripe_customer_id="cus_globex",
        email="ap@globex.example",
        name="Globex",
    )
    page = staff_client.get("/admin/billing/customer/").content.decode()
    assert "Acme Inc." in page and "cus_acme" in page and "Globex" in page
    found = staff_client.get("/admin/billing/customer/", {"q": "acme.example"}).content.decode()
    assert "cus_acme" in found and "cus_globex" not in found
    detail = staff_client.get(f"/admin/billing/customer/{acme.pk}/change/").content.decode()
    assert "billing@acme.example" in detail and 'name="email"' not in detail  # shown, not editable
    assert staff_client.get("/admin/billing/customer/add/").status_code == 403


def test_resync_brings_the_state_back_to_the_mirror(staff_client):
    org = OrganizationFactory()
    customer = MirroredCustomer.objects.create(id=f"cus_{org.pk}", subscriber=org, stripe_data={"id": f"cus_{org.pk}"})
    mirrored = subscription_data(customer.id, status="canceled")
    Subscription.objects.create(id=mirrored["id"], customer=customer, stripe_data=mirrored)
    state = SubscriptionStateFactory(organization=org, stripe_subscription_id=mirrored["id"])  # drifted: "active"
    entitlements_refresh(organization=org)
    assert EntitlementGrant.objects.filter(organization=org, feature="premium_article").exists()

    shown = run_action(staff_client, "/admin/billing/subscriptionstate/", "resync", [state.pk])

    assert shown == ["Re-synced 1 organization(s)."]
    state.refresh_from_db()
    assert (state.status, state.plan) == ("canceled", "premium")
    assert not EntitlementGrant.objects.filter(organization=org, feature="premium_article").exists()


def test_refresh_recomputes_grants_changed_behind_billings_back(staff_client):
    now = datetime.now(tz=UTC)
    state = SubscriptionStateFactory(
        current_period_start=now - timedelta(days=2), current_period_end=now + timedelta(days=28)
    )
    entitlements_refresh(organization=state.organization)
    grant = EntitlementGrant.objects.get(organization=state.organization, feature="premium_article")
    EntitlementGrant.objects.filter(pk=grant.pk).update(limit=999)  # edited in the database by hand

    shown = run_action(staff_client, "/admin/billing/entitlementgrant/", "refresh", [grant.pk])

    assert shown == ["Refreshed 1 organization(s)."]
    assert EntitlementGrant.objects.get(organization=state.organization, feature="premium_article").limit == 3


def test_resend_sends_failed_emails_and_leaves_sent_ones(staff_client, mailoutbox):
    org = OrganizationFactory(name="Acme", email="billing@acme.example")
    context = {"organization_name": "Acme", "plan_name": "Premium", "grace_until": "6 Dec 2026"}
    failed = billing_email_queue(
        key="k-failed", organization=org, recipient=org.email, template="payment_failed", context=context
    )
    BillingEmail.objects.filter(pk=failed.pk).update(status="failed", attempts=1, last_error="SMTP is down")
    sent = billing_email_queue(
        key="k-sent", organization=org, recipient=org.email, template="payment_failed", context=context
    )
    BillingEmail.objects.filter(pk=sent.pk).update(status="sent")

    shown = run_action(staff_client, "/admin/billing/billingemail/", "resend", [failed.pk, sent.pk])

    assert shown == ["Queued 1 email(s)."]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == ("sent", 2, "")
    [message] = mailoutbox
    assert (message.to, message.subject) == (["billing@acme.example"], "Your Plateau payment failed")


def test_publish_again_runs_an_outbox_message_left_behind(staff_client, mailoutbox):
    org = OrganizationFactory(email="owner@example.com")
    email = billing_email_queue(  # its job never left: the commit hook did not run (a web process died)
        key="welcome:x",
        organization=org,
        recipient=org.email,
        template="welcome",
        context={"name": "Ada", "organization_name": org.name},
    )
    message = OutboxMessage.objects.get(key=f"billing_email:{email.pk}")
    assert message.done_at is None

    shown = run_action(staff_client, "/admin/common/outboxmessage/", "publish_again", [message.pk])

    assert shown == ["Published 1 message(s)."]
    message.refresh_from_db()
    email.refresh_from_db()
    assert message.done_at is not None and email.status == "sent"
    assert [m.subject for m in mailoutbox] == ["Welcome to Plateau"]
    # Done messages are not run again.
    assert run_action(staff_client, "/admin/common/outboxmessage/", "publish_again", [message.pk]) == [
        "Published 0 message(s)."
    ]
    assert len(mailoutbox) == 1


def test_cancel_now_through_the_changelist_cancels_in_stripe(staff_client, stripe_sandbox):
    import stripe
    from django.core.management import call_command

    from billing.services.subscription_changes import subscription_start_with_card_on_file

    call_command("billing_setup")
    org = OrganizationFactory()
    state = subscription_start_with_card_on_file(
        organization=org, lookup_key="premium_monthly", payment_method="pm_card_visa"
    )
    free = SubscriptionStateFactory(stripe_subscription_id="")  # nothing to cancel: skipped

    shown = run_action(staff_client, "/admin/billing/subscriptionstate/", "cancel_now", [state.pk, free.pk])

    assert shown == ["Cancelled 1 subscription(s) at once."]
    assert stripe.Subscription.retrieve(state.stripe_subscription_id).status == "canceled"
    assert SubscriptionState.objects.get(organization=org).status == "canceled"
