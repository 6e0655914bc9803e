"""Quizzes are answered: graded on the server, the right answers never sent before a submission, the best score kept."""

import json

import pytest
from rest_framework.test import APIClient

from content.models import QuizAttempt
from content.tests.conftest import signed_in
from content.tests.factories import QuestionFactory, QuizFactory, own

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiz():
    quiz = QuizFactory(slug="basics", title="Basics")
    QuestionFactory(quiz=quiz, order=1, text="Capital of France?", choices=["Paris", "Rome"], correct_index=0,
                    explanation="Paris has been the capital since 987.")
    QuestionFactory(quiz=quiz, order=2, text="2 + 2?", choices=["3", "4", "5"], correct_index=1,
                    explanation="Count them.")
    return quiz


@pytest.fixture
def owner(free_member, quiz):
    own(item_type="quiz", item_id="basics", organization=free_member.organization)
    return free_member


def ids(quiz):
    return [q.pk for q in quiz.questions.all()]


def test_the_page_shows_the_questions_but_neither_answers_nor_explanations(owner, quiz):
    page = signed_in(owner).get("/learn/quizzes/basics/").content.decode()
    first, second = ids(quiz)
    assert f'<input type="radio" name="q-{first}" value="0"> Paris' in page
    assert "correct" not in page and "Paris has been the capital" not in page and "Count them." not in page


def test_an_attempt_is_graded_and_shows_the_right_answers_and_the_best_score(owner, quiz):
    client = signed_in(owner)
    first, second = ids(quiz)
    response = client.post("/learn/quizzes/basics/attempts/", {f"q-{first}": "0", f"q-{second}": "0"})
    attempt = QuizAttempt.objects.get()
    assert response["Location"] == f"/learn/quizzes/basics/attempts/{attempt.pk}/"
    assert (attempt.score, attempt.total, attempt.answers) == (1, 2, {str(first): 0, str(second): 0})
    result = client.get(response["Location"]).content.decode()
    assert "You scored <strong>1 / 2</strong>" in result
    assert "Right answer: 4" in result and "Count them." in result

    client.post("/learn/quizzes/basics/attempts/", {f"q-{first}": "0", f"q-{second}": "1"})
    client.post("/learn/quizzes/basics/attempts/", {f"q-{first}": "1"})
    assert list(QuizAttempt.objects.order_by("id").values_list("score", flat=True)) == [1, 2, 0]
    assert "Your best score: <strong>2 / 2</strong>" in client.get("/learn/quizzes/basics/").content.decode()


def test_a_bad_answer_refuses_the_whole_attempt(owner, quiz):
    client = signed_in(owner)
    first, _ = ids(quiz)
    response = client.post("/learn/quizzes/basics/attempts/", {f"q-{first}": "7"}, follow=True)
    assert "choose an answer from 0 to 1." in response.content.decode()
    assert QuizAttempt.objects.count() == 0


def test_someone_who_does_not_own_the_quiz_cannot_submit(free_member, quiz):
    first, _ = ids(quiz)
    response = signed_in(free_member).post("/learn/quizzes/basics/attempts/", {f"q-{first}": "0"}, follow=True)
    assert "This item is locked for you" in response.content.decode()
    assert QuizAttempt.objects.count() == 0


def test_an_attempt_is_seen_only_by_its_author(owner, quiz, free_member):
    first, _ = ids(quiz)
    signed_in(owner).post("/learn/quizzes/basics/attempts/", {f"q-{first}": "0"})
    attempt = QuizAttempt.objects.get()
    from billing.tests.factories import MembershipFactory

    colleague = MembershipFactory(organization=owner.organization)
    assert signed_in(colleague).get(f"/learn/quizzes/basics/attempts/{attempt.pk}/").status_code == 404


def api(membership):
    client = APIClient()
    client.force_authenticate(membership.user)
    return client


def test_api_questions_without_answers_then_a_graded_attempt(owner, quiz):
    client = api(owner)
    first, second = ids(quiz)
    body = client.get("/api/v1/content/quizzes/basics/").json()
    assert body == {
        "slug": "basics", "title": "Basics", "description": quiz.description, "best_score": None,
        "questions": [
            {"id": first, "text": "Capital of France?", "choices": ["Paris", "Rome"]},
            {"id": second, "text": "2 + 2?", "choices": ["3", "4", "5"]},
        ],
    }
    response = client.post("/api/v1/content/quizzes/basics/attempts/",
                           data=json.dumps({"answers": {str(first): 0, str(second): 2}}),
                           content_type="application/json")
    assert response.status_code == 201
    result = response.json()
    assert (result["score"], result["total"]) == (1, 2)
    assert result["results"] == [
        {"question": first, "chosen": 0, "correct": 0, "is_correct": True,
         "explanation": "Paris has been the capital since 987."},
        {"question": second, "chosen": 2, "correct": 1, "is_correct": False, "explanation": "Count them."},
    ]
    assert client.get("/api/v1/content/quizzes/basics/").json()["best_score"] == 1
    assert len(client.get("/api/v1/content/quizzes/basics/attempts/").json()["results"]) == 1


def test_api_refuses_a_locked_quiz_and_bad_answers_in_the_error_shape(free_member, owner, quiz):
    from billing.tests.factories import MembershipFactory

    stranger = MembershipFactory()
    locked = api(stranger).get("/api/v1/content/quizzes/basics/")
    assert (locked.status_code, locked.json()["code"]) == (403, "locked")
    submit = api(stranger).post("/api/v1/content/quizzes/basics/attempts/", {"answers": {}}, format="json")
    assert (submit.status_code, submit.json()["code"]) == (403, "locked")
    bad = api(owner).post("/api/v1/content/quizzes/basics/attempts/", {"answers": {"999999": 0}}, format="json")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_answers")
    assert bad.json()["message"] == "Question 999999 is not part of this quiz."
    anonymous = APIClient().post("/api/v1/content/quizzes/basics/attempts/", {"answers": {}}, format="json")
    assert anonymous.status_code == 401
    assert QuizAttempt.objects.count() == 0
