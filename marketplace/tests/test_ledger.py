"""Template figures and the sellers' ledger move with billing's money rows, in billing's transactions.

Purchases settle and refunds are recorded through billing's own services (the paths a paid
Checkout and Stripe's refund events take), never by writing our rows directly.
"""

import random
from datetime import date

import pytest
from django.db.models import Sum
from django.test import Client
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIClient

from billing import gateway
from billing.models import Purchase, PurchaseRefund
from billing.services.purchases import (
    purchase_complete_from_checkout,
    purchase_refund_record_from_stripe,
)
from billing.services.webhooks import stripe_event_apply
from billing.tests.checkout_helpers import pay_hosted_checkout
from billing.tests.factories import PurchaseFactory
from marketplace.models import LedgerEntry, Payout, PromptTemplate
from marketplace.services.ledger import payout_record, seller_balance_amount, seller_share
from marketplace.tests.factories import MembershipFactory, OrganizationFactory, PromptTemplateFactory

pytestmark = pytest.mark.django_db


def pending(template, amount: int | None = None) -> Purchase:
    return PurchaseFactory(
        item_type="prompt_template",
        item_id=template.slug,
        item_name=template.title,
        amount=template.price_amount if amount is None else amount,
        status="pending",
        paid_at=None,
        stripe_payment_intent_id="",
    )


def settle(purchase: Purchase) -> Purchase:
    """What billing does when Stripe says the Checkout session was paid (the session is the purchase's)."""
    if not purchase.stripe_checkout_session_id:
        purchase.stripe_checkout_session_id = f"cs_ledger_{purchase.pk}"
        Purchase.objects.filter(pk=purchase.pk).update(stripe_checkout_session_id=purchase.stripe_checkout_session_id)
    session = {
        "id": purchase.stripe_checkout_session_id,
        "metadata": {"purchase_id": str(purchase.pk)},
        "payment_status": "paid",
        "amount_total": purchase.amount,
        "payment_intent": f"pi_ledger_{purchase.pk}",
    }
    return purchase_complete_from_checkout(session=session)


def refund_from_stripe(purchase: Purchase, amount: int, n: int, status: str = "succeeded"):
    """What billing does with Stripe's refund.created / refund.updated events."""
    return purchase_refund_record_from_stripe(
        refund={
            "id": f"re_ledger_{purchase.pk}_{n}",
            "payment_intent": f"pi_ledger_{purchase.pk}",
            "amount": amount,
            "status": status,
        }
    )


def ledger_sums(seller) -> dict:
    return dict(
        LedgerEntry.objects.filter(seller=seller).values("kind").annotate(t=Sum("amount")).values_list("kind", "t")
    )


def test_a_paid_purchase_credits_price_minus_the_fee_and_refunds_debit_the_same_share():
    template = PromptTemplateFactory(published=True, price_amount=1900)
    purchase = settle(pending(template))
    credit = LedgerEntry.objects.get()
    assert (credit.kind, credit.seller, credit.gross_amount, credit.fee_amount, credit.amount) == (
        "credit",
        template.seller,
        1900,
        380,
        1520,
    )
    template.refresh_from_db()
    assert (template.sales_count, template.revenue_amount) == (1, 1900)

    refund_from_stripe(purchase, 500, 1)
    refund_from_stripe(purchase, 1400, 2)
    debits = list(LedgerEntry.objects.filter(kind="debit").order_by("id").values_list("gross_amount", "amount"))
    assert debits == [(500, 400), (1400, 1120)]  # 400 + 1120 = 1520: a full refund takes back the whole credit
    assert seller_balance_amount(seller_id=template.seller_id, currency="usd") == 0
    template.refresh_from_db()
    assert (template.sales_count, template.revenue_amount) == (1, 0)

    settle(purchase)  # a replayed webhook settles nothing twice
    refund_from_stripe(purchase, 1400, 2)
    assert LedgerEntry.objects.count() == 3


def test_the_fee_is_a_setting(settings):
    settings.MARKETPLACE_PLATFORM_FEE_PERCENT = 30
    template = PromptTemplateFactory(published=True, price_amount=999)
    settle(pending(template))
    assert LedgerEntry.objects.values_list("fee_amount", "amount").get() == (300, 699)  # 299.7 rounds to 300


def test_a_free_template_counts_a_sale_but_credits_nothing():
    template = PromptTemplateFactory(published=True, price_amount=0)
    settle(pending(template, amount=0))
    template.refresh_from_db()
    assert (template.sales_count, template.revenue_amount, LedgerEntry.objects.count()) == (1, 0, 0)


