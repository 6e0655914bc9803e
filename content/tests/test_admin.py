"""Staff write content in the admin; a slug, which purchases refer to, is fixed once the item exists."""

import pytest

from content.models import Question, Quiz
from content.tests.factories import LessonFactory, QuestionFactory

pytestmark = pytest.mark.django_db


def test_changelists_and_forms_render_and_slugs_are_read_only_once_created(staff_client):
    article = LessonFactory(slug="rag")
    question = QuestionFactory()
    for url in [
        "/admin/content/lesson/",
        "/admin/content/lesson/add/",
        "/admin/content/quiz/",
        "/admin/content/quiz/add/",
        f"/admin/content/quiz/{question.quiz_id}/change/",
        "/admin/content/question/",
        f"/admin/content/question/{question.pk}/change/",
    ]:
        assert staff_client.get(url).status_code == 200, url
    change = staff_client.get(f"/admin/content/lesson/{article.pk}/change/").content.decode()
    assert 'name="slug"' not in change
    assert 'name="slug"' in staff_client.get("/admin/content/lesson/add/").content.decode()


def test_staff_create_a_quiz_with_its_questions_inline(staff_client):
    form = {
        "title": "Prompting basics",
        "slug": "prompting-basics",
        "description": "",
        "price_amount": "4000",
        "order": "0",
        "difficulty": "beginner",
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


def _lesson_form(**overrides):
    form = {
        "title": "Context windows",
        "slug": "context-windows",
        "kind": "lesson",
        "principle": "",
        "order": "0",
        "summary": "What fits.",
        "body": "First draft.",
        "tier": "free",
        "price_amount": "0",
        "currency": "usd",
        "difficulty": "beginner",
        "minutes": "5",
        "is_published": "on",
    }
    return {**form, **overrides}


def test_every_save_is_a_version_with_its_author_and_a_rollback_is_a_new_audited_version(staff_client):
    from auditlog.models import LogEntry
    from reversion.models import Version

    from content.models import Lesson

    assert staff_client.post("/admin/content/lesson/add/", _lesson_form()).status_code == 302
    lesson = Lesson.objects.get(slug="context-windows")
    change_url = f"/admin/content/lesson/{lesson.pk}/change/"
    assert staff_client.post(change_url, _lesson_form(body="Second draft, **bold**.")).status_code == 302
    versions = list(Version.objects.get_for_object(lesson).select_related("revision__user"))
    assert [v.field_dict["body"] for v in versions] == ["Second draft, **bold**.", "First draft."]
    staff = versions[0].revision.user
    assert staff.is_staff and versions[1].revision.user == staff

    history = staff_client.get(f"/admin/content/lesson/{lesson.pk}/history/").content.decode()
    first = versions[1]
    assert f'href="/admin/content/lesson/{lesson.pk}/history/{first.pk}/diff/"' in history
    diff = staff_client.get(f"/admin/content/lesson/{lesson.pk}/history/{first.pk}/diff/").content.decode()
    assert "-First draft.\n+Second draft, **bold**." in diff

    # Opening an old version changes nothing until it is saved.
    revision_url = f"/admin/content/lesson/{lesson.pk}/history/{first.pk}/"
    assert "First draft." in staff_client.get(revision_url).content.decode()
    lesson.refresh_from_db()
    assert lesson.body == "Second draft, **bold**."

    assert staff_client.post(revision_url, _lesson_form()).status_code == 302
    lesson.refresh_from_db()
    assert (lesson.body, lesson.body_html) == ("First draft.", "<p>First draft.</p>\n")
    versions = list(Version.objects.get_for_object(lesson).select_related("revision"))
    assert len(versions) == 3
    assert versions[0].revision.comment.startswith("Reverted to previous version")
    entry = LogEntry.objects.get_for_object(lesson).order_by("-pk").first()
    assert entry.actor == staff
    assert entry.changes_dict["body"] == ["Second draft, **bold**.", "First draft."]


def test_lessons_are_reordered_inline_on_their_principle(staff_client):
    from content.tests.factories import PrincipleFactory

    principle = PrincipleFactory()
    a = LessonFactory(principle=principle, order=1, slug="a")
    b = LessonFactory(principle=principle, order=2, slug="b")
    form = {
        "chapter": principle.chapter_id, "title": principle.title, "summary": "", "order": "0",
        "lessons-TOTAL_FORMS": "2", "lessons-INITIAL_FORMS": "2", "lessons-MIN_NUM_FORMS": "0",
        "lessons-MAX_NUM_FORMS": "1000",
        "lessons-0-id": a.pk, "lessons-0-principle": principle.pk, "lessons-0-order": "2",
        "lessons-1-id": b.pk, "lessons-1-principle": principle.pk, "lessons-1-order": "1",
    }
    response = staff_client.post(f"/admin/content/principle/{principle.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(principle.lessons.values_list("slug", flat=True)) == ["b", "a"]


def test_course_chapter_principle_tag_pages_render(staff_client):
    from content.tests.factories import CourseFactory, PrincipleFactory, TagFactory

    principle = PrincipleFactory()
    TagFactory()
    CourseFactory()
    for url in [
        "/admin/content/course/", "/admin/content/course/add/",
        f"/admin/content/course/{principle.chapter.course_id}/change/",
        f"/admin/content/chapter/{principle.chapter_id}/change/",
        f"/admin/content/principle/{principle.pk}/change/",
        "/admin/content/tag/", "/admin/content/lesson/?kind__exact=tutorial",
    ]:
        assert staff_client.get(url).status_code == 200, url
