"""The AI provider interface, one for every app (content's tutor, marketplace's prompt checks).

    from common.ai import Message, Source, ai_answer

    reply = ai_answer(
        messages=[Message("user", "How do I write a good prompt?")],
        retriever=lesson_sources,          # (query, limit) -> list[Source]; optional
    )
    reply.text, reply.citations            # citations: the Sources the answer used

    for piece in ai_stream(messages=..., retriever=...):   # the same answer, piece by piece
        ...                                 # str pieces, then one final Reply

Providers (setting `AI_PROVIDER`):

- `local` (default): offline and deterministic. It answers only from the sources the
  retriever returns for the last user message (the best sentences of the best sources,
  each cited as [n]); with no source it says it found nothing. Same input, same answer.
- `openai`: the official `openai` package, chat completions, `AI_OPENAI_MODEL` at
  `AI_OPENAI_BASE_URL` (any OpenAI-compatible server) with `AI_OPENAI_API_KEY`; the
  sources go into the system message, numbered, and the answer cites the ones it used.

Every provider failure (connection, timeout `AI_TIMEOUT_SECONDS`, an error status, an
empty answer) raises `AIError` with a message fit for the user; nothing is half-written
by this module, so a caller can keep its conversation intact.

This package never imports an app: apps pass their retrieval in as a callable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class Source:
    """A passage a provider may answer from, and what to cite for it."""

    title: str
    url: str
    text: str


@dataclass(frozen=True)
class Reply:
    text: str
    citations: tuple[Source, ...]
    provider: str


class AIError(Exception):
    """The provider could not answer; str(error) is fit to show to the user."""


Retriever = Callable[[str, int], Sequence[Source]]


class Provider(Protocol):
    name: str

    def stream(self, *, messages: Sequence[Message], sources: Sequence[Source]) -> Iterator[str | Reply]:
        """Text pieces, then exactly one Reply (the whole text and its citations)."""


PROVIDERS = {
    "local": "common.ai.local.LocalProvider",
    "openai": "common.ai.openai_provider.OpenAIProvider",
}
SOURCES_PER_ANSWER = 4


def ai_provider(name: str | None = None) -> Provider:
    name = name or settings.AI_PROVIDER
    try:
        return import_string(PROVIDERS[name])()
    except KeyError:
        raise AIError(f"Unknown AI provider {name!r}; choose one of {', '.join(PROVIDERS)}.") from None


def last_question(messages: Sequence[Message]) -> str:
    return next((m.content for m in reversed(messages) if m.role == "user"), "")


def ai_stream(
    *, messages: Sequence[Message], retriever: Retriever | None = None, provider: Provider | None = None
) -> Iterator[str | Reply]:
    """The answer piece by piece (str), then one Reply. Raises AIError."""
    provider = provider or ai_provider()
    sources = list(retriever(last_question(messages), SOURCES_PER_ANSWER)) if retriever else []
    return provider.stream(messages=messages, sources=sources)


def ai_answer(
    *, messages: Sequence[Message], retriever: Retriever | None = None, provider: Provider | None = None
) -> Reply:
    """The whole answer at once. Raises AIError."""
    for piece in ai_stream(messages=messages, retriever=retriever, provider=provider):
        if isinstance(piece, Reply):
            return piece
    raise AIError("The assistant gave no answer.")
