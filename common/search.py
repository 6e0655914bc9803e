"""Ranked search, one helper for every app that searches its own models.

A model opts in by inheriting `SearchIndexed` and declaring which of its text fields count
and how much (PostgreSQL's weights, "A" highest to "D" lowest)::

    class Lesson(SearchIndexed):
        title = models.CharField(max_length=200)
        summary = models.TextField(blank=True)
        body = models.TextField()

        SEARCH_FIELDS = {"title": "A", "summary": "B", "body": "C"}

        class Meta:
            indexes = search_indexes("content_lesson")   # GIN on the document, GIN trigram on "title"

Reading::

    ranked = search_rank(queryset=Lesson.objects.published(), query="promt enginering", limit=100)
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
- At most `limit` items (SEARCH_LIMIT unless given), the best ranked. With more matches than
  that, PostgreSQL ranks a bounded set of candidates (below), not every match.
- An empty query (no words) matches nothing.

PostgreSQL: `search_vector` is a weighted `tsvector` (`SearchVector(..., weight=...)`)
stored in the row and written in the same INSERT/UPDATE as the fields (`save()` puts the
expression in place; `search_index_refresh` does it for a queryset after bulk writes).
`search_indexes()` declares a GIN index on it and a GIN trigram index (`gin_trgm_ops`) on
each "A" field, in the model's Meta (pg_trgm is enabled by `common/migrations/0001_pg_trgm.py`,
which models that search depend on). A word matches `search_vector @@ 'word:*'` or
`title %> 'word'` (pg_trgm's word similarity operator; its threshold, MIN_SIMILARITY, is set
transaction-locally by a `set_config` sent in the same message as the candidates' query: one
round trip, nothing left on a pooled connection): both operators are answered by the indexes, so the
candidates are bitmap index scans, never a read of every row. One query finds and ranks the
first `limit` matches (a LIMIT without ORDER BY: it stops reading once it has enough), with
`ts_rank` plus `word_similarity()` computed for those rows only. With fewer matches than the
limit (nearly every real query) that is every match, and the order is exact; with more, a
second query adds the first STRONG_CANDIDATES items with every word in an "A" field
(`'word:*A'`), so the obvious title matches are never left out. The queryset
returned holds the best `limit` by primary key, with their rank, so counting and paging it
read only them.

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
from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorField,
    TrigramWordSimilarity,
)
from django.db import connections, models, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, FloatField, Func, Q, Value
from django.db.models.functions import Greatest
from django.utils.safestring import SafeString, mark_safe

SEARCH_CONFIG = "english"
# PostgreSQL's default ts_rank weights for D, C, B, A; the SQLite fallback uses the same.
WEIGHT_VALUES = {"A": 1.0, "B": 0.4, "C": 0.2, "D": 0.1}
# Below this word similarity a near-miss is noise (a typo of one letter in a 5-letter word is 0.67).
MIN_SIMILARITY = 0.5
MAX_QUERY_WORDS = 8
# How many items a search ranks and returns at most, unless the caller says (search_rank's limit).
SEARCH_LIMIT = 1000
# With more matches than the limit, the items ranked are the first `limit` matches found plus the
# first STRONG_CANDIDATES found with every word in an "A" field. With fewer, every match is ranked.
STRONG_CANDIDATES = 100
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


def search_indexes(prefix: str, trigram_fields: Iterable[str] = ("title",)) -> list[models.Index]:
    """The indexes search reads, for a model's Meta.indexes: GIN on the stored document, and a GIN
    trigram index (gin_trgm_ops) on each "A" field for the typo match. `trigram_fields` must name
    every field of weight "A" (a test checks every SearchIndexed model).

    Declared on the model, so tables built from the models (tests, --nomigrations) have them too.
    SQLite makes plain indexes of them (it has no GIN and ignores the operator class).
    """
    return [
        GinIndex(fields=["search_vector"], name=f"{prefix}_search_gin"[:30]),
        *(
            GinIndex(fields=[name], opclasses=["gin_trgm_ops"], name=f"{prefix}_{name}_trgm"[:30])
            for name in trigram_fields
        ),
    ]


def search_words(query: str) -> list[str]:
    """The words of a query, lower case, at most MAX_QUERY_WORDS."""
    return [w.lower() for w in _WORD.findall(query or "")][:MAX_QUERY_WORDS]


def search_rank(
    *, queryset: models.QuerySet, query: str, min_similarity: float = MIN_SIMILARITY, limit: int = SEARCH_LIMIT
) -> models.QuerySet:
    """The best `limit` items of `queryset` that match `query`, best first, annotated with `search_rank`.

    The candidates are found and ranked when this is called (one or two queries on PostgreSQL); the
    returned queryset holds those items, so counting and slicing it are cheap. Filter before
    calling: a filter added afterwards only narrows the ranked items. Ordering it differently
    (newest first...) orders the same best `limit` items.
    """
    scores = search_scores(queryset=queryset, query=query, min_similarity=min_similarity, limit=limit)
    return search_ranked(queryset=queryset, scores=scores)


def search_scores(
    *, queryset: models.QuerySet, query: str, min_similarity: float = MIN_SIMILARITY, limit: int = SEARCH_LIMIT
) -> list[tuple[object, float]]:
    """`search_rank`'s answer as plain data: [(pk, rank)] of the best `limit` matches, best first
    (a caller may cache it and build the queryset later with `search_ranked`)."""
    words = search_words(query)
    if not words or limit <= 0:
        return []
    model = queryset.model
    if _is_postgres(queryset.db):
        scores = _rank_postgres(queryset, model, words, min_similarity, limit)
    else:
        scores = _rank_python(queryset, model, words, min_similarity)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]


def search_ranked(*, queryset: models.QuerySet, scores: list[tuple[object, float]]) -> models.QuerySet:
    """The items of `scores` (from `search_scores` on this queryset) in `queryset`, best first, with `search_rank`."""
    if not scores:
        return queryset.none()
    ids, ranks = [pk for pk, _ in scores], [rank for _, rank in scores]
    return (
        queryset.filter(pk__in=ids)
        .annotate(search_rank=_RankOf(F("pk"), ids=ids, ranks=ranks))
        .order_by("-search_rank", "pk")
    )


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


_SET_THRESHOLD = "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)"


def _fetch_with_threshold(alias: str, queryset: models.QuerySet, threshold: float) -> list:
    """The rows of `queryset` read with pg_trgm's `%>` meaning "word similarity >= threshold".

    The operator takes its threshold from a setting, not an argument (that is what lets a GIN
    index answer it), and the setting must not outlive the search on a pooled connection
    (PgBouncer in transaction mode included): `set_config(..., true)` lasts until the
    transaction ends. With client-side binding (Django's default for psycopg 3) the setting
    and the query go as one message, which PostgreSQL runs as one implicit transaction: one
    round trip instead of four (BEGIN, SET, the query, COMMIT). With server-side binding a
    message holds one statement: then an atomic block.
    """
    connection = connections[alias]
    sql, params = queryset.query.get_compiler(using=alias).as_sql()
    value = str(threshold)
    with connection.cursor() as cursor:
        if isinstance(cursor.cursor, _client_cursor_class()):
            cursor.execute(f"{_SET_THRESHOLD}; {sql}", [value, *params])
            cursor.nextset()
            return cursor.fetchall()
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute(_SET_THRESHOLD, [value])
        cursor.execute(sql, params)
        return cursor.fetchall()


def _client_cursor_class():
    import psycopg

    return psycopg.ClientCursor


def _rank_postgres(queryset, model, words, min_similarity, limit) -> dict:
    """{pk: rank} of up to `limit` (+ STRONG_CANDIDATES) candidates, found through the indexes and ranked.

    A word matches `search_vector @@ 'word:*'` (the GIN index on the stored document) OR
    `title %> 'word'` (word similarity ≥ min_similarity: the GIN trigram index on each "A"
    field); every word must match. The candidates are the first `limit` matches found (a LIMIT
    without ORDER BY stops reading once it has enough) and, when there are that many, the first
    STRONG_CANDIDATES with every word in an "A" field (`'word:*A'`, a second query). The rank
    (ts_rank, which weighs "A" above "C", plus the mean word_similarity() to the "A" fields) is
    computed in the same queries, for those rows only.
    """
    # Words are \w+ only: nothing in them is tsquery syntax. "engin:*" matches prefixes.
    title_fields = _title_fields(model)
    matches, similarity_sum = Q(), None
    for word in words:
        near = Q()
        for name in title_fields:
            near |= Q(TrigramWordSimilar(F(name), Value(word)))
        matches &= Q(search_vector=_tsquery(f"{word}:*")) | near
        per_field = [TrigramWordSimilarity(Value(word), F(name)) for name in title_fields]
        similarity = per_field[0] if len(per_field) == 1 else Greatest(*per_field)
        similarity_sum = similarity if similarity_sum is None else similarity_sum + similarity
    # Ranked on any of the words, so an item missing one (found by its title's likeness) still ranks.
    rank = SearchRank(F("search_vector"), _tsquery(" | ".join(f"{w}:*" for w in words))) + similarity_sum / Value(
        float(len(words))
    )

    def candidates(condition: Q, size: int, *, check: Q | None = None) -> list:
        ok = Value(True) if check is None else ExpressionWrapper(check, output_field=BooleanField())
        rows = (
            queryset.order_by()
            .filter(condition)
            .annotate(_rank=rank, _ok=ok)
            .values_list("pk", "_rank", "_ok")[:size]
        )
        return _fetch_with_threshold(queryset.db, rows, min_similarity)

    # Every word in an "A" field implies a match, but for stop words (dropped from a tsquery): those
    # rows are checked against the words in the select list, which keeps the planner on the index.
    in_titles = Q(search_vector=_tsquery(" & ".join(f"{w}:*A" for w in words)))
    found = candidates(matches, limit)
    if len(found) >= limit:  # more matches than ranked: add the strongest, wherever they are
        found += candidates(in_titles, min(limit, STRONG_CANDIDATES), check=matches)
    return {pk: score for pk, score, ok in found if ok}


def _tsquery(raw: str) -> SearchQuery:
    return SearchQuery(raw, search_type="raw", config=SEARCH_CONFIG)


class _RankOf(Func):
    """The rank a row was given, looked up by primary key in the ranked lists (one array lookup per row)."""

    output_field = FloatField()

    def __init__(self, pk, *, ids: list, ranks: list[float]):
        super().__init__(pk)
        self.ids, self.ranks = ids, ranks

    def as_sql(self, compiler, connection, **extra_context):
        pk_sql, pk_params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"(%s::float8[])[array_position(%s, {pk_sql})]", (self.ranks, self.ids, *pk_params)
        whens = " ".join("WHEN %s THEN %s" for _ in self.ids)
        params = [value for pair in zip(self.ids, self.ranks, strict=True) for value in pair]
        return f"CASE {pk_sql} {whens} END", (*pk_params, *params)


# --- SQLite fallback (same rules, in Python) --------------------------------------------------


def _trigram_sequence(text: str) -> list[str]:
    """pg_trgm's trigrams in text order: each word lower-cased, padded with two spaces before and one after."""
    grams: list[str] = []
    for word in _WORD.findall(text.lower()):
        padded = f"  {word} "
        grams.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def _trigrams(text: str) -> set[str]:
    return set(_trigram_sequence(text))


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's similarity(): shared trigrams over all distinct trigrams of both."""
    ga, gb = _trigrams(a), _trigrams(b)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / len(ga | gb)


def trigram_word_similarity(query: str, text: str) -> float:
    """pg_trgm's word_similarity(): the best similarity of the query's trigrams to a continuous
    extent of the text's ordered trigrams (so "word" is 0.8 similar to "two words")."""
    query_grams = _trigrams(query)
    sequence = _trigram_sequence(text)
    if not query_grams or not sequence:
        return 0.0
    best = 0.0
    for start, gram in enumerate(sequence):
        if gram not in query_grams:
            continue  # a best extent starts (and ends) on a shared trigram
        extent: set[str] = set()
        for following in sequence[start:]:
            extent.add(following)
            if following in query_grams:
                best = max(best, len(query_grams & extent) / len(query_grams | extent))
        if best == 1.0:
            break
    return best


def _rank_python(queryset, model, words, min_similarity) -> dict:
    """{pk: rank} of every matching row (each row's searchable fields read once)."""
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
    return scores
