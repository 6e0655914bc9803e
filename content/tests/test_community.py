"""Community: posts, comments with one level of replies, likes exact under concurrency, moderation, limits."""

import threading
from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from billing.tests.factories import MembershipFactory
from content.models import Comment, Like, Post, PostingSuspension, Report
from content.services import like_set
from content.tests.conftest import signed_in
from content.tests.factories import LessonFactory

pytestmark = pytest.mark.django_db


def api(membership):
    client = APIClient()
    client.force_authenticate(membership.user)
    return client


def new_post(client, **body):
    payload = {"title": "Prompt tips", "body": "Share yours.", **body}
    return client.post("/api/v1/content/posts/", payload, format="json")


def test_a_member_posts_on_a_lesson_and_another_replies(free_member):
    lesson = LessonFactory(slug="ctx", free=True)
    author, other = signed_in(free_member), signed_in(MembershipFactory())
    response = author.post("/learn/community/?lesson=ctx", {"title": "Context?", "body": "How much is **enough**?"})
    post = Post.objects.get()
    assert (response["Location"], post.lesson, post.body_html) == (
        f"/learn/community/{post.pk}/", lesson, "<p>How much is <strong>enough</strong>?</p>\n",
    )
    other.post(f"/learn/community/{post.pk}/", {"body": "Paste the customer's message."})
    top = Comment.objects.get()
    author.post(f"/learn/community/{post.pk}/", {"body": "Thanks!", "parent": top.pk})
    reply = Comment.objects.get(parent=top)
    other.post(f"/learn/community/{post.pk}/", {"body": "Welcome.", "parent": reply.pk})
    # One level of replies: a reply to a reply joins the thread of its top-level comment.
    assert list(Comment.objects.filter(parent=top).values_list("body", flat=True)) == ["Thanks!", "Welcome."]
    page = author.get(f"/learn/community/{post.pk}/").content.decode()
    assert page.index("Paste the customer") < page.index("Thanks!") < page.index("Welcome.")
    assert "Context?" in author.get("/learn/community/?lesson=ctx").content.decode()
    assert 'href="/learn/community/?lesson=ctx"' in author.get("/learn/lessons/ctx/").content.decode()


def test_likes_are_one_per_member_on_posts_and_comments(free_member):
    client = api(free_member)
    post = new_post(client).json()
    url = f"/api/v1/content/posts/{post['id']}/like/"
    assert [client.put(url).json()["like_count"] for _ in range(2)] == [1, 1]
    assert api(MembershipFactory()).put(url).json()["like_count"] == 2
    assert [client.delete(url).json()["like_count"] for _ in range(2)] == [1, 1]
    comment = client.post(f"/api/v1/content/posts/{post['id']}/comments/", {"body": "hi"}, format="json").json()
    assert client.put(f"/api/v1/content/comments/{comment['id']}/like/").json()["like_count"] == 1
    assert Like.objects.count() == 2


def test_hidden_content_is_seen_only_by_its_author_and_staff(free_member, staff_client):
    client = api(free_member)
    post_id = new_post(client, title="Spam?").json()["id"]
    response = staff_client.post("/admin/content/post/", {"action": "hide", "_selected_action": [post_id]})
    assert response.status_code == 302 and Post.objects.get().is_hidden
    stranger = APIClient()
    assert stranger.get(f"/api/v1/content/posts/{post_id}/").status_code == 404
    assert stranger.get("/api/v1/content/posts/").json()["results"] == []
    assert "Spam?" not in signed_in(MembershipFactory()).get("/learn/community/").content.decode()
    assert "Hidden by staff" in signed_in(free_member).get(f"/learn/community/{post_id}/").content.decode()
    assert client.get(f"/api/v1/content/posts/{post_id}/").json()["is_hidden"] is True
    staff_client.post("/admin/content/post/", {"action": "restore", "_selected_action": [post_id]})
    assert stranger.get(f"/api/v1/content/posts/{post_id}/").status_code == 200


