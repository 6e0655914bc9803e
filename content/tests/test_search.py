"""Search: a relevance suite on a fixed corpus (the demo's courses), filters, the page and the API.

The same expectations hold on SQLite (common.search's Python fallback) and on PostgreSQL
(weighted tsvector + pg_trgm): the services run repeats the relevance suite there.
"""

import pytest
from rest_framework.test import APIClient

from content.demo import seed_demo
from content.selectors import SearchFilters, content_search
from content.tests.factories import LessonFactory

# (query, slug expected in the top 3)
RELEVANCE = [
    ("meeting transcript", "summarising-meeting-transcripts"),
    ("redact customer data", "redacting-customer-data"),
    ("jargon", "translating-internal-jargon"),
    ("bias", "checking-outputs-for-bias"),
    ("accountable", "who-is-accountable-for-ai-output"),
    ("email reply", "tutorial-email-reply-prompt"),
    ("retrieval", "rag-in-practice"),
    ("follow-up emails", "meeting-follow-up-emails"),
    ("numbers summaries", "summaries-that-keep-the-numbers-right"),
    ("responsible", "safe-and-responsible-ai-at-work"),
    ("prompting basics", "prompting-basics"),
    ("invented facts", "spotting-invented-facts"),
    # typos and partial words
    ("spredsheet", "tutorial-prompt-test-sheet"),
    ("strucured output", "structured-output"),
    ("transcrip", "summarising-meeting-transcripts"),
    ("acountable", "who-is-accountable-for-ai-output"),
]


@pytest.fixture
def corpus(db):
    seed_demo()


def top3(query, **filters):
    return [hit.slug for hit in content_search(query=query, filters=SearchFilters(**filters))[:3]]


def _relevance_suite():
    misses = [(query, slug, top3(query)) for query, slug in RELEVANCE if slug not in top3(query)]
    assert misses == []


def test_relevance_suite(corpus):
    _relevance_suite()


@pytest.mark.services
def test_relevance_suite_on_postgres(require_postgres, corpus):
    _relevance_suite()


def test_filters_narrow_the_results(corpus):
    assert {h.type for h in content_search(query="transcript", filters=SearchFilters(type="tutorial"))} == {"tutorial"}
    assert {h.type for h in content_search(query="meeting", filters=SearchFilters(type="quiz"))} == {"quiz"}
    in_course = content_search(query="prompt", filters=SearchFilters(course="safe-and-responsible-ai-at-work"))
    assert in_course and all(h.type in ("lesson", "tutorial") for h in in_course)
    assert "tutorial-email-reply-prompt" not in [h.slug for h in in_course]
    premium = content_search(query="summaries", filters=SearchFilters(tier="premium"))
    assert [h.slug for h in premium] == ["summaries-that-keep-the-numbers-right"]
    assert {h.difficulty for h in content_search(query="data", filters=SearchFilters(difficulty="intermediate"))} == {
        "intermediate"
    }


def test_nothing_for_nonsense(corpus):
    assert content_search(query="kubernetes helm chart") == []


def test_search_page_highlights_and_paginates(client, corpus):
    page = client.get("/learn/search/?q=meeting").content.decode()
    assert "result" in page and '<a href="/learn/lessons/summarising-meeting-transcripts/">' in page
    assert "<mark>meeting</mark>" in page.lower() or "<mark>Meeting</mark>" in page
    many = [LessonFactory(title=f"Zebracheck number {i}", slug=f"check-{i}", free=True) for i in range(12)]
    first = client.get("/learn/search/?q=zebracheck").content.decode()
    assert "12 results for “zebracheck”" in first and '<a href="?q=zebracheck&amp;page=2" id="next-page">' in first
    second = client.get("/learn/search/?q=zebracheck&page=2").content.decode()
    assert second.count('class="card result"') == 2
    assert len(many) == 12


def test_search_page_escapes_the_query(client, corpus):
    page = client.get('/learn/search/?q=<script>alert(1)</script>').content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_search_api(corpus):
    client = APIClient()
    body = client.get("/api/v1/content/search/", {"q": "promt", "page_size": 3}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] >= 1 and len(body["results"]) <= 3
    jargon = client.get("/api/v1/content/search/", {"q": "glossary jargon"}).json()["results"][0]
    assert {k: jargon[k] for k in ["type", "slug", "url", "tier"]} == {
        "type": "lesson", "slug": "translating-internal-jargon", "url": "/learn/lessons/translating-internal-jargon/",
        "tier": "free",
    }
    assert "<mark>glossary</mark>" in jargon["snippet"]
    bad = client.get("/api/v1/content/search/", {"q": "x", "type": "video"})
    assert (bad.status_code, bad.json()["code"]) == (400, "validation_error")
    assert client.get("/api/v1/content/search/").status_code == 400