def test_a_refund_stripe_later_reports_failed_takes_its_debit_back():
    template = PromptTemplateFactory(published=True, price_amount=1000)
    purchase = settle(pending(template))
    refund_from_stripe(purchase, 1000, 1)
    assert seller_balance_amount(seller_id=template.seller_id, currency="usd") == 0
    refund_from_stripe(purchase, 1000, 1, status="failed")
    assert not PurchaseRefund.objects.exists()
    assert list(LedgerEntry.objects.values_list("kind", flat=True)) == ["credit"]
    assert seller_balance_amount(seller_id=template.seller_id, currency="usd") == 800


@pytest.mark.django_db(transaction=True)
def test_paid_in_checkout_then_refunded_by_staff_through_stripe_the_ledger_follows(billing_site):
    template = PromptTemplateFactory(published=True, price_amount=2500, slug="end-to-end")
    buyer = MembershipFactory()
    client = Client()
    client.force_login(buyer.user)
    form = {"item_type": "prompt_template", "item_id": "end-to-end", "next": "/marketplace/end-to-end/"}
    checkout = client.post("/billing/purchase/", form)["Location"]
    assert pay_hosted_checkout(checkout, card="4242424242424242", email=buyer.user.email) == 303
    billing_site.flush()  # checkout.session.completed reaches the webhook endpoint
    assert list(LedgerEntry.objects.values_list("kind", "gross_amount", "fee_amount", "amount")) == [
        ("credit", 2500, 500, 2000)
    ]

    staff = APIClient()
    staff.force_authenticate(user=MembershipFactory(user__is_staff=True).user)
    purchase = Purchase.objects.get()
    body = {"amount": 1000, "reason": "Asked"}
    refunded = staff.post(f"/api/v1/purchases/{purchase.pk}/refund/", body, format="json")
    assert refunded.status_code == 200
    billing_site.flush()  # Stripe's refund.created about the same refund counts once
    debit = LedgerEntry.objects.get(kind="debit")
    assert (debit.gross_amount, debit.fee_amount, debit.amount) == (1000, 200, 800)
    assert seller_balance_amount(seller_id=template.seller_id, currency="usd") == 1200
    template.refresh_from_db()
    assert (template.sales_count, template.revenue_amount) == (1, 1500)


def _template_bought_with_a_card_whose_refunds_fail(billing_site, slug: str, price: int):
    """Checkout paid with Stripe's test card 4000 0000 0000 5126: refunds are answered, then fail."""
    template = PromptTemplateFactory(published=True, price_amount=price, slug=slug)
    buyer = MembershipFactory()
    client = Client()
    client.force_login(buyer.user)
    form = {"item_type": "prompt_template", "item_id": slug, "next": f"/marketplace/{slug}/"}
    checkout = client.post("/billing/purchase/", form)["Location"]
    assert pay_hosted_checkout(checkout, card="4000000000005126", email=buyer.user.email) == 303
    billing_site.flush()
    return template, Purchase.objects.get(item_id=slug)


def _figures(template) -> tuple[int, int, int, list]:
    template.refresh_from_db()
    ledger = sorted(LedgerEntry.objects.filter(template=template).values_list("kind", "gross_amount", "amount"))
    return (template.sales_count, template.revenue_amount,
            seller_balance_amount(seller_id=template.seller_id, currency="usd"), ledger)


def _from_billings_rows(template) -> tuple[int, int, int]:
    """The same figures recomputed from billing's rows alone: purchases and the refund rows still counting."""
    rows = Purchase.objects.filter(item_id=template.slug).exclude(status="pending")
    refunded = {p.pk: sum(PurchaseRefund.objects.filter(purchase=p).values_list("amount", flat=True)) for p in rows}
    assert all(refunded[p.pk] == p.refunded_amount for p in rows)
    return (
        rows.count(),
        sum(p.amount - refunded[p.pk] for p in rows),
        sum(seller_share(p.amount) - seller_share(refunded[p.pk]) for p in rows),
    )


