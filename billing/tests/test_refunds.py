"""Refunds are kept one by one (amount, when, who, Stripe's id), whether staff make them here or in Stripe."""

from datetime import UTC, datetime

import pytest
import stripe
from auditlog.models import LogEntry
from django.core.management import call_command

from billing import purchasables
from billing.models import Purchase, PurchaseRefund
from billing.purchasables import PricedItem
from billing.services.entitlements import entitlements_refresh
from billing.services.purchases import purchase_refund_record_from_stripe
from billing.tests.checkout_helpers import pay_hosted_checkout
from billing.tests.factories import MembershipFactory
from billing.tests.test_purchases import PURCHASES, client_for
from billing.webhooks import webhook_endpoint_register

QUIZ = PricedItem("quiz", "q60", "Advanced agents quiz", 6000, "usd")


@pytest.fixture(autouse=True)
def quiz_for_sale(monkeypatch):
    monkeypatch.setitem(purchasables._resolvers, "quiz", lambda item_id: QUIZ if item_id == "q60" else None)


@pytest.fixture
def paid_purchase(stripe_sandbox, live_server):
    call_command("billing_setup")
    webhook_endpoint_register(base_url=live_server.url)
    member = MembershipFactory()
    entitlements_refresh(organization=member.organization)
    started = client_for(member).post(PURCHASES, {"item_type": "quiz", "item_id": "q60"}, format="json").json()
    assert pay_hosted_checkout(started["checkout_url"], card="4242424242424242", email=member.user.email) == 303
    stripe_sandbox.flush()
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.amount, purchase.refunded_amount) == ("paid", 6000, 0)
    return purchase


@pytest.mark.django_db(transaction=True)
def test_a_staff_refund_is_recorded_with_its_author_once_even_after_stripes_webhook(stripe_sandbox, paid_purchase):
    staff = MembershipFactory(user__is_staff=True)
    body = {"amount": 2500, "reason": "Customer asked within the week"}
    response = client_for(staff).post(f"{PURCHASES}{paid_purchase.pk}/refund/", body, format="json").json()
    stripe_sandbox.flush()  # Stripe's refund.created and charge.refunded about that same refund

    refund = PurchaseRefund.objects.get()
    assert (refund.amount, refund.source, refund.refunded_by, refund.reason) == (
        2500,
        "staff",
        staff.user,
        "Customer asked within the week",
    )
    assert refund.stripe_refund_id.startswith("re_")
    paid_purchase.refresh_from_db()
    assert (paid_purchase.refunded_amount, paid_purchase.status) == (2500, "partially_refunded")
    assert [(r["amount"], r["source"]) for r in response["refunds"]] == [(2500, "staff")]
    # The audit log has the change with its actor: the API's user, whom DRF authenticates inside the view.
    entry = LogEntry.objects.get_for_object(paid_purchase).filter(actor=staff.user).get()
    assert entry.changes_dict["status"] == ["paid", "partially_refunded"]


@pytest.mark.django_db(transaction=True)
def test_a_refund_made_in_stripe_reaches_the_purchase_once(stripe_sandbox, paid_purchase):
    # Someone refunds from Stripe's dashboard (here through the same API the dashboard uses).
    refund = stripe.Refund.create(payment_intent=paid_purchase.stripe_payment_intent_id, amount=1000)
    stripe_sandbox.flush()
    stripe_sandbox.flush()

    paid_purchase.refresh_from_db()
    assert (paid_purchase.refunded_amount, paid_purchase.status) == (1000, "partially_refunded")
    recorded = PurchaseRefund.objects.get()
    assert (recorded.stripe_refund_id, recorded.amount, recorded.source, recorded.refunded_by) == (
        refund.id,
        1000,
        "stripe",
        None,
    )
    assert recorded.created_at == datetime.fromtimestamp(refund.created, tz=UTC)

    # The same event again (Stripe retries, or a replay from the admin) changes nothing.
    assert purchase_refund_record_from_stripe(refund=refund.to_dict()) is None
    paid_purchase.refresh_from_db()
    assert paid_purchase.refunded_amount == 1000
    assert PurchaseRefund.objects.count() == 1

    # Staff can refund only what is left.
    staff = MembershipFactory(user__is_staff=True)
    too_much = client_for(staff).post(f"{PURCHASES}{paid_purchase.pk}/refund/", {"amount": 5001}, format="json")
    assert (too_much.status_code, too_much.json()["code"]) == (400, "refund_exceeds_paid")
    rest = client_for(staff).post(f"{PURCHASES}{paid_purchase.pk}/refund/", {"amount": 5000}, format="json").json()
    assert (rest["refunded_amount"], rest["status"]) == (6000, "refunded")
    assert [r["source"] for r in rest["refunds"]] == ["stripe", "staff"]


