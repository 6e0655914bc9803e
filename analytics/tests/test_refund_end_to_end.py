"""A staff refund through billing's refund API shows in the revenue metrics, to the minor unit.

Revenue is cash basis: the purchase is paid now and refunded now, so both fall in the
default period (the last 30 days up to today), whichever side of midnight each lands.
"""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.tests.factories import MembershipFactory
from analytics.tests.test_api import metrics_viewer
from billing import purchasables
from billing.models import Purchase, PurchaseRefund
from billing.purchasables import PricedItem
from billing.services.entitlements import entitlements_refresh
from billing.tests.checkout_helpers import pay_hosted_checkout
from billing.webhooks import webhook_endpoint_register

QUIZ = PricedItem("quiz", "q60", "Advanced agents quiz", 6000, "usd")


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.mark.django_db(transaction=True)
def test_a_staff_refund_lowers_refunds_and_net_by_exactly_the_refunded_amount(stripe_sandbox, live_server, monkeypatch):
    monkeypatch.setitem(purchasables._resolvers, "quiz", lambda item_id: QUIZ if item_id == "q60" else None)
    call_command("billing_setup")
    webhook_endpoint_register(base_url=live_server.url)
    member = MembershipFactory()
    entitlements_refresh(organization=member.organization)
    started = client_for(member.user).post("/api/v1/purchases/", {"item_type": "quiz", "item_id": "q60"}, format="json")
    assert pay_hosted_checkout(started.json()["checkout_url"], card="4242424242424242", email=member.user.email) == 303
    stripe_sandbox.flush()
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.amount) == ("paid", 6000)

    staff = client_for(metrics_viewer())  # staff who may refund and read the metrics

    def revenue() -> list[dict]:
        response = staff.get("/api/v1/analytics/revenue/", {"customer": member.organization_id})
        return response.json()["currencies"]

    assert revenue() == [{"currency": "usd", "gross": 6000, "refunds": 0, "net": 6000, "purchases": 1}]

    refund = f"/api/v1/purchases/{purchase.pk}/refund/"
    assert staff.post(refund, {"amount": 2500}, format="json").status_code == 200
    assert revenue() == [{"currency": "usd", "gross": 6000, "refunds": 2500, "net": 3500, "purchases": 1}]
    assert list(PurchaseRefund.objects.values_list("purchase_id", "amount", "source")) == [(purchase.pk, 2500, "staff")]

    # Refused (more than is left): the metrics do not move.
    assert staff.post(refund, {"amount": 3501}, format="json").status_code == 400
    assert revenue() == [{"currency": "usd", "gross": 6000, "refunds": 2500, "net": 3500, "purchases": 1}]

    assert staff.post(refund, {"amount": 3500}, format="json").json()["status"] == "refunded"
    assert revenue() == [{"currency": "usd", "gross": 6000, "refunds": 6000, "net": 0, "purchases": 1}]
    assert list(PurchaseRefund.objects.values_list("amount", flat=True)) == [2500, 3500]
    top = staff.get("/api/v1/analytics/top-customers/").json()["customers"]
    assert [(c["customer"], c["paid"], c["refunds"], c["lifetime_value"]) for c in top] == [
        (member.organization_id, 6000, 6000, 0)
    ]