@pytest.mark.django_db(transaction=True)
def test_a_staff_refund_that_stripe_then_fails_restores_revenue_and_balance_once(billing_site):
    billing_site.deliverer.duplicate = True  # every webhook arrives twice
    template, purchase = _template_bought_with_a_card_whose_refunds_fail(billing_site, "fails-later", 2500)
    staff = APIClient()
    staff.force_authenticate(user=MembershipFactory(user__is_staff=True).user)
    refunded = staff.post(f"/api/v1/purchases/{purchase.pk}/refund/", {"amount": 1000}, format="json")
    assert (refunded.status_code, refunded.json()["refunded_amount"]) == (200, 1000)  # Stripe said succeeded
    assert _figures(template) == (1, 1500, 1200, [("credit", 2500, 2000), ("debit", 1000, 800)])
    refund_id = PurchaseRefund.objects.get().stripe_refund_id

    billing_site.flush()  # refund.created, then refund.updated (failed): each delivered twice

    purchase.refresh_from_db()
    assert (purchase.refunded_amount, purchase.status, PurchaseRefund.objects.count()) == (0, "paid", 0)
    assert _figures(template) == (1, 2500, 2000, [("credit", 2500, 2000)])
    assert _figures(template)[:3] == _from_billings_rows(template)
    # refund.created ("succeeded") applied again late, as a redelivery or a replay would: Stripe says
    # failed by now, so nothing counts again.
    created = next(e for e in billing_site.store.all("event")
                   if e["type"] == "refund.created" and e["data"]["object"]["id"] == refund_id)
    assert created["data"]["object"]["status"] == "succeeded"
    stripe_event_apply(event_id=created["id"])
    assert _figures(template) == (1, 2500, 2000, [("credit", 2500, 2000)])


@pytest.mark.django_db(transaction=True)
def test_a_refund_made_in_stripe_that_fails_leaves_the_figures_as_they_were(billing_site):
    billing_site.deliverer.duplicate = True
    template, purchase = _template_bought_with_a_card_whose_refunds_fail(billing_site, "stripe-side", 1999)
    before = _figures(template)
    assert before == (1, 1999, 1599, [("credit", 1999, 1599)])
    # Someone refunds in Stripe's dashboard (the same API call, made outside billing's refund service).
    gateway.refund_create(payment_intent=purchase.stripe_payment_intent_id, amount=700, idempotency_key="dashboard")
    billing_site.flush()
    assert _figures(template) == before
    assert _figures(template)[:3] == _from_billings_rows(template)


def test_reversed_refunds_in_any_order_keep_the_debits_at_the_sellers_share_of_what_is_refunded():
    template = PromptTemplateFactory(published=True, price_amount=1000)
    purchase = settle(pending(template))
    for n, amount in enumerate([333, 333, 1, 333], start=1):
        refund_from_stripe(purchase, amount, n)
    assert _figures(template)[1:3] == (0, 0)
    for n, amount in [(2, 333), (3, 1)]:  # Stripe reports the second and third failed, each twice
        refund_from_stripe(purchase, amount, n, status="failed")
        refund_from_stripe(purchase, amount, n, status="failed")
    purchase.refresh_from_db()
    assert purchase.refunded_amount == 666
    # 334 kept; the seller keeps exactly their share of it, whatever the rounding of each debit was.
    assert _figures(template)[1:3] == (334, seller_share(1000) - seller_share(666)) == (334, 267)
    assert _figures(template)[:3] == _from_billings_rows(template)


def test_payouts_never_exceed_what_is_owed_and_the_admin_records_them(staff_client):
    template = PromptTemplateFactory(published=True, price_amount=5000)
    settle(pending(template))
    seller = template.seller
    with pytest.raises(ValidationError):
        payout_record(seller=seller, amount=4001, currency="usd", reference="x", paid_on=date(2026, 12, 1), actor=None)
    assert Payout.objects.count() == 0

    form = {"seller": seller.pk, "amount": "4001", "currency": "usd", "reference": "SEPA 1", "paid_on": "2026-12-01"}
    page = staff_client.post("/admin/marketplace/payout/add/", form)
    assert "The seller is owed 4000 usd minor units; pay at most that." in page.content.decode()
    assert Payout.objects.count() == 0
    staff_client.post("/admin/marketplace/payout/add/", {**form, "amount": "3000"})
    payout = Payout.objects.get()
    assert (payout.amount, payout.reference, payout.recorded_by.is_staff) == (3000, "SEPA 1", True)
    assert seller_balance_amount(seller_id=seller.pk, currency="usd") == 1000