def test_locked_threads_and_suspended_members_are_refused_clearly(free_member, staff_client):
    client = api(free_member)
    post_id = new_post(client).json()["id"]
    staff_client.post("/admin/content/post/", {"action": "lock", "_selected_action": [post_id]})
    refused = client.post(f"/api/v1/content/posts/{post_id}/comments/", {"body": "late"}, format="json")
    assert (refused.status_code, refused.json()["message"]) == (403, "This thread is locked: no new comments.")
    page = signed_in(free_member).post(f"/learn/community/{post_id}/", {"body": "late"})
    assert page.status_code == 403 and "This thread is locked" in page.content.decode()

    until = timezone.now() + timedelta(days=2)
    PostingSuspension.objects.create(user=free_member.user, reason="Repeated spam", until=until)
    suspended = new_post(client)
    assert suspended.status_code == 403
    assert suspended.json()["message"] == (
        f"Your posting is suspended until {until.astimezone(UTC):%Y-%m-%d %H:%M} UTC: Repeated spam"
    )
    assert (Post.objects.count(), Comment.objects.count()) == (1, 0)


def test_posting_is_rate_limited_with_a_clear_error(free_member, settings):
    settings.CONTENT_COMMUNITY_POSTS_PER_HOUR = 2
    client = api(free_member)
    assert [new_post(client).status_code for _ in range(2)] == [201, 201]
    limited = new_post(client)
    assert limited.status_code == 429 and limited.json()["code"] == "posting_rate_limited"
    assert limited.json()["message"].startswith("You can post 2 times an hour; try again at ")
    assert Post.objects.count() == 2


def test_authors_edit_and_delete_their_own_posts_only(free_member):
    client = api(free_member)
    post_id = new_post(client).json()["id"]
    other = api(MembershipFactory())
    refused = other.patch(f"/api/v1/content/posts/{post_id}/", {"body": "mine now"}, format="json")
    assert refused.status_code == 403
    assert other.delete(f"/api/v1/content/posts/{post_id}/").status_code == 403
    assert signed_in(MembershipFactory()).get(f"/learn/community/{post_id}/edit/").status_code == 404
    edited = client.patch(f"/api/v1/content/posts/{post_id}/", {"body": "Edited."}, format="json").json()
    assert (edited["title"], edited["body"]) == ("Prompt tips", "Edited.")
    assert client.delete(f"/api/v1/content/posts/{post_id}/").status_code == 204
    assert Post.objects.count() == 0


def test_xss_in_a_post_shows_as_text(free_member):
    from content.tests.test_structure import assert_nothing_runs

    client = signed_in(free_member)
    client.post("/learn/community/", {"title": "<script>alert(1)</script>", "body": '<img src=x onerror="alert(2)">'})
    post = Post.objects.get()
    assert_nothing_runs(client.get(f"/learn/community/{post.pk}/").content.decode())
    assert_nothing_runs(client.get("/learn/community/").content.decode())


def test_reports_reach_staff(free_member, staff_client):
    post_id = new_post(api(free_member)).json()["id"]
    reporter = api(MembershipFactory())
    reported = reporter.post(f"/api/v1/content/posts/{post_id}/report/", {"reason": "Off topic"}, format="json")
    assert reported.status_code == 201
    report = Report.objects.get()
    staff_client.post("/admin/content/report/", {"action": "hide_reported", "_selected_action": [report.pk]})
    report.refresh_from_db()
    assert report.resolved_at is not None and Post.objects.get().is_hidden
    for url in ["/admin/content/report/", "/admin/content/post/", "/admin/content/comment/",
                "/admin/content/postingsuspension/add/", "/admin/content/progress/", "/admin/content/conversation/",
                "/admin/content/achievement/", "/admin/content/quizattempt/"]:
        assert staff_client.get(url).status_code == 200, url


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_likes_and_unlikes_keep_the_count_exact(require_postgres):
    author = MembershipFactory().user
    post = Post.objects.create(author=author, title="t", body="b")
    users = [MembershipFactory().user for _ in range(10)]
    for user in users[:5]:
        like_set(user=user, target=post, liked=True)
    barrier = threading.Barrier(20)
    errors = []

    def act(user, liked):
        try:
            barrier.wait(timeout=10)
            like_set(user=user, target=post, liked=liked)
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    # Each of the 10 likes twice at once; the first 5 (who liked already) also unlike at once.
    jobs = [(u, True) for u in users] + [(u, True) for u in users[5:]] + [(u, False) for u in users[:5]]
    threads = [threading.Thread(target=act, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    post.refresh_from_db()
    assert post.like_count == Like.objects.filter(post=post).count()
    assert set(Like.objects.filter(post=post).values_list("user_id", flat=True)) >= {u.pk for u in users[5:]}
