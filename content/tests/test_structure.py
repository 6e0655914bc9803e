"""Courses → chapters → principles → lessons, as a reader sees them; Markdown bodies are sanitized."""

from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from content.tests.conftest import signed_in
from content.tests.factories import (
    ChapterFactory,
    CourseFactory,
    LessonFactory,
    PrincipleFactory,
    QuizFactory,
    TagFactory,
    own,
)

pytestmark = pytest.mark.django_db

XSS = [
    '<script>alert("body")</script>',
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(2))",
    '<a href="#" onclick="alert(3)">x</a>',
    "<svg/onload=alert(4)>",
]


def html(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def course():
    """A course of two chapters, the first with two principles; lessons out of creation order."""
    course = CourseFactory(slug="ai-at-work", title="AI at work", description="Use **AI** well.")
    first, second = ChapterFactory(course=course, order=1, title="Basics"), ChapterFactory(course=course, order=2)
    p1, p2 = PrincipleFactory(chapter=first, order=2, title="Context"), PrincipleFactory(chapter=first, order=1)
    p3 = PrincipleFactory(chapter=second, order=1)
    LessonFactory(principle=p1, order=2, slug="c2", title="Context two", free=True)
    LessonFactory(principle=p1, order=1, slug="c1", title="Context one", free=True)
    LessonFactory(principle=p2, order=1, slug="a1", title="First of all", free=True)
    LessonFactory(principle=p3, order=1, slug="z1", title="Last one", free=True)
    LessonFactory(principle=p3, order=2, slug="hidden", is_published=False)
    QuizFactory(chapter=first, slug="basics-quiz", title="Basics quiz")
    return course


def test_course_page_lists_chapters_principles_and_lessons_in_their_order(client, course):
    page = html(client.get("/learn/courses/ai-at-work/"))
    order = [page.index(f'id="lesson-{slug}"') for slug in ["a1", "c1", "c2", "z1"]]
    assert order == sorted(order)
    assert 'id="lesson-hidden"' not in page
    assert "<p>Use <strong>AI</strong> well.</p>" in page
    assert "4 lessons" in page
    assert 'href="/learn/quizzes/basics-quiz/"' in page
    assert client.get("/learn/courses/nope/").status_code == 404


def test_lesson_page_walks_the_course_in_order(client, course):
    page = html(client.get("/learn/lessons/c1/"))
    assert 'id="previous-lesson" href="/learn/lessons/a1/"' in page
    assert 'id="next-lesson" href="/learn/lessons/c2/"' in page
    assert "Lesson 2 of 4" in page
    last = html(client.get("/learn/lessons/z1/"))
    assert 'id="next-lesson"' not in last and "Lesson 4 of 4" in last


def test_related_lessons_share_a_principle_or_a_tag(client, course):
    prompts = TagFactory(name="prompts")
    LessonFactory(slug="tagged", title="Tagged elsewhere", free=True, tags=[prompts])
    lesson = LessonFactory(slug="c3", title="Context three", free=True, tags=[prompts],
                           principle=PrincipleFactory(chapter=course.chapters.first()))
    LessonFactory(slug="unrelated", title="Unrelated", free=True)
    page = html(client.get(f"/learn/lessons/{lesson.slug}/"))
    related = page[page.index('id="related"'):]
    assert "Tagged elsewhere" in related and "Unrelated" not in related
    assert "#prompts" in page


def test_the_first_slice_article_address_redirects_to_the_lesson(client):
    LessonFactory(slug="rag", free=True)
    response = client.get("/learn/articles/rag/?org=7")
    assert (response.status_code, response["Location"]) == (301, "/learn/lessons/rag/?org=7")


class _Elements(HTMLParser):
    """Every element of a page with its attributes, as a browser would build them."""

    def __init__(self, page: str):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def assert_nothing_runs(page: str):
    for tag, attrs in _Elements(page).elements:
        assert tag not in {"img", "svg", "iframe", "object"}, tag
        assert tag != "script" or attrs.get("src", "").startswith("/static/"), attrs
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        assert not (attrs.get("href") or "").strip().lower().startswith("javascript:"), attrs


@pytest.mark.parametrize("payload", XSS)
def test_stored_xss_in_any_field_shows_as_text(client, payload):
    LessonFactory(slug="xss", free=True, title=payload, summary=payload, body=f"Intro\n\n{payload}\n\nEnd")
    page = html(client.get("/learn/lessons/xss/"))
    assert_nothing_runs(page)
    body = page[page.index('id="lesson-body"'):]
    assert "<p>Intro</p>" in body and "<p>End</p>" in body
    # The payload is there, as text.
    assert "alert(" in body
    assert_nothing_runs(html(client.get("/learn/")))


def test_markdown_renders_tutorial_blocks(client):
    LessonFactory(slug="tut", free=True, kind="tutorial",
                  body="## Step 1\n\n```text\nYou are a support agent.\n```\n\n- keep it short\n\n[docs](https://example.com)")
    body = html(client.get("/learn/lessons/tut/"))
    assert "<h2>Step 1</h2>" in body
    assert '<pre><code class="language-text">You are a support agent.\n</code></pre>' in body
    assert '<a href="https://example.com" rel="nofollow noopener noreferrer">docs</a>' in body
    assert '<span class="badge">Tutorial</span>' in body


def test_lesson_page_costs_at_most_ten_queries_whatever_the_course_size(course, premium):
    """A premium lesson seen by a Premium member who owns it, in a course of 60 lessons with tags."""
    principle = course.chapters.first().principles.first()
    tags = [TagFactory(name=f"t{i}") for i in range(5)]
    for i in range(60):
        LessonFactory(principle=principle, order=10 + i, slug=f"bulk-{i}", free=True, tags=tags)
    lesson = LessonFactory(principle=principle, order=100, slug="big", tags=tags)
    own(item_type="article", item_id="big", organization=premium.organization)
    client = signed_in(premium)
    client.get("/learn/lessons/big/")  # warm the session and caches of the first request
    with CaptureQueriesContext(connection) as queries:
        page = html(client.get(f"/learn/lessons/{lesson.slug}/"))
    assert 'id="lesson-body"' in page
    assert len(queries) <= 10, "\n".join(q["sql"][:150] for q in queries.captured_queries)
