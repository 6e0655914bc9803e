"""Progress per user and lesson, from the page and the API; merged by maximum, concurrent writes lose nothing."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from billing.selectors import Viewer
from content.models import Progress
from content.services import progress_record
from content.tests.conftest import signed_in
from content.tests.factories import ChapterFactory, CourseFactory, LessonFactory, PrincipleFactory

URL = "/api/v1/content/progress/{}"


def api(membership) -> APIClient:
    client = APIClient()
    client.force_authenticate(membership.user)
    return client


def put(client, slug, **body):
    return client.put(URL.format(slug), body, format="json")


@pytest.fixture
def course(db):
    course = CourseFactory(slug="work", title="AI at work")
    chapter_one, chapter_two = ChapterFactory(course=course, order=1), ChapterFactory(course=course, order=2)
    one, two = PrincipleFactory(chapter=chapter_one), PrincipleFactory(chapter=chapter_two)
    LessonFactory(principle=one, order=1, slug="l1", title="Lesson one", free=True)
    LessonFactory(principle=one, order=2, slug="l2", title="Lesson two", free=True)
    LessonFactory(principle=two, order=1, slug="l3", title="Lesson three", free=True)
    return course


@pytest.mark.django_db
def test_a_stale_device_never_moves_progress_back_and_seconds_add_up(free_member, course):
    phone, laptop = api(free_member), api(free_member)
    first = put(phone, "l1", percent=40, position=1200, seconds=30)
    assert first.status_code == 200
    assert {k: first.json()[k] for k in ["lesson", "percent", "position", "seconds_spent", "completed"]} == {
        "lesson": "l1", "percent": 40, "position": 1200, "seconds_spent": 30, "completed": False,
    }
    stale = put(laptop, "l1", percent=20, position=300, seconds=10).json()
    assert (stale["percent"], stale["position"], stale["seconds_spent"]) == (40, 1200, 40)
    done = put(laptop, "l1", completed=True, seconds=5).json()
    assert (done["percent"], done["completed"], done["seconds_spent"]) == (100, True, 45)
    completed_at = Progress.objects.get().completed_at
    again = put(phone, "l1", percent=10).json()
    assert (again["percent"], again["completed"]) == (100, True)
    assert Progress.objects.get().completed_at == completed_at
    listing = phone.get("/api/v1/content/progress/").json()["results"]
    assert [(p["lesson"], p["percent"]) for p in listing] == [("l1", 100)]
    assert phone.get(URL.format("l1")).json()["seconds_spent"] == 45


@pytest.mark.django_db
def test_refused_writes_store_nothing(free_member, course):
    LessonFactory(slug="paid", price_amount=1000)
    locked = put(api(free_member), "paid", percent=50)
    assert (locked.status_code, locked.json()["code"]) == (403, "locked")
    bad = put(api(free_member), "l1", percent=101)
    assert (bad.status_code, bad.json()["code"]) == (400, "validation_error")
    assert bad.json()["errors"][0]["field"] == "percent"
    assert put(api(free_member), "nope", percent=5).status_code == 404
    assert put(APIClient(), "l1", percent=5).status_code == 401
    assert Progress.objects.count() == 0


@pytest.mark.django_db
def test_progress_is_private(free_member, course):
    from billing.tests.factories import MembershipFactory

    put(api(free_member), "l1", percent=30)
    colleague = MembershipFactory(organization=free_member.organization)
    assert api(colleague).get("/api/v1/content/progress/").json()["results"] == []
    assert api(colleague).get(URL.format("l1")).status_code == 404


@pytest.mark.django_db
def test_course_and_chapter_completion_and_continue_where_you_left_off(free_member, course):
    client = signed_in(free_member)
    page = client.get("/learn/courses/work/").content.decode()
    assert "0 of 3 lessons completed" in page
    assert 'id="continue"' not in client.get("/learn/").content.decode()

    put(api(free_member), "l1", completed=True)
    put(api(free_member), "l2", percent=30)
    home = client.get("/learn/").content.decode()
    assert '<a href="/learn/lessons/l2/">Lesson two</a>' in home[home.index('id="continue"'):]
    put(api(free_member), "l2", completed=True)
    page = client.get("/learn/courses/work/").content.decode()
    assert "2 of 3 lessons completed" in page
    assert page.count("Chapter completed") == 1
    # The last thing read is finished: continue with the next lesson of the course.
    home = client.get("/learn/").content.decode()
    assert '<a href="/learn/lessons/l3/">Lesson three</a>' in home[home.index('id="continue"'):]
    put(api(free_member), "l3", completed=True)
    page = client.get("/learn/courses/work/").content.decode()
    assert "3 of 3 lessons completed · <span class=\"done\">Course completed</span>" in page
    assert page.count("Chapter completed") == 2
    progress = client.get("/learn/progress/").content.decode()
    assert "AI at work</a> · 3 of 3 lessons · <span class=\"done\">Completed</span>" in progress


@pytest.mark.django_db
def test_the_lesson_page_carries_the_progress_widget_for_members_only(free_member, client, course):
    put(api(free_member), "l1", percent=60)
    page = signed_in(free_member).get("/learn/lessons/l1/").content.decode()
    assert 'data-url="/api/v1/content/progress/l1"' in page
    assert '<progress id="progress-meter" max="100" value="60">' in page
    assert '<script src="/static/content/progress.js" defer></script>' in page
    anonymous = client.get("/learn/lessons/l1/").content.decode()
    assert 'id="progress"' not in anonymous and "to keep your progress on every device" in anonymous


@pytest.mark.django_db
def test_a_write_is_one_statement_and_completing_adds_one(free_member, django_assert_num_queries):
    lesson = LessonFactory(slug="counted", free=True)
    user, viewer = free_member.user, Viewer()
    with django_assert_num_queries(1):  # the first write creates the row
        assert progress_record(user=user, lesson=lesson, viewer=viewer, percent=30, position=9, seconds=10).progress.pk
    with django_assert_num_queries(1):  # a stale device: merged, never read first
        written = progress_record(user=user, lesson=lesson, viewer=viewer, percent=10, position=3, seconds=5)
    assert (written.progress.percent, written.progress.position, written.progress.seconds_spent) == (30, 9, 15)
    with django_assert_num_queries(2):  # the merge, then the claim of the completion
        done = progress_record(user=user, lesson=lesson, viewer=viewer, percent=0, completed=True)
    assert (done.newly_completed, done.progress.percent, done.progress.completed_at is not None) == (True, 100, True)
    with django_assert_num_queries(1):  # already completed: nothing to claim
        again = progress_record(user=user, lesson=lesson, viewer=viewer, percent=100, completed=True)
    assert (again.newly_completed, again.progress.completed_at) == (False, done.progress.completed_at)
    stored = Progress.objects.get()
    assert (stored.percent, stored.position, stored.seconds_spent, stored.completed_at) == (
        100, 9, 15, done.progress.completed_at,
    )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_writes_from_many_devices_lose_nothing(require_postgres, free_member):
    lesson = LessonFactory(slug="race", free=True)
    user = free_member.user
    writers = 12
    barrier = threading.Barrier(writers)
    outcomes, errors = [], []

    def write(i):
        try:
            barrier.wait(timeout=10)
            written = progress_record(
                user=user, lesson=lesson, viewer=Viewer(), percent=(i * 9) % 101, position=i * 10, seconds=5,
                completed=i % 4 == 0,
            )
            outcomes.append(written.newly_completed)
            # What a device is answered never goes below what it reported.
            assert written.progress.percent >= (100 if i % 4 == 0 else (i * 9) % 101)
            assert written.progress.position >= i * 10
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    progress = Progress.objects.get()
    assert (progress.percent, progress.position, progress.seconds_spent) == (100, 10 * (writers - 1), 5 * writers)
    assert outcomes.count(True) == 1 and progress.completed_at is not None
    # A stale device afterwards moves nothing back.
    stale = progress_record(user=user, lesson=lesson, viewer=Viewer(), percent=1, position=0, seconds=1)
    assert (stale.progress.percent, stale.progress.position, stale.newly_completed) == (100, 10 * (writers - 1), False)
    assert stale.progress.completed_at == progress.completed_at


@pytest.mark.django_db
def test_recommended_for_you_follows_what_you_read(free_member, course, client):
    LessonFactory(slug="elsewhere", title="Elsewhere", free=True)
    put(api(free_member), "l1", completed=True)
    home = signed_in(free_member).get("/learn/").content.decode()
    section = home[home.index('id="recommended"'):home.index("<h2>Courses</h2>")]
    assert "Recommended for you" in section
    # Unread lessons of the course first (in reading order), then the rest; never what was read.
    assert section.index("Lesson two") < section.index("Lesson three") < section.index("Elsewhere")
    assert "Lesson one" not in section
    visitor = client.get("/learn/").content.decode()
    popular = visitor[visitor.index('id="recommended"'):visitor.index("<h2>Courses</h2>")]
    assert "Popular lessons" in popular and popular.index("Lesson one") < popular.index("Elsewhere")
