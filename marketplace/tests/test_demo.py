import pytest
from django.test import Client

from accounts.demo import DEMO_PASSWORD
from accounts.demo import seed_demo as seed_accounts
from accounts.models import Membership, User
from marketplace.demo import SELLER_EMAIL, seed_demo
from marketplace.models import PromptTemplate

pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple]:
    return list(
        PromptTemplate.objects.order_by("slug").values_list(
            "slug", "seller__slug", "status", "published_at", "price_amount"
        )
    )


def test_the_demo_seller_has_a_dozen_published_templates_and_a_rerun_changes_nothing():
    seed_accounts()
    lines = seed_demo()
    first = snapshot()
    assert seed_demo() == lines
    assert snapshot() == first
    assert lines == [
        f"Seller (member of 'Prompt Forge', sees its templates' prompts): {SELLER_EMAIL} / {DEMO_PASSWORD}",
        "12 prompt templates on sale at /marketplace/",
    ]
    templates = PromptTemplate.objects.all()
    assert {t.status for t in templates} == {"published"}
    assert {t.seller.slug for t in templates} == {"prompt-forge"}
    assert sorted({t.category for t in templates}) == ["coding", "data", "marketing", "writing"]
    assert (min(t.price_amount for t in templates), max(t.price_amount for t in templates)) == (500, 2900)
    seller = User.objects.get(email=SELLER_EMAIL)
    assert Membership.objects.get(user=seller, organization__slug="prompt-forge").role == "seller"


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
