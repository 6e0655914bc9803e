"""Ranked search, one helper for every app that searches its own models.

A model opts in by inheriting `SearchIndexed` and declaring which of its text fields count
and how much (PostgreSQL's weights, "A" highest to "D" lowest)::

    class Lesson(SearchIndexed):
        title = models.CharField(max_length=200)
        summary = models.TextField(blank=True)
        body = models.TextField()

        SEARCH_FIELDS = {"title": "A", "summary": "B", "body": "C"}

        class Meta:
            indexes = search_indexes("content_lesson")

Reading::

    ranked = search_rank(queryset=Lesson.objects.published(), query="promt enginering")
    for lesson in ranked[:10]:          # best first; each has .search_rank (a float, higher is better)
        search_snippet(text=lesson.body, query="promt enginering")   # escaped HTML with <mark>s

The rules, on both databases:

- A query is cut into words (letters and digits; everything else is a separator, so no
  query syntax reaches the database). An item matches when **every** word either starts
  a word of one of its fields ("engin" finds "engineering") or is close to a word of its
  "A" fields by trigram similarity (typos: "promt" finds "prompt").
- Rank: full-text rank (a hit in an "A" field counts more than one in "C") plus the mean
  trigram similarity of the words to the "A" fields. Ties go to the lower primary key, so the order is
  stable and pagination never repeats an item.
- An empty query (no words) matches nothing.

PostgreSQL: `search_vector` is a weighted `tsvector` (`SearchVector(..., weight=...)`)
stored in the row and written in the same INSERT/UPDATE as the fields (`save()` puts the
expression in place; `search_index_refresh` does it for a queryset after bulk writes), with
a GIN index; matching uses a prefix `tsquery` and `word_similarity()` from pg_trgm (the
extension is enabled by `common/migrations/0001_pg_trgm.py`, which models that search
depend on). `SearchRank` ranks.

SQLite (the embedded default): the same rules computed in Python over the queryset's
rows (their searchable fields only), with the same trigram measure as pg_trgm; good for
development and tests, not for large tables. The column stays empty there.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import ClassVar

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorField,
    TrigramWordSimilarity,
)
from django.db import connections, models
from django.db.models import Case, F, FloatField, Q, Value, When
from django.db.models.functions import Greatest
from django.utils.safestring import SafeString, mark_safe

SEARCH_CONFIG = "english"
# PostgreSQL's default ts_rank weights for D, C, B, A; the SQLite fallback uses the same.
WEIGHT_VALUES = {"A": 1.0, "B": 0.4, "C": 0.2, "D": 0.1}
# Below this word similarity a near-miss is noise (a typo of one letter in a 5-letter word is 0.67).
MIN_SIMILARITY = 0.5
MAX_QUERY_WORDS = 8
_WORD = re.compile(r"\w+", re.UNICODE)


class SearchIndexed(models.Model):
    """A model whose rows carry their own weighted search document.

    Subclasses set SEARCH_FIELDS: {field name: weight "A".."D"}. At least one field has
    weight "A" (the typo-tolerant match looks at those).
    """

    SEARCH_FIELDS: ClassVar[dict[str, str]] = {}

    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # A derived column, not a business rule: written in the same statement as the fields.
        update_fields = kwargs.get("update_fields")
        if _is_postgres(kwargs.get("using") or self._state.db or "default"):
            if update_fields is None or set(update_fields) & set(self.SEARCH_FIELDS):
                self.search_vector = _vector_of_values(self)
                if update_fields is not None:
                    kwargs["update_fields"] = {*update_fields, "search_vector"}
        super().save(*args, **kwargs)
        # The attribute held an expression: forget it, a later read loads the stored value.
        self.__dict__.pop("search_vector", None)


def search_indexes(prefix: str) -> list[models.Index]:
    """The GIN index on the stored document, for a model's Meta.indexes (SQLite gets a plain one)."""
    return [GinIndex(fields=["search_vector"], name=f"{prefix}_search_gin"[:30])]


def search_words(query: str) -> list[str]:
    """The words of a query, lower case, at most MAX_QUERY_WORDS."""
    return [w.lower() for w in _WORD.findall(query or "")][:MAX_QUERY_WORDS]


def search_rank(*, queryset: models.QuerySet, query: str, min_similarity: float = MIN_SIMILARITY) -> models.QuerySet:
    """The items of `queryset` that match `query`, best first, annotated with `search_rank`.

    Filters and slices compose as usual on the returned queryset (filter before calling
    when you can: on SQLite the ranking reads every row of the queryset).
    """
    words = search_words(query)
    if not words:
        return queryset.none()
    model = queryset.model
    if _is_postgres(queryset.db):
        return _rank_postgres(queryset, model, words, min_similarity)
    return _rank_python(queryset, model, words, min_similarity)


def search_index_refresh(*, queryset: models.QuerySet) -> int:
    """Recompute the stored document of every row (after bulk_create/update); returns the row count."""
    if not _is_postgres(queryset.db):
        return 0
    model = queryset.model
    vector = _combine(
        SearchVector(F(name), weight=weight, config=SEARCH_CONFIG)
        for name, weight in model.SEARCH_FIELDS.items()
    )
    return queryset.update(search_vector=vector)


