"""common.search on a model of its own: the same rules on SQLite (Python) and PostgreSQL (tsvector + pg_trgm).

The model lives only in this module (isolated app registry); its table is made for the
module and dropped after. The PostgreSQL run (`-m services`) uses the same corpus.
"""

import pytest
from django.db import connection, models
from django.test.utils import isolate_apps

from common.search import SearchIndexed, search_index_refresh, search_rank

with isolate_apps("common"):

    class Doc(SearchIndexed):
        title = models.CharField(max_length=200)
        summary = models.TextField(blank=True)
        body = models.TextField(blank=True)
        SEARCH_FIELDS = {"title": "A", "summary": "B", "body": "C"}

        class Meta:
            app_label = "common"


CORPUS = [
    ("Prompt engineering basics", "Write clear instructions for a model.", "Roles, context, examples."),
    ("Summarising meeting notes", "Turn a transcript into decisions.", "Ask for owners and dates. Prompt tips."),
    ("Spreadsheet formulas with AI", "Let a model draft formulas.", "Check each formula on sample rows."),
    ("Retrieval for support teams", "Answer from your help centre.", "Chunk articles, cite sources."),
    ("Data privacy at work", "What never goes into a chat.", "Customer data, secrets, contracts."),
]


@pytest.fixture(scope="module")
def doc_table(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with connection.schema_editor() as editor:
            editor.create_model(Doc)
        yield
        with connection.schema_editor() as editor:
            editor.delete_model(Doc)


@pytest.fixture
def docs(doc_table, db):
    return [Doc.objects.create(title=t, summary=s, body=b) for t, s, b in CORPUS]


def titles(query, queryset=None):
    return [d.title for d in search_rank(queryset=queryset or Doc.objects.all(), query=query)]


def test_prefix_of_a_word_matches(docs):
    assert titles("engin")[0] == "Prompt engineering basics"


def test_title_outranks_body(docs):
    # "prompt" is in the first title and in the second body.
    assert titles("prompt")[:2] == ["Prompt engineering basics", "Summarising meeting notes"]


def test_every_word_must_match_unless_the_title_is_close(docs):
    assert titles("customer secrets") == ["Data privacy at work"]
    assert titles("formulas privacy") == []


def test_typo_finds_the_title(docs):
    assert titles("promt enginering")[0] == "Prompt engineering basics"
    assert titles("spredsheet")[0] == "Spreadsheet formulas with AI"


def test_nothing_for_empty_or_unknown_queries(docs):
    assert titles("") == []
    assert titles("!!! ???") == []
    assert titles("kubernetes") == []


def test_rank_is_annotated_and_composes_with_filters(docs):
    ranked = search_rank(queryset=Doc.objects.exclude(title__startswith="Prompt"), query="prompt")
    assert [d.title for d in ranked] == ["Summarising meeting notes"]
    assert ranked[0].search_rank > 0


def test_ties_are_ordered_by_primary_key(doc_table, db):
    first = Doc.objects.create(title="Same title", body="x")
    second = Doc.objects.create(title="Same title", body="x")
    assert [d.pk for d in search_rank(queryset=Doc.objects.all(), query="same title")] == [first.pk, second.pk]


def test_edits_are_found_at_once(docs):
    doc = docs[4]
    doc.title = "Handling confidential contracts"
    doc.save(update_fields=["title"])
    assert titles("confidential") == ["Handling confidential contracts"]
    assert titles("privacy") == []


def test_bulk_writes_are_found_after_refresh(doc_table, db):
    Doc.objects.bulk_create([Doc(title="Bulk loaded lesson")])
    search_index_refresh(queryset=Doc.objects.all())
    assert titles("bulk") == ["Bulk loaded lesson"]


@pytest.mark.services
def test_postgres_stores_a_weighted_document(require_postgres, docs):
    doc = Doc.objects.get(pk=docs[0].pk)
    assert "'prompt':1A" in doc.search_vector
    with connection.cursor() as cursor:
        cursor.execute("SELECT word_similarity('promt', 'Prompt engineering basics')")
        assert cursor.fetchone()[0] > 0.3


@pytest.mark.services
@pytest.mark.parametrize(
    "query,expected",
    [("engin", "Prompt engineering basics"), ("promt enginering", "Prompt engineering basics"),
     ("customer secrets", "Data privacy at work"), ("spredsheet", "Spreadsheet formulas with AI")],
)
def test_postgres_agrees(require_postgres, docs, query, expected):
    assert titles(query)[0] == expected


def test_limit_keeps_the_best(docs):
    ranked = search_rank(queryset=Doc.objects.all(), query="prompt", limit=1)
    assert [d.title for d in ranked] == ["Prompt engineering basics"]
    assert ranked.count() == 1


def test_past_the_limit_title_matches_still_come_first(doc_table, db):
    # More matches than the limit: PostgreSQL ranks a bounded set of candidates, which always
    # includes items with every word in the title, even when found last.
    Doc.objects.bulk_create([Doc(title=f"Notes {n}", body="a prompt inside the body") for n in range(30)])
    title_match = Doc.objects.create(title="Prompt library", body="")
    search_index_refresh(queryset=Doc.objects.all())
    ranked = list(search_rank(queryset=Doc.objects.all(), query="prompt", limit=5))
    assert len(ranked) == 5
    assert ranked[0].pk == title_match.pk