def test_random_purchase_and_refund_sequences_keep_the_figures_and_the_balance_exact():
    rng = random.Random(20261203)
    sellers = [OrganizationFactory(), OrganizationFactory()]
    templates = [
        PromptTemplateFactory(published=True, seller=sellers[i % 2], price_amount=rng.choice([0, 99, 500, 1999, 4999]))
        for i in range(4)
    ]
    paid: list[Purchase] = []
    refunds = reversed_refunds = 0
    for _step in range(80):
        roll = rng.random()
        if roll < 0.45 or not paid:
            template = rng.choice(templates)
            purchase = pending(template)
            if rng.random() < 0.8:  # some Checkouts are never paid
                paid.append(settle(purchase))
        elif roll < 0.7:
            purchase = rng.choice(paid)
            purchase.refresh_from_db()
            left = purchase.amount - purchase.refunded_amount
            if left > 0:
                refunds += 1
                refund_from_stripe(purchase, rng.randint(1, left), refunds)
        elif roll < 0.85:
            recorded = rng.choice([None, *PurchaseRefund.objects.order_by("id")])
            if recorded is not None:  # Stripe reports it failed, and the webhook comes twice
                reversed_refunds += 1
                for _ in range(2):
                    purchase_refund_record_from_stripe(refund={
                        "id": recorded.stripe_refund_id, "payment_intent": f"pi_ledger_{recorded.purchase_id}",
                        "amount": recorded.amount, "status": rng.choice(["failed", "canceled"]),
                    })
        else:
            seller = rng.choice(sellers)
            owed = seller_balance_amount(seller_id=seller.pk, currency="usd")
            if owed > 0:
                payout_record(
                    seller=seller,
                    amount=rng.randint(1, owed),
                    currency="usd",
                    reference="transfer",
                    paid_on=date(2026, 12, 1),
                    actor=None,
                )

    for template in PromptTemplate.objects.all():
        rows = Purchase.objects.filter(item_id=template.slug).exclude(status="pending")
        assert template.sales_count == rows.count()
        assert template.revenue_amount == sum(p.amount - p.refunded_amount for p in rows)
    for seller in sellers:
        sums = ledger_sums(seller)
        paid_out = Payout.objects.filter(seller=seller).aggregate(t=Sum("amount"))["t"] or 0
        balance = seller_balance_amount(seller_id=seller.pk, currency="usd")
        assert balance == sums.get("credit", 0) - sums.get("debit", 0) - paid_out
        # The reference: the seller's share of what was kept, from billing's rows alone.
        slugs = list(PromptTemplate.objects.filter(seller=seller).values_list("slug", flat=True))
        kept = sum(
            seller_share(p.amount) - seller_share(p.refunded_amount)
            for p in Purchase.objects.filter(item_id__in=slugs).exclude(status="pending")
        )
        assert balance == kept - paid_out
        assert balance >= 0
    # the sequence exercised every path
    assert refunds > 5 and reversed_refunds > 2 and Payout.objects.count() > 2 and len(paid) > 10


def test_the_seller_dashboard_shows_balance_sales_ledger_and_csv_and_is_the_sellers_alone():
    from accounts.models import Role

    template = PromptTemplateFactory(published=True, price_amount=1900, title="Launch email", slug="launch-email")
    purchase = settle(pending(template))
    refund_from_stripe(purchase, 500, 1)
    payout_record(
        seller=template.seller, amount=1000, currency="usd", reference="=SEPA 7", paid_on=date(2026, 12, 2), actor=None
    )
    seller = MembershipFactory(organization=template.seller, role=Role.SELLER)
    client = Client()
    client.force_login(seller.user)
    html = client.get("/marketplace/studio/dashboard/").content.decode()
    assert '<strong id="balance-usd">$1.20</strong>' in html  # 15.20 − 4.00 − 10.00
    assert '<strong id="sales-total">1</strong> sale' in html
    assert '<strong id="revenue-total">$14.00</strong>' in html
    assert "not tracked yet" in html  # no page view recorded: no figures rather than zeros
    assert '<td class="num">$14.00</td>' in html  # Launch email's revenue net of the refund
    assert 'data-sales="[' in html and "vendor/chart.umd.min.js" in html

    csv_text = client.get("/marketplace/studio/dashboard.csv").content.decode()
    lines = csv_text.strip().splitlines()
    assert lines[0] == "date,kind,template,purchase,gross,fee,amount,currency,reference"
    assert [line.split(",")[1] for line in lines[1:]] == ["payout", "credit", "debit"]  # oldest first
    assert lines[1] == "2026-12-02,payout,,,,,1000,usd,'=SEPA 7"  # a formula-looking reference stays text
    assert lines[2].endswith(f",credit,launch-email,{purchase.pk},1900,380,1520,usd,")

    stranger = MembershipFactory(role=Role.SELLER)
    other = Client()
    other.force_login(stranger.user)
    assert other.get(f"/marketplace/studio/dashboard/?org={template.seller.pk}").status_code == 404
    assert other.get(f"/marketplace/studio/dashboard.csv?org={template.seller.pk}").status_code == 404
    assert "$1.20" not in other.get("/marketplace/studio/dashboard/").content.decode()
    buyer_member = MembershipFactory(organization=template.seller, role=Role.BUYER)
    other.force_login(buyer_member.user)
    assert other.get(f"/marketplace/studio/dashboard/?org={template.seller.pk}").status_code == 403
    assert Client().get("/marketplace/studio/dashboard/").status_code == 302
