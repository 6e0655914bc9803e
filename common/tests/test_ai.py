"""common.ai: the local provider (offline, deterministic) and the openai one against a fake server."""

import pytest

from common.ai import AIError, Message, Reply, Source, ai_answer, ai_provider, ai_stream

SOURCES = [
    Source("Prompt engineering basics", "/learn/lessons/prompt-basics/",
           "A prompt needs a role. Give the model context about your team. Show one example of the output."),
    Source("Reviewing AI output", "/learn/lessons/review/",
           "Never paste an answer unread. Check names, numbers and dates against the source."),
]


def retriever_of(sources):
    calls = []

    def retrieve(query, limit):
        calls.append((query, limit))
        return sources[:limit]

    retrieve.calls = calls
    return retrieve


def test_local_answers_from_the_sources_and_cites_them():
    retrieve = retriever_of(SOURCES)
    reply = ai_answer(messages=[Message("user", "How do I give context in a prompt?")], retriever=retrieve)
    assert retrieve.calls == [("How do I give context in a prompt?", 4)]
    assert reply.provider == "local"
    assert reply.citations == tuple(SOURCES)
    assert reply.text == (
        "Here is what Plateau's lessons say about “How do I give context in a prompt?”:\n\n"
        "- A prompt needs a role. [1]\n"
        "- Give the model context about your team. [1]\n"
        "- Never paste an answer unread. [2]\n"
        "- Check names, numbers and dates against the source. [2]\n\n"
        "Sources:\n[1] Prompt engineering basics\n[2] Reviewing AI output"
    )


def test_local_is_deterministic_and_streams_the_same_text():
    messages = [Message("user", "earlier"), Message("assistant", "…"), Message("user", "review output")]
    pieces = list(ai_stream(messages=messages, retriever=retriever_of(SOURCES)))
    reply = pieces[-1]
    assert isinstance(reply, Reply)
    assert "".join(pieces[:-1]) == reply.text
    assert ai_answer(messages=messages, retriever=retriever_of(SOURCES)) == reply


def test_local_without_sources_says_so():
    reply = ai_answer(messages=[Message("user", "What is kubernetes?")], retriever=retriever_of([]))
    assert reply.text == (
        "I could not find anything about “What is kubernetes?” in Plateau's lessons. "
        "Try other words, or browse the courses."
    )
    assert reply.citations == ()


def test_unknown_provider_is_an_error(settings):
    settings.AI_PROVIDER = "nope"
    with pytest.raises(AIError, match="Unknown AI provider 'nope'"):
        ai_provider()


def test_openai_streams_from_a_compatible_server_with_sources(fake_openai):
    fake_openai.reply = "Give it a role and context [1]."
    pieces = list(ai_stream(messages=[Message("user", "How to prompt?")], retriever=retriever_of(SOURCES)))
    reply = pieces[-1]
    assert pieces[:-1] == ["Give ", "it ", "a ", "role ", "and ", "context ", "[1]."]
    assert reply == Reply(text="Give it a role and context [1].", citations=(SOURCES[0],), provider="openai")
    [request] = fake_openai.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["auth"] == "Bearer sk-test"
    body = request["body"]
    assert body["model"] == "fake-model" and body["stream"] is True
    assert body["messages"][0]["role"] == "system"
    assert "[1] Prompt engineering basics\nA prompt needs a role." in body["messages"][0]["content"]
    assert body["messages"][1:] == [{"role": "user", "content": "How to prompt?"}]


def test_openai_error_status_is_an_ai_error(fake_openai):
    fake_openai.status = 500
    with pytest.raises(AIError, match=r"refused the request \(500\)"):
        ai_answer(messages=[Message("user", "hi")])


def test_openai_timeout_is_an_ai_error(fake_openai, settings):
    fake_openai.hang = True
    settings.AI_TIMEOUT_SECONDS = 0.3
    with pytest.raises(AIError, match="took too long"):
        ai_answer(messages=[Message("user", "hi")])


def test_openai_unreachable_is_an_ai_error(settings):
    settings.AI_PROVIDER = "openai"
    settings.AI_OPENAI_BASE_URL = "http://127.0.0.1:9/v1"  # discard port: nothing listens
    with pytest.raises(AIError, match="cannot be reached"):
        ai_answer(messages=[Message("user", "hi")])


def test_openai_empty_answer_is_an_ai_error(fake_openai):
    fake_openai.reply = ""
    with pytest.raises(AIError, match="gave no answer"):
        ai_answer(messages=[Message("user", "hi")])
