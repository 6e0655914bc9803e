"""What billing may sell: published premium articles and published quizzes, priced from our records."""

import pytest
from rest_framework.test import APIClient

from billing.models import Purchase, UsageCounter
from billing.purchasables import PricedItem, purchasable_resolve
from content.tests.conftest import signed_in
from content.tests.factories import LessonFactory, QuizFactory

pytestmark = pytest.mark.django_db

PURCHASES = "/api/v1/purchases/"


def test_published_premium_articles_and_quizzes_are_for_sale_by_slug_at_our_price():
    LessonFactory(slug="rag-in-practice", title="RAG in practice", price_amount=1250)
    QuizFactory(slug="advanced-agents", title="Advanced agents", price_amount=6000, currency="eur")
    assert purchasable_resolve(item_type="article", item_id="rag-in-practice") == PricedItem(
        "article", "rag-in-practice", "RAG in practice", 1250, "usd"
    )
    assert purchasable_resolve(item_type="quiz", item_id="advanced-agents") == PricedItem(
        "quiz", "advanced-agents", "Advanced agents", 6000, "eur"
    )


def test_free_unpublished_and_unknown_items_are_not_for_sale():
    LessonFactory(slug="free-article", free=True)
    LessonFactory(slug="draft-article", is_published=False)
    QuizFactory(slug="draft-quiz", is_published=False)
    for item_type, item_id in [
        ("article", "free-article"),
        ("article", "draft-article"),
        ("article", "nope"),
        ("quiz", "draft-quiz"),
        ("quiz", "nope"),
        ("quiz", "free-article"),  # a slug of the other type
    ]:
        assert purchasable_resolve(item_type=item_type, item_id=item_id) is None, (item_type, item_id)


def test_the_purchases_api_refuses_items_not_for_sale_and_records_nothing(premium):
    LessonFactory(slug="free-article", free=True)
    LessonFactory(slug="draft-article", is_published=False)
    QuizFactory(slug="draft-quiz", is_published=False)
    client = APIClient()
    client.force_authenticate(user=premium.user)
    for item_type, item_id in [("article", "free-article"), ("article", "draft-article"), ("quiz", "draft-quiz")]:
        response = client.post(PURCHASES, {"item_type": item_type, "item_id": item_id}, format="json")
        assert response.status_code == 404, (item_type, item_id)
    assert Purchase.objects.count() == 0
    assert UsageCounter.objects.count() == 0


def test_the_purchase_page_refuses_an_unpublished_quiz(free_member):
    QuizFactory(slug="draft-quiz", is_published=False)
    response = signed_in(free_member).post(
        "/billing/purchase/", {"item_type": "quiz", "item_id": "draft-quiz", "next": "/learn/"}
    )
    assert response.status_code == 404
    assert Purchase.objects.count() == 0
