"""Staff write content in the admin; a slug, which purchases refer to, is fixed once the item exists."""

import pytest

from content.models import Question, Quiz
from content.tests.factories import ArticleFactory, QuestionFactory

pytestmark = pytest.mark.django_db


def test_changelists_and_forms_render_and_slugs_are_read_only_once_created(staff_client):
    article = ArticleFactory(slug="rag")
    question = QuestionFactory()
    for url in [
        "/admin/content/article/",
        "/admin/content/article/add/",
        "/admin/content/quiz/",
        "/admin/content/quiz/add/",
        f"/admin/content/quiz/{question.quiz_id}/change/",
        "/admin/content/question/",
        f"/admin/content/question/{question.pk}/change/",
    ]:
        assert staff_client.get(url).status_code == 200, url
    change = staff_client.get(f"/admin/content/article/{article.pk}/change/").content.decode()
    assert 'name="slug"' not in change
    assert 'name="slug"' in staff_client.get("/admin/content/article/add/").content.decode()


def test_staff_create_a_quiz_with_its_questions_inline(staff_client):
    form = {
        "title": "Prompting basics",
        "slug": "prompting-basics",
        "description": "",
        "price_amount": "4000",
        "currency": "usd",
        "is_published": "on",
        "questions-TOTAL_FORMS": "2",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
        "questions-0-order": "1",
        "questions-0-text": "Which one?",
        "questions-0-choices": '["A", "B"]',
        "questions-0-correct_index": "1",
        "questions-1-order": "2",
        "questions-1-text": "Out of range?",
        "questions-1-choices": '["A", "B"]',
        "questions-1-correct_index": "5",
    }
    refused = staff_client.post("/admin/content/quiz/add/", form)
    assert refused.status_code == 200
    assert "Must point at one of the answers: 0 to 1." in refused.content.decode()
    assert (Quiz.objects.count(), Question.objects.count()) == (0, 0)

    form["questions-1-correct_index"] = "0"
    assert staff_client.post("/admin/content/quiz/add/", form).status_code == 302
    quiz = Quiz.objects.get()
    rows = list(quiz.questions.values_list("order", "choices", "correct_index"))
    assert rows == [(1, ["A", "B"], 1), (2, ["A", "B"], 0)]
