"""Achievements: defined once, awarded exactly once by a Celery task after the commit, with one email each."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from content.models import Achievement, Progress, QuizAttempt
from content.services import achievements_award
from content.tasks import achievements_award_task
from content.tests.conftest import signed_in
from content.tests.factories import (
    ChapterFactory,
    CourseFactory,
    LessonFactory,
    PrincipleFactory,
    QuestionFactory,
    QuizFactory,
    own,
)


def codes(user):
    return list(Achievement.objects.filter(user=user).order_by("id").values_list("code", flat=True))


def complete(client, slug):
    response = client.put(f"/api/v1/content/progress/{slug}", {"completed": True}, format="json")
    assert response.status_code == 200


@pytest.fixture
def course(db):
    course = CourseFactory()
    first, second = ChapterFactory(course=course, order=1), ChapterFactory(course=course, order=2)
    for chapter, slugs in [(first, ["a", "b"]), (second, ["c"])]:
        principle = PrincipleFactory(chapter=chapter)
        for order, slug in enumerate(slugs):
            LessonFactory(principle=principle, order=order, slug=slug, free=True)
    return course


@pytest.mark.django_db
def test_badges_follow_completions_once_each_with_one_email(free_member, course, django_capture_on_commit_callbacks):
    client = APIClient()
    client.force_authenticate(free_member.user)
    with django_capture_on_commit_callbacks(execute=True):
        complete(client, "a")
    assert codes(free_member.user) == ["first_lesson"]
    assert [m.subject for m in mail.outbox] == ["[Plateau] New badge: First lesson"]
    assert mail.outbox[0].to == [free_member.user.email]
    with django_capture_on_commit_callbacks(execute=True):
        complete(client, "b")
    assert codes(free_member.user) == ["first_lesson", "chapter_completed"]
    with django_capture_on_commit_callbacks(execute=True):
        complete(client, "c")
        complete(client, "c")  # completing again awards nothing
    assert codes(free_member.user) == ["first_lesson", "chapter_completed", "course_completed"]
    # Running the task again awards nothing new and sends nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert achievements_award_task(user_id=free_member.user_id) == []
    assert len(mail.outbox) == 3
    page = signed_in(free_member).get("/learn/progress/").content.decode()
    assert page.count('class="badge-card"') == 3 and "<strong>Course done</strong>" in page


@pytest.mark.django_db
def test_a_perfect_quiz_earns_a_badge(free_member, django_capture_on_commit_callbacks):
    quiz = QuizFactory(slug="q")
    question = QuestionFactory(quiz=quiz, choices=["a", "b"], correct_index=1)
    own(item_type="quiz", item_id="q", organization=free_member.organization)
    client = signed_in(free_member)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/learn/quizzes/q/attempts/", {f"q-{question.pk}": "0"})
    assert codes(free_member.user) == []
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/learn/quizzes/q/attempts/", {f"q-{question.pk}": "1"})
    assert codes(free_member.user) == ["perfect_quiz"]


@pytest.mark.django_db
def test_a_seven_day_streak(free_member):
    user = free_member.user
    start = timezone.now() - timedelta(days=10)
    for day in range(6):
        lesson = LessonFactory(free=True)
        Progress.objects.create(user=user, lesson=lesson, percent=100, completed_at=start + timedelta(days=day))
    assert "streak_7" not in [a.code for a in achievements_award(user_id=user.pk)]
    QuizAttempt.objects.create(quiz=QuizFactory(), user=user, score=0, total=1, created_at=start + timedelta(days=6))
    assert [a.code for a in achievements_award(user_id=user.pk)] == ["streak_7"]
    assert achievements_award(user_id=user.pk) == []


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_awards_once(celery_worker, free_member):
    user = free_member.user
    Progress.objects.create(user=user, lesson=LessonFactory(free=True), percent=100, completed_at=timezone.now())
    assert achievements_award_task.delay(user_id=user.pk).get(timeout=60) == ["first_lesson"]
    assert achievements_award_task.delay(user_id=user.pk).get(timeout=60) == []
    assert codes(user) == ["first_lesson"]
