import pytest

from accounts.demo import CUSTOMER_EMAIL
from accounts.demo import seed_demo as seed_accounts
from accounts.models import Organization, User
from billing.demo import seed_demo as seed_billing
from content.demo import seed_demo
from content.models import Chapter, Course, Lesson, Principle, Question, Quiz

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        list(Lesson.objects.order_by("slug").values_list("slug", "tier", "price_amount", "is_published", "body")),
        list(Quiz.objects.order_by("slug").values_list("slug", "price_amount", "is_published")),
        list(Question.objects.order_by("quiz__slug", "order").values_list("quiz__slug", "order", "text", "pk")),
        list(Course.objects.values_list("slug", "pk")),
        list(Chapter.objects.values_list("course__slug", "order", "pk")),
        list(Principle.objects.values_list("chapter_id", "order", "pk")),
        list(Lesson.objects.order_by("slug").values_list("slug", "principle_id", "order", "tags__slug")),
    )


def test_seeding_twice_leaves_the_same_content():
    assert seed_demo() == [
        "3 courses with 22 lessons: /learn/",
        "6 articles (2 free, 4 premium), quizzes at $40.00, $45.00, $60.00, $35.00, $30.00: /learn/",
    ]
    first = _snapshot()
    seed_demo()
    assert _snapshot() == first
    assert (Course.objects.count(), Lesson.objects.filter(principle__isnull=False).count()) == (3, 22)
    assert (Lesson.objects.count(), Quiz.objects.count(), Question.objects.count()) == (28, 5, 18)
    assert Lesson.objects.filter(kind="tutorial").count() == 4
    assert Quiz.objects.filter(chapter__isnull=False).count() == 3
    assert sorted(Lesson.objects.filter(tier="premium", principle=None).values_list("price_amount", flat=True)) == [
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
    assert lines[2] == f"As the demo customer, Acme AI's Premium prices: /learn/?org={acme.pk}"
    client.force_login(User.objects.get(email=CUSTOMER_EMAIL))
    article = client.get(f"/learn/lessons/rag-in-practice/?org={acme.pk}").content.decode()
    # The billing demo used 2 of the 3 premium articles and 1 of the 2 free quizzes.
    assert "Included in your plan (1 of 3 left this cycle)" in article
    quiz = client.get(f"/learn/quizzes/advanced-agents/?org={acme.pk}").content.decode()
    assert "<del>$60.00</del> <strong>$48.00</strong>" in quiz
    basics = client.get(f"/learn/quizzes/prompting-basics/?org={acme.pk}").content.decode()
    assert "Included in your plan (1 of 2 left this cycle)" in basics
