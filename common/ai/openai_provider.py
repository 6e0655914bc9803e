"""OpenAI (or any OpenAI-compatible server) through the official `openai` package."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import openai
from django.conf import settings

from common.ai import AIError, Message, Reply, Source

SYSTEM = (
    "You are Plateau's tutor. Answer briefly and practically. When the numbered sources below "
    "help, use them and cite them as [1], [2]; do not invent sources."
)


def _system_message(sources: Sequence[Source]) -> dict:
    parts = [SYSTEM]
    for number, source in enumerate(sources, start=1):
        parts.append(f"[{number}] {source.title}\n{source.text[:2000]}")
    return {"role": "system", "content": "\n\n".join(parts)}


class OpenAIProvider:
    name = "openai"

    def __init__(self):
        self.client = openai.OpenAI(
            api_key=settings.AI_OPENAI_API_KEY or "missing",
            base_url=settings.AI_OPENAI_BASE_URL or None,
            timeout=settings.AI_TIMEOUT_SECONDS,
            max_retries=0,  # the user is waiting; they can send again
        )

    def stream(self, *, messages: Sequence[Message], sources: Sequence[Source]) -> Iterator[str | Reply]:
        payload = [_system_message(sources)] + [{"role": m.role, "content": m.content} for m in messages]
        pieces: list[str] = []
        try:
            response = self.client.chat.completions.create(
                model=settings.AI_OPENAI_MODEL, messages=payload, stream=True
            )
            for chunk in response:
                delta = chunk.choices[0].delta.content if chunk.choices else None
                if delta:
                    pieces.append(delta)
                    yield delta
        except openai.APITimeoutError as error:
            raise AIError("The assistant took too long to answer. Please try again.") from error
        except openai.APIConnectionError as error:
            raise AIError("The assistant cannot be reached right now. Please try again later.") from error
        except openai.APIStatusError as error:
            message = f"The assistant refused the request ({error.status_code}). Please try again later."
            raise AIError(message) from error
        text = "".join(pieces)
        if not text.strip():
            raise AIError("The assistant gave no answer. Please try again.")
        used = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
        citations = tuple(s for n, s in enumerate(sources, start=1) if n in used)
        yield Reply(text=text, citations=citations, provider=self.name)
