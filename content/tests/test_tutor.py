"""The AI tutor: answers from Plateau's lessons with citations, billing's quota, conversations, visitors."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from billing.models import UsageCounter, UsageLedgerEntry
from content.models import ChatMessage, Conversation
from content.tests.conftest import signed_in
from content.tests.factories import LessonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lessons():
    LessonFactory(slug="meetings", title="Summarising a meeting transcript", free=True,
                  summary="Ask for decisions, owners and due dates.",
                  body="A good meeting summary lists decisions. Ask for owners and due dates as a table.")
    LessonFactory(slug="secret", title="Meeting secrets for premium readers", price_amount=900,
                  body="Premium meeting text nobody should get for free.")


def ask(client, conversation_id, text):
    return client.post(f"/api/v1/content/conversations/{conversation_id}/messages/", {"content": text}, format="json")


def api(membership):
    client = APIClient()
    client.force_authenticate(membership.user)
    return client


def test_the_local_tutor_answers_from_open_lessons_and_cites_them(free_member, lessons):
    client = api(free_member)
    conversation = client.post("/api/v1/content/conversations/", {}, format="json").json()
    turn = ask(client, conversation["id"], "How do I summarise a meeting?")
    assert turn.status_code == 201
    answer = turn.json()["answer"]
    assert answer["role"] == "assistant"
    assert answer["citations"] == [{"title": "Summarising a meeting transcript", "url": "/learn/lessons/meetings/"}]
    assert "[1]" in answer["content"] and "Premium meeting text" not in answer["content"]
    detail = client.get(f"/api/v1/content/conversations/{conversation['id']}/").json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    assert detail["title"] == "How do I summarise a meeting?"


def test_free_members_get_five_chats_a_day_and_the_sixth_is_refused_with_the_reset_time(free_member, lessons):
    client = api(free_member)
    conversation = client.post("/api/v1/content/conversations/", {}, format="json").json()["id"]
    for i in range(5):
        assert ask(client, conversation, f"meeting question {i}").status_code == 201
    refused = ask(client, conversation, "one more about meetings")
    assert refused.status_code == 402
    body = refused.json()
    assert body["code"] == "quota_exceeded"
    assert re.fullmatch(
        r"You have used your 5 free AI chats for today\. They reset at \d{4}-\d\d-\d\d 00:00 UTC "
        r"\(in \d+ h \d\d min\)\. Upgrade to Premium for unlimited chats\.",
        body["message"],
    ), body["message"]
    assert ChatMessage.objects.filter(role="user").count() == 5
    counter = UsageCounter.objects.get(organization=free_member.organization, feature="ai_chat")
    assert (counter.user_id, counter.used, counter.limit) == (free_member.user_id, 5, 5)


def test_the_page_shows_the_quota_error_and_keeps_the_draft(free_member, lessons):
    client = signed_in(free_member)
    first = client.post("/learn/tutor/", {"content": "How do I summarise a meeting?"})
    conversation = Conversation.objects.get()
    assert first["Location"] == f"/learn/tutor/{conversation.pk}/"
    page = client.get(first["Location"]).content.decode()
    assert 'href="/learn/lessons/meetings/">Summarising a meeting transcript</a>' in page
    for i in range(4):
        client.post(f"/learn/tutor/{conversation.pk}/", {"content": f"meeting {i}"})
    refused = client.post(f"/learn/tutor/{conversation.pk}/", {"content": "the sixth question"})
    assert refused.status_code == 402
    page = refused.content.decode()
    assert "You have used your 5 free AI chats for today. They reset at" in page
    assert ">the sixth question</textarea>" in page and 'id="upgrade"' in page


def test_premium_members_chat_without_limit(premium, lessons):
    client = api(premium)
    conversation = client.post("/api/v1/content/conversations/", {}, format="json").json()["id"]
    assert [ask(client, conversation, f"meeting {i}").status_code for i in range(7)] == [201] * 7


def test_conversations_are_renamed_and_deleted_and_private(free_member, lessons):
    from billing.tests.factories import MembershipFactory

    client = api(free_member)
    conversation = client.post("/api/v1/content/conversations/", {"title": "Meetings"}, format="json").json()
    url = f"/api/v1/content/conversations/{conversation['id']}/"
    ask(client, conversation["id"], "meeting owners?")
    renamed = client.patch(url, {"title": "Meeting notes"}, format="json").json()
    assert renamed["title"] == "Meeting notes"
    assert [c["title"] for c in client.get("/api/v1/content/conversations/").json()["results"]] == ["Meeting notes"]

    colleague = api(MembershipFactory(organization=free_member.organization))
    assert colleague.get(url).status_code == 404
    assert colleague.delete(url).status_code == 404
    assert ask(colleague, conversation["id"], "hi").status_code == 404
    assert signed_in(MembershipFactory()).get(f"/learn/tutor/{conversation['id']}/").status_code == 404

    assert client.delete(url).status_code == 204
    assert client.get("/api/v1/content/conversations/").json()["results"] == []
    assert client.get(url).status_code == 404
    assert ChatMessage.objects.count() == 0


def test_a_visitor_chats_and_the_conversation_joins_the_account_at_sign_up(lessons, settings):
    visitor = Client()
    response = visitor.post("/learn/tutor/", {"content": "How do I summarise a meeting?"})
    conversation = Conversation.objects.get()
    assert (conversation.user, bool(conversation.anonymous_owner)) == (None, True)
    assert "Summarising a meeting transcript" in visitor.get(response["Location"]).content.decode()
    assert Client().get(response["Location"]).status_code == 404  # another browser

    # Visitors get CONTENT_CHAT_ANONYMOUS_DAILY questions a day.
    for i in range(settings.CONTENT_CHAT_ANONYMOUS_DAILY - 1):
        visitor.post(response["Location"], {"content": f"meeting {i}"})
    refused = visitor.post(response["Location"], {"content": "one more"})
    assert refused.status_code == 402 and "Visitors get 3 questions a day" in refused.content.decode()

    visitor.post("/accounts/signup/", {"email": "new@example.com", "password1": "a-long-Passw0rd-1",
                                       "password2": "a-long-Passw0rd-1"})
    conversation.refresh_from_db()
    assert (conversation.user, conversation.anonymous_owner) == (User.objects.get(email="new@example.com"), "")


def used_chats(membership) -> int:
    counter = UsageCounter.objects.filter(organization=membership.organization, feature="ai_chat").first()
    return counter.used if counter else 0


def test_a_provider_failure_keeps_the_question_and_says_so(free_member, lessons, fake_openai):
    fake_openai.status = 500
    client = api(free_member)
    conversation = client.post("/api/v1/content/conversations/", {}, format="json").json()["id"]
    failed = ask(client, conversation, "How do I summarise a meeting?")
    assert failed.status_code == 503
    assert failed.json()["code"] == "ai_unavailable"
    assert failed.json()["message"] == (
        "The assistant refused the request (500). Please try again later. Your question is kept; send it again "
        "later. It did not count against your chats."
    )
    assert list(ChatMessage.objects.values_list("role", "content")) == [("user", "How do I summarise a meeting?")]
    assert used_chats(free_member) == 0  # the failure was given back
    fake_openai.status = 200
    fake_openai.reply = "Ask for owners [1]."
    answered = ask(client, conversation, "And the owners?").json()["answer"]
    assert answered["content"] == "Ask for owners [1]."
    assert answered["citations"][0]["url"] == "/learn/lessons/meetings/"
    sent = fake_openai.requests[-1]["body"]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "user"]
    assert used_chats(free_member) == 1


def test_a_failure_at_four_of_five_chats_leaves_the_fifth_to_the_learner(free_member, lessons, fake_openai):
    """The provider really fails (the fake server answers 500 to "boom"); the quota is not spent by it."""
    fake_openai.fail_when = "boom"
    client = api(free_member)
    conversation = client.post("/api/v1/content/conversations/", {}, format="json").json()["id"]
    for i in range(4):
        assert ask(client, conversation, f"meeting question {i}").status_code == 201
    for _ in range(3):  # failing again and again spends nothing
        failed = ask(client, conversation, "boom: why?")
        assert (failed.status_code, failed.json()["code"]) == (503, "ai_unavailable")
        assert failed.json()["message"].endswith("It did not count against your chats.")
        assert used_chats(free_member) == 4
    assert ask(client, conversation, "the fifth about meetings").status_code == 201
    assert ask(client, conversation, "a sixth").status_code == 402
    ledger = UsageLedgerEntry.objects.filter(organization=free_member.organization, feature="ai_chat")
    assert (ledger.count(), ledger.filter(released_at__isnull=True).count(), used_chats(free_member)) == (8, 5, 5)
    assert ChatMessage.objects.filter(role="assistant").count() == 5


def test_the_page_says_a_failure_did_not_count(free_member, lessons, fake_openai):
    fake_openai.status = 500
    client = signed_in(free_member)
    page = client.post("/learn/tutor/", {"content": "How do I summarise a meeting?"})
    assert page.status_code == 503
    assert "It did not count against your chats." in page.content.decode()
    assert used_chats(free_member) == 0


def test_empty_and_oversized_questions_are_refused(free_member):
    client = api(free_member)
    conversation = client.post("/api/v1/content/conversations/", {}, format="json").json()["id"]
    assert ask(client, conversation, "   ").status_code == 400
    assert ask(client, conversation, "x" * 2001).status_code == 400
    assert ChatMessage.objects.count() == 0


def _events(response) -> list[tuple[str, dict]]:
    import json

    text = b"".join(response.streaming_content).decode()
    events = []
    for block in filter(None, text.split("\n\n")):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_the_page_streams_the_answer_as_server_sent_events(free_member, lessons):
    client = signed_in(free_member)
    response = client.post("/learn/tutor/stream/", {"content": "How do I summarise a meeting?"})
    assert response["Content-Type"] == "text/event-stream"
    events = _events(response)
    conversation = Conversation.objects.get()
    url = f"/learn/tutor/{conversation.pk}/"
    assert events[0] == ("start", {"url": url}) and events[-1] == ("done", {"url": url})
    streamed = "".join(data["text"] for name, data in events if name == "piece")
    answer = ChatMessage.objects.get(role="assistant")
    assert streamed == answer.content and len([e for e in events if e[0] == "piece"]) > 5
    assert answer.citations == [{"title": "Summarising a meeting transcript", "url": "/learn/lessons/meetings/"}]


def test_the_stream_refuses_the_sixth_free_chat_as_json_and_a_provider_error_as_an_event(
    free_member, lessons, fake_openai
):
    client = signed_in(free_member)
    fake_openai.status = 500
    events = _events(client.post("/learn/tutor/stream/", {"content": "meeting?"}))
    assert events[-1][0] == "error" and "Your question is kept" in events[-1][1]["message"]
    assert events[-1][1]["message"].endswith("It did not count against your chats.")
    conversation = Conversation.objects.get()
    assert list(conversation.messages.values_list("role", flat=True)) == ["user"]
    assert used_chats(free_member) == 0
    fake_openai.status = 200
    for i in range(5):
        assert _events(client.post(f"/learn/tutor/{conversation.pk}/stream/", {"content": f"q{i}"}))[-1][0] == "done"
    refused = client.post(f"/learn/tutor/{conversation.pk}/stream/", {"content": "sixth"})
    assert refused.status_code == 402 and refused.json()["code"] == "quota_exceeded"
    assert refused.json()["message"].startswith("You have used your 5 free AI chats for today.")
    assert conversation.messages.filter(role="user").count() == 6
    # A refused first question leaves no empty conversation behind.
    assert client.post("/learn/tutor/stream/", {"content": "another"}).status_code == 402
    assert Conversation.objects.count() == 1


def _ask_in_thread(outcomes: dict, name: str, membership, question: str, barrier=None):
    """One learner's chat from its own thread (its own database connection), as a second device would."""
    from django.db import connection
    from rest_framework.exceptions import APIException

    from billing.selectors import viewer_for
    from content.services import chat_ask, conversation_create

    try:
        if barrier is not None:
            barrier.wait(timeout=10)
        viewer = viewer_for(user=membership.user, anonymous_session_id="", organization_id=None)
        chat_ask(conversation=conversation_create(user=membership.user), user=membership.user,
                 organization=viewer.organization, viewer=viewer, question=question)
        outcomes[name] = "answered"
    except APIException as error:
        outcomes[name] = error.default_code
    except Exception as error:  # noqa: BLE001 (reported by the test)
        outcomes[name] = repr(error)
    finally:
        connection.close()