@pytest.mark.django_db(transaction=True)
def test_a_refund_that_fails_later_no_longer_counts(stripe_sandbox, paid_purchase):
    refund = stripe.Refund.create(payment_intent=paid_purchase.stripe_payment_intent_id, amount=6000)
    stripe_sandbox.flush()
    paid_purchase.refresh_from_db()
    assert (paid_purchase.refunded_amount, paid_purchase.status) == (6000, "refunded")

    # refund.updated: the bank sent the money back (Stripe marks the refund failed).
    purchase_refund_record_from_stripe(refund={**refund.to_dict(), "status": "failed"})

    paid_purchase.refresh_from_db()
    assert (paid_purchase.refunded_amount, paid_purchase.status) == (0, "paid")
    assert PurchaseRefund.objects.count() == 0


@pytest.mark.django_db
def test_refunds_of_payments_that_are_not_purchases_are_ignored():
    assert (
        purchase_refund_record_from_stripe(
            refund={"id": "re_1", "payment_intent": "pi_other", "amount": 100, "status": "succeeded", "created": 1}
        )
        is None
    )
    assert PurchaseRefund.objects.count() == 0


@pytest.mark.django_db
def test_purchases_refunded_before_the_ledger_get_one_row_dated_at_the_payment():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("billing.migrations.0005_purchase_refunds_unrecorded")
    paid_at = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)
    base = {"item_type": "quiz", "item_name": "x", "list_amount": 100, "amount": 100, "paid_at": paid_at}
    earlier = Purchase.objects.create(item_id="old", status="partially_refunded", refunded_amount=40, **base)
    Purchase.objects.create(item_id="none", status="paid", **base)

    migration.record_earlier_refunds(apps, None)
    migration.record_earlier_refunds(apps, None)  # a purchase that has its row gets no second one

    assert list(PurchaseRefund.objects.values_list("purchase", "amount", "source", "created_at")) == [
        (earlier.pk, 40, "unrecorded", paid_at)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_refund_naming_another_currency_or_unknown_fields_is_refused_and_moves_nothing(stripe_sandbox, paid_purchase):
    staff = MembershipFactory(user__is_staff=True)
    url = f"{PURCHASES}{paid_purchase.pk}/refund/"
    response = client_for(staff).post(url, {"amount": 100, "currency": "eur"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "currency", "message": "This field is not accepted here."}]
    paid_purchase.refresh_from_db()
    assert (paid_purchase.refunded_amount, paid_purchase.status) == (0, "paid")
    assert not PurchaseRefund.objects.exists()
    assert list(stripe.Refund.list(limit=10).auto_paging_iter()) == []


@pytest.mark.django_db(transaction=True)
def test_the_admin_refund_asks_for_amount_and_reason_before_money_moves(stripe_sandbox, paid_purchase, staff_client):
    changelist = "/admin/billing/purchase/"
    chosen = {"action": "refund", "_selected_action": [paid_purchase.pk]}
    confirm_page = staff_client.post(changelist, chosen)
    assert confirm_page.status_code == 200
    assert b"Confirm the refund" in confirm_page.content and b"$60.00 is left to refund" in confirm_page.content
    assert not PurchaseRefund.objects.exists()  # nothing moved yet

    no_reason = staff_client.post(changelist, {**chosen, "confirm": "yes", "amount": 1500, "reason": ""})
    assert no_reason.status_code == 200 and b"This field is required" in no_reason.content
    assert not PurchaseRefund.objects.exists()

    done = staff_client.post(changelist, {**chosen, "confirm": "yes", "amount": 1500, "reason": "Duplicate order"})
    assert done.status_code == 302
    refund = PurchaseRefund.objects.get()
    assert (refund.amount, refund.reason, refund.refunded_by.is_staff) == (1500, "Duplicate order", True)
    paid_purchase.refresh_from_db()
    assert (paid_purchase.refunded_amount, paid_purchase.status) == (1500, "partially_refunded")


@pytest.mark.django_db(transaction=True)
def test_the_customer_sees_the_purchase_its_refund_and_a_receipt_on_the_billing_page(stripe_sandbox, paid_purchase):
    from django.test import Client

    from billing.services.purchases import purchase_refund

    purchase_refund(purchase=paid_purchase, amount=6000, reason="Bought by mistake")
    member = paid_purchase.organization.memberships.get().user
    browser = Client()
    browser.force_login(member)
    page = browser.get(f"/billing/settings/?org={paid_purchase.organization_id}").content.decode()
    assert "Advanced agents quiz" in page and "Refunded" in page
    receipt = browser.get(f"/billing/purchases/{paid_purchase.pk}/receipt/")
    text = receipt.content.decode()
    assert receipt.status_code == 200
    assert "$60.00" in text and "Bought by mistake" in text and "This purchase was refunded in full." in text
    # Another organization's member finds nothing there.
    stranger = Client()
    stranger.force_login(MembershipFactory().user)
    assert stranger.get(f"/billing/purchases/{paid_purchase.pk}/receipt/").status_code == 404
