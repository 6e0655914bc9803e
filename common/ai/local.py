"""The offline provider: answers by quoting the sources it is given, deterministically."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from common.ai import Message, Reply, Source, last_question

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"\w+")
_MARKUP = re.compile(r"[#*_`>\[\]()]+")
SENTENCES_PER_SOURCE = 2
MAX_SENTENCE = 300


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) > 2}


def _best_sentences(text: str, question_words: set[str]) -> list[str]:
    sentences = [s.strip() for s in _SENTENCE.split(" ".join(_MARKUP.sub(" ", text).split())) if s.strip()]

    def score(indexed):
        index, sentence = indexed
        words = _words(sentence)
        hits = sum(1 for q in question_words if any(w.startswith(q[:5]) for w in words))
        return (-hits, index)  # most words of the question first; earlier sentences win ties

    chosen = sorted(sorted(enumerate(sentences), key=score)[:SENTENCES_PER_SOURCE])
    return [s[:MAX_SENTENCE] for _, s in chosen]


class LocalProvider:
    name = "local"

    def stream(self, *, messages: Sequence[Message], sources: Sequence[Source]) -> Iterator[str | Reply]:
        question = " ".join(last_question(messages).split())
        if not sources:
            text = (
                f"I could not find anything about “{question[:120]}” in Plateau's lessons. "
                "Try other words, or browse the courses."
            )
            cited: tuple[Source, ...] = ()
        else:
            words = _words(question)
            lines = [f"Here is what Plateau's lessons say about “{question[:120]}”:", ""]
            for number, source in enumerate(sources, start=1):
                for sentence in _best_sentences(source.text, words):
                    lines.append(f"- {sentence} [{number}]")
            lines += ["", "Sources:"]
            lines += [f"[{n}] {s.title}" for n, s in enumerate(sources, start=1)]
            text = "\n".join(lines)
            cited = tuple(sources)
        # Pieces of a few words, as a remote model would send them.
        yield from re.findall(r"\S+\s*|\s+", text)
        yield Reply(text=text, citations=cited, provider=self.name)