def _use_four_chats(membership):
    client = api(membership)
    conversation = client.post("/api/v1/content/conversations/", {}, format="json").json()["id"]
    for i in range(4):
        assert ask(client, conversation, f"meeting question {i}").status_code == 201
    assert used_chats(membership) == 4


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_chat_failing_while_another_is_refused_at_four_of_five_gives_the_fifth_back(
    require_postgres, free_member, lessons, fake_openai
):
    import threading

    _use_four_chats(free_member)
    fake_openai.fail_when = "boom"
    fake_openai.fail_gate.clear()  # the failing request waits at the provider until the test lets it fail
    outcomes: dict[str, str] = {}
    failing = threading.Thread(target=_ask_in_thread, args=(outcomes, "failing", free_member, "boom: meetings?"))
    failing.start()
    assert fake_openai.failing_arrived.wait(timeout=10)  # counted (5 of 5) and at the provider
    other = threading.Thread(target=_ask_in_thread, args=(outcomes, "other", free_member, "meeting owners?"))
    other.start()
    other.join(timeout=30)
    assert outcomes == {"other": "quota_exceeded"}  # the fifth is spoken for while the failing chat runs
    fake_openai.fail_gate.set()
    failing.join(timeout=30)
    assert outcomes == {"other": "quota_exceeded", "failing": "ai_unavailable"}
    assert used_chats(free_member) == 4  # the failure gave its chat back
    _ask_in_thread(outcomes, "again", free_member, "meeting owners, again?")
    assert outcomes["again"] == "answered"
    ledger = UsageLedgerEntry.objects.filter(organization=free_member.organization, released_at__isnull=True)
    assert used_chats(free_member) == ledger.count() == ChatMessage.objects.filter(role="assistant").count() == 5


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_chats_at_four_of_five_some_failing_count_exactly_the_answers(
    require_postgres, free_member, lessons, fake_openai
):
    import threading

    _use_four_chats(free_member)
    fake_openai.fail_when = "boom"
    writers = 8
    barrier = threading.Barrier(writers)
    outcomes: dict[str, str] = {}
    threads = [
        threading.Thread(
            target=_ask_in_thread,
            args=(outcomes, str(i), free_member, "boom: meetings?" if i % 2 else "meeting owners?", barrier),
        )
        for i in range(writers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert set(outcomes.values()) <= {"answered", "ai_unavailable", "quota_exceeded"}, outcomes
    answered = list(outcomes.values()).count("answered")
    assert answered <= 1
    # Only answers spend chats: the counter, the unreleased ledger rows and the answers agree.
    ledger = UsageLedgerEntry.objects.filter(organization=free_member.organization, released_at__isnull=True)
    assert used_chats(free_member) == ledger.count() == ChatMessage.objects.filter(role="assistant").count()
    assert used_chats(free_member) == 4 + answered