def search_snippet(*, text: str, query: str, length: int = 180) -> SafeString:
    """An escaped excerpt of `text` around the first matching word, matches wrapped in <mark>."""
    text = " ".join((text or "").split())
    words = search_words(query)
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\w*", re.IGNORECASE) if words else None
    first = pattern.search(text) if pattern else None
    start = max(0, first.start() - length // 3) if first else 0
    if start:
        # Start on a word boundary.
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < (first.start() if first else len(text)) else start
    excerpt = text[start : start + length]
    cut_end = start + length < len(text)
    escaped = html.escape(excerpt)
    if pattern:
        # Matching runs on escaped text: a word is letters and digits, which escaping leaves alone.
        escaped = pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped)
    return mark_safe(("… " if start else "") + escaped + (" …" if cut_end else ""))  # noqa: S308 (escaped above)


# --- PostgreSQL --------------------------------------------------------------------------


def _is_postgres(alias: str) -> bool:
    return connections[alias].vendor == "postgresql"


def _combine(vectors: Iterable[SearchVector]) -> SearchVector:
    vectors = list(vectors)
    combined = vectors[0]
    for vector in vectors[1:]:
        combined = combined + vector
    return combined


def _vector_of_values(instance: SearchIndexed) -> SearchVector:
    return _combine(
        SearchVector(Value(str(getattr(instance, name) or "")), weight=weight, config=SEARCH_CONFIG)
        for name, weight in instance.SEARCH_FIELDS.items()
    )


def _title_fields(model) -> list[str]:
    fields = [name for name, weight in model.SEARCH_FIELDS.items() if weight == "A"]
    if not fields:
        raise ValueError(f"{model.__name__}.SEARCH_FIELDS needs at least one field of weight 'A'")
    return fields


def _rank_postgres(queryset, model, words, min_similarity):
    # Words are \w+ only: nothing in them is tsquery syntax. "engin:*" matches prefixes.
    title_fields = _title_fields(model)
    annotations, matches, similarity_sum = {}, Q(), None
    for i, word in enumerate(words):
        prefix = SearchQuery(f"{word}:*", search_type="raw", config=SEARCH_CONFIG)
        per_field = [TrigramWordSimilarity(Value(word), F(name)) for name in title_fields]
        annotations[f"_search_sim{i}"] = per_field[0] if len(per_field) == 1 else Greatest(*per_field)
        matches &= Q(search_vector=prefix) | Q(**{f"_search_sim{i}__gte": min_similarity})
        similarity_sum = F(f"_search_sim{i}") if similarity_sum is None else similarity_sum + F(f"_search_sim{i}")
    # Ranked on any of the words, so an item missing one (found by its title's likeness) still ranks.
    any_word = SearchQuery(" | ".join(f"{w}:*" for w in words), search_type="raw", config=SEARCH_CONFIG)
    return (
        queryset.annotate(**annotations)
        .filter(matches)
        .annotate(search_rank=SearchRank(F("search_vector"), any_word) + similarity_sum / Value(float(len(words))))
        .order_by("-search_rank", "pk")
    )


# --- SQLite fallback (same rules, in Python) --------------------------------------------------


def _trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams: each word lower-cased, padded with two spaces before and one after."""
    grams: set[str] = set()
    for word in _WORD.findall(text.lower()):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's similarity(): shared trigrams over all distinct trigrams of both."""
    ga, gb = _trigrams(a), _trigrams(b)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / len(ga | gb)


def trigram_word_similarity(query: str, text: str) -> float:
    """Close to pg_trgm's word_similarity(): the best similarity of the query to a run of words of text."""
    query_grams = _trigrams(query)
    words = _WORD.findall(text.lower())
    if not query_grams or not words:
        return 0.0
    best = 0.0
    for size in range(1, len(search_words(query)) + 2):
        for i in range(max(1, len(words) - size + 1)):
            extent = _trigrams(" ".join(words[i : i + size]))
            # word_similarity divides by the query's trigrams, not by the union.
            best = max(best, len(query_grams & extent) / len(query_grams))
            if best == 1.0:
                return best
    return best


def _rank_python(queryset, model, words, min_similarity):
    fields = model.SEARCH_FIELDS
    title_fields = _title_fields(model)
    scores: dict[object, float] = {}
    for row in queryset.order_by().values_list("pk", *fields):
        pk, values = row[0], dict(zip(fields, row[1:], strict=True))
        tokens = {name: _WORD.findall(str(value or "").lower()) for name, value in values.items()}
        score = 0.0
        for word in words:
            hits = [WEIGHT_VALUES[w] for name, w in fields.items() if any(t.startswith(word) for t in tokens[name])]
            hit = max(hits, default=0.0)
            similarity = max(trigram_word_similarity(word, str(values[name] or "")) for name in title_fields)
            if hit == 0.0 and similarity < min_similarity:
                break
            score += (hit + similarity) / len(words)
        else:
            scores[pk] = score
    if not scores:
        return queryset.none()
    rank = Case(*(When(pk=pk, then=Value(score)) for pk, score in scores.items()), output_field=FloatField())
    return queryset.filter(pk__in=list(scores)).annotate(search_rank=rank).order_by("-search_rank", "pk")
