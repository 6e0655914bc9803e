import pytest
from django.test import Client

from accounts.demo import DEMO_PASSWORD
from accounts.demo import seed_demo as seed_accounts
from accounts.models import Membership, User
from billing.models import Purchase
from marketplace.demo import SELLER_EMAIL, seed_demo
from marketplace.models import LedgerEntry, PromptTemplate, Review
from marketplace.services.ledger import seller_share

pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple]:
    return list(
        PromptTemplate.objects.order_by("slug").values_list(
            "slug", "seller__slug", "status", "published_at", "price_amount"
        )
    )


def test_the_demo_has_three_sellers_132_templates_with_reviews_and_a_rerun_changes_nothing():
    seed_accounts()
    lines = seed_demo()
    first = snapshot()
    figures = list(PromptTemplate.objects.order_by("slug").values_list("sales_count", "rating_count", "rating_sum"))
    assert seed_demo() == lines
    assert snapshot() == first
    assert list(PromptTemplate.objects.order_by("slug").values_list("sales_count", "rating_count", "rating_sum")) == (
        figures
    )
    assert lines[0] == (
        f"Seller (member of 'Prompt Forge', sees its templates' prompts): {SELLER_EMAIL} / {DEMO_PASSWORD}"
    )
    assert lines[4].startswith(
        "132 prompt templates on sale at /marketplace/ "
        "(12 by Prompt Forge, 100 in the Plateau Library, 20 by Data Dojo)"
    )
    templates = PromptTemplate.objects.all()
    assert {t.status for t in templates} == {"published"}
    assert {t.seller.slug for t in templates} == {"prompt-forge", "plateau-library", "data-dojo"}
    assert sorted({t.category for t in templates}) == ["coding", "data", "marketing", "productivity", "writing"]
    assert (min(t.price_amount for t in templates), max(t.price_amount for t in templates)) == (0, 2983)
    seller = User.objects.get(email=SELLER_EMAIL)
    assert Membership.objects.get(user=seller, organization__slug="prompt-forge").role == "seller"
    # Reviews are real rows and the stored ratings match them; sales went through billing's settlement.
    assert Review.objects.count() > 150
    for template in templates:
        rows = Review.objects.filter(template=template)
        assert (template.rating_count, template.rating_sum) == (rows.count(), sum(r.rating for r in rows))
        assert template.sales_count == Purchase.objects.filter(item_id=template.slug, status="paid").count()
    assert LedgerEntry.objects.filter(seller__slug="prompt-forge", kind="credit").count() > 10
    # Billing's demo purchases: priced and paid like a settled Checkout, marked, with no made-up Stripe ids.
    purchases = Purchase.objects.filter(item_type="prompt_template")
    assert purchases.count() > 200 and {p.status for p in purchases} == {"paid"}
    assert set(purchases.values_list("is_demo", "stripe_checkout_session_id", "stripe_payment_intent_id")) == {
        (True, "", "")
    }
    assert all(p.paid_at is not None and p.amount == p.list_amount - p.discount_amount for p in purchases)
    for purchase in purchases.filter(amount__gt=0)[:20]:
        credit = LedgerEntry.objects.get(purchase=purchase, kind="credit")
        assert (credit.gross_amount, credit.amount) == (purchase.amount, seller_share(purchase.amount))


def test_a_demo_purchase_cannot_be_refunded_through_stripe():
    from rest_framework.test import APIClient

    from marketplace.tests.factories import MembershipFactory

    seed_demo()
    purchase = Purchase.objects.filter(item_type="prompt_template", amount__gt=0).first()
    staff = APIClient()
    staff.force_authenticate(MembershipFactory(user__is_staff=True).user)
    refused = staff.post(f"/api/v1/purchases/{purchase.pk}/refund/", {"amount": 1}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "not_refundable")
    purchase.refresh_from_db()
    assert (purchase.refunded_amount, purchase.status) == (0, "paid")


def test_the_demo_seller_sees_the_prompt_of_its_template():
    seed_demo()
    seller = User.objects.get(email=SELLER_EMAIL)
    assert seller.check_password(DEMO_PASSWORD)
    client = Client()
    client.force_login(seller)
    html = client.get("/marketplace/sql-explainer/").content.decode()
    assert 'id="try-it"' in html
    assert "Explain this {{dialect}} query step by step" in html
    assert "Explain this {{dialect}} query" not in Client().get("/marketplace/sql-explainer/").content.decode()
