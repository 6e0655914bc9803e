import pytest

from accounts.demo import CUSTOMER_EMAIL
from accounts.demo import seed_demo as seed_accounts
from accounts.models import Organization, User
from billing.demo import seed_demo as seed_billing
from content.demo import seed_demo
from content.models import Article, Question, Quiz

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        list(Article.objects.order_by("slug").values_list("slug", "tier", "price_amount", "is_published", "body")),
        list(Quiz.objects.order_by("slug").values_list("slug", "price_amount", "is_published")),
        list(Question.objects.order_by("quiz__slug", "order").values_list("quiz__slug", "order", "text", "pk")),
    )


def test_seeding_twice_leaves_the_same_content():
    assert seed_demo() == ["6 articles (2 free, 4 premium), quizzes at $40.00, $45.00, $60.00: /learn/"]
    first = _snapshot()
    seed_demo()
    assert _snapshot() == first
    assert (Article.objects.count(), Quiz.objects.count(), Question.objects.count()) == (6, 3, 12)
    assert sorted(Article.objects.filter(tier="premium").values_list("price_amount", flat=True)) == [
        1000,
        1200,
        1250,
        1500,
    ]
    # A question removed from the demo data is removed from the quiz on the next run.
    rag = Quiz.objects.get(slug="retrieval-and-rag")
    Question.objects.create(quiz=rag, order=9, text="Extra?", choices=["a", "b"], correct_index=0)
    seed_demo()
    assert _snapshot() == first


def test_the_demo_customer_sees_acme_premium_prices_on_the_learning_pages(client):
    seed_accounts()
    seed_billing()
    lines = seed_demo()
    acme = Organization.objects.get(name="Acme AI")
    assert lines[1] == f"As the demo customer, Acme AI's Premium prices: /learn/?org={acme.pk}"
    client.force_login(User.objects.get(email=CUSTOMER_EMAIL))
    article = client.get(f"/learn/articles/rag-in-practice/?org={acme.pk}").content.decode()
    # The billing demo used 2 of the 3 premium articles and 1 of the 2 free quizzes.
    assert "Included in your plan (1 of 3 left this cycle)" in article
    quiz = client.get(f"/learn/quizzes/advanced-agents/?org={acme.pk}").content.decode()
    assert "<del>$60.00</del> <strong>$48.00</strong>" in quiz
    basics = client.get(f"/learn/quizzes/prompting-basics/?org={acme.pk}").content.decode()
    assert "Included in your plan (1 of 2 left this cycle)" in basics
