import pytest
from django.test import Client

from accounts.demo import DEMO_PASSWORD
from accounts.demo import seed_demo as seed_accounts
from accounts.models import Membership, User
from billing.models import Purchase
from marketplace.demo import SELLER_EMAIL, seed_demo
from marketplace.models import LedgerEntry, PromptTemplate, Review

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
