"""The GDPR export (accounts) includes what content holds about the person: progress, tutor chats, posts, comments.

content registers its export section from its AppConfig (accounts cannot import content).
"""

import pytest
from rest_framework.test import APIClient

from accounts.services.users import user_create_defaults
from accounts.tests.factories import UserFactory
from content.models import ChatMessage, Comment, Conversation, Post, Progress
from content.tests.factories import LessonFactory

pytestmark = pytest.mark.django_db


def test_the_export_has_the_persons_progress_tutor_chats_posts_and_comments(client):
    user = UserFactory(email="learner@example.com")
    user_create_defaults(user=user)
    other = UserFactory()
    lesson = LessonFactory(slug="prompt-basics", title="Prompt basics")
    Progress.objects.create(user=user, lesson=lesson, percent=60, position=1200, seconds_spent=300)
    Progress.objects.create(user=other, lesson=lesson, percent=100)
    chat = Conversation.objects.create(user=user, title="About few-shot prompts")
    ChatMessage.objects.create(conversation=chat, role="user", content="What is few-shot prompting?")
    ChatMessage.objects.create(conversation=chat, role="assistant", content="Showing the model examples first.")
    Conversation.objects.create(user=other, title="Not theirs")
    post = Post.objects.create(author=user, lesson=lesson, title="My notes", body="Examples help.")
    Comment.objects.create(post=post, author=user, body="And so does a role.")
    Comment.objects.create(post=post, author=other, body="Someone else's reply")
    client.force_login(user)

    data = client.get("/settings/data/export/").json()

    content = data["content"]
    assert [(p["lesson"], p["lesson_title"], p["percent"], p["seconds_spent"]) for p in content["progress"]] == [
        ("prompt-basics", "Prompt basics", 60, 300)
    ]
    [conversation] = content["tutor_conversations"]
    assert conversation["title"] == "About few-shot prompts"
    assert [(m["role"], m["content"]) for m in conversation["messages"]] == [
        ("user", "What is few-shot prompting?"),
        ("assistant", "Showing the model examples first."),
    ]
    assert [(p["title"], p["body"], p["lesson"]) for p in content["posts"]] == [
        ("My notes", "Examples help.", "prompt-basics")
    ]
    assert [(c["body"], c["post"]) for c in content["comments"]] == [("And so does a role.", post.pk)]
    # Exported once, in the content section, not again in the generic "other" walk.
    assert not {"content.Progress", "content.Conversation", "content.Post", "content.Comment"} & set(data["other"])
    body = client.get("/settings/data/export/").content.decode()
    assert "Someone else's reply" not in body and "Not theirs" not in body

    api = APIClient()
    api.force_authenticate(user)
    assert api.get("/api/v1/account/export/").json()["content"] == content
