"""Browser journeys through the learning area, in headless Chromium (screenshots in artifacts/screenshots/)."""

import pytest
from django.test import Client

from billing.tests.factories import MembershipFactory
from content.models import Achievement, Lesson, Progress
from content.tests.factories import ChapterFactory, CourseFactory, LessonFactory, PrincipleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    cookie = {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}
    page.context.add_cookies([cookie])


def test_a_learner_completes_a_lesson_and_sees_progress_and_a_badge_on_a_phone(live_server, page, free_member):
    page.set_viewport_size({"width": 390, "height": 844})
    course = CourseFactory(slug="work", title="AI at work")
    principle = PrincipleFactory(chapter=ChapterFactory(course=course, title="Basics"))
    LessonFactory(principle=principle, order=1, slug="first", title="Write the task first", free=True,
                  body="Say **who** it is for.\n\n" + "More words. " * 200)
    LessonFactory(principle=principle, order=2, slug="second", title="Give context", free=True)
    sign_in(page, live_server, free_member.user)

    page.goto(f"{live_server.url}/learn/courses/work/")
    assert "0 of 2 lessons completed" in page.content()
    page.click("text=Write the task first")
    page.shot("lesson")
    page.click("#mark-complete")
    page.locator("#progress-done").wait_for(state="visible")
    assert page.locator("#progress-percent").inner_text() == "100%"
    page.shot("lesson-completed")
    progress = Progress.objects.get(user=free_member.user, lesson__slug="first")
    assert (progress.percent, progress.completed_at is not None) == (100, True)

    page.goto(f"{live_server.url}/learn/courses/work/")
    assert "1 of 2 lessons completed" in page.content()
    page.goto(f"{live_server.url}/learn/progress/")
    page.shot("badges")
    assert page.locator('#badges [data-code="first_lesson"]').inner_text().startswith("First lesson")
    assert Achievement.objects.filter(user=free_member.user).count() == 1
    page.goto(f"{live_server.url}/learn/")
    assert page.locator("#continue a >> nth=0").inner_text() == "Give context"
    # Nothing overflows a phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_visitor_searches_with_a_typo_and_finds_the_lesson(live_server, page):
    LessonFactory(slug="sheet", title="Tutorial: a prompt test sheet in a spreadsheet", free=True,
                  body="Keep ten real inputs in a sheet.")
    LessonFactory(slug="other", title="Meeting notes", free=True)
    page.goto(f"{live_server.url}/learn/")
    page.fill("#learn-q", "spredsheet")
    page.click("#learn-search button")
    page.wait_for_url("**/learn/search/?q=spredsheet")
    page.shot("results")
    assert page.locator("#result-count").inner_text() == "1 result for “spredsheet”"
    page.click("text=Tutorial: a prompt test sheet in a spreadsheet")
    assert page.locator("#lesson-body").inner_text() == "Keep ten real inputs in a sheet."


def test_a_member_posts_and_gets_a_reply(live_server, page, chromium, free_member):
    sign_in(page, live_server, free_member.user)
    page.goto(f"{live_server.url}/learn/community/")
    page.fill("#post-title", "How long should a prompt be?")
    page.fill("#post-body", "Mine are **short**.")
    page.click("#post-submit")
    page.locator("#post h1").wait_for()
    post_url = page.url

    other = chromium.new_context(viewport={"width": 390, "height": 844})
    replier = other.new_page()
    sign_in(replier, live_server, MembershipFactory().user)
    replier.goto(post_url)
    replier.fill("#comment-body", "As long as the context needs.")
    replier.click("#comment-submit")
    replier.locator(".comment-body").first.wait_for()
    other.close()

    page.reload()
    page.shot("reply")
    assert page.locator(".comment .comment-body").inner_text() == "As long as the context needs."
    assert page.locator("#post .post-body strong").inner_text() == "short"


def test_five_free_chats_then_the_sixth_is_refused(live_server, page, free_member):
    LessonFactory(slug="meet", title="Summarising a meeting transcript", free=True,
                  body="Ask for decisions, owners and dates.")
    sign_in(page, live_server, free_member.user)
    page.goto(f"{live_server.url}/learn/tutor/")
    for i in range(5):
        page.fill("#ask", f"How do I summarise meeting number {i}?")
        page.click("#ask-button")
        # The answer streams in, then the page shows the stored conversation with its sources.
        page.locator(f".bubble.assistant .citations >> nth={i}").wait_for()
    page.shot("five-chats")
    assert page.locator(".bubble.assistant .citations a").first.inner_text() == "Summarising a meeting transcript"
    page.fill("#ask", "And a sixth?")
    page.click("#ask-button")
    page.locator("#chat-error").wait_for()
    page.shot("sixth-refused")
    error = page.locator("#chat-error").inner_text()
    assert error.startswith("You have used your 5 free AI chats for today. They reset at ")
    assert error.endswith("Upgrade to Premium for unlimited chats.")
    assert page.locator("#ask").input_value() == "And a sixth?"
    assert page.locator(".bubble.user").count() == 5


def test_staff_roll_a_lesson_back(live_server, page, staff_client):
    staff_client.post("/admin/content/lesson/add/", {
        "title": "Context windows", "slug": "context-windows", "kind": "lesson", "principle": "", "order": "0",
        "summary": "", "body": "The first version.", "tier": "free", "price_amount": "0", "currency": "usd",
        "difficulty": "beginner", "minutes": "5", "is_published": "on",
    })
    lesson = Lesson.objects.get(slug="context-windows")
    page.context.add_cookies(
        [{"name": "sessionid", "value": staff_client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/admin/content/lesson/{lesson.pk}/change/")
    page.fill("#id_body", "A broken second version.")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/content/lesson/")
    page.goto(f"{live_server.url}/admin/content/lesson/{lesson.pk}/history/")
    page.shot("history")
    page.locator("a.version-diff").last.click()
    diff = page.locator("pre.version-diff").inner_text().strip()
    assert diff == "@@ -1 +1 @@\n-The first version.\n+A broken second version."
    page.go_back()
    page.locator("#change-history tbody th a").last.click()
    assert page.locator("#id_body").input_value() == "The first version."
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/content/lesson/")
    page.shot("rolled-back")
    lesson.refresh_from_db()
    assert lesson.body == "The first version."
    page.goto(f"{live_server.url}/learn/lessons/context-windows/")
    assert page.locator("#lesson-body").inner_text() == "The first version."
