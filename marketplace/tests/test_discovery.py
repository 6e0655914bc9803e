"""Discovery: filters, sorting, pagination and shareable links; search relevance on a fixed corpus
(SQLite fallback here, PostgreSQL full-text + trigram in the services run); the template page."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from billing.models import Purchase
from common.search import search_rank
from marketplace.cache import catalogue_changed
from marketplace.forms import BrowseForm
from marketplace.models import Category, PromptTemplate, Review
from marketplace.selectors import BrowseFilters, prompt_template_browse
from marketplace.tests.factories import MembershipFactory, OrganizationFactory, PromptTemplateFactory

# (slug, title, category, tags, seller, price, description)
CORPUS = [
    (
        "cold-email",
        "Cold email opener",
        "marketing",
        "email, sales, outreach",
        "Prompt Forge",
        900,
        "A first email to a prospect that leads with their problem.",
    ),
    (
        "launch-post",
        "Product launch post",
        "marketing",
        "launch, social, linkedin",
        "Prompt Forge",
        1200,
        "Announce a release on LinkedIn without sounding like an advert.",
    ),
    (
        "sql-explainer",
        "SQL query explainer",
        "coding",
        "sql, database, review",
        "Data Dojo",
        700,
        "Explains what a query does, line by line, and where it may be slow.",
    ),
    (
        "regex-builder",
        "Regular expression builder",
        "coding",
        "regex, parsing",
        "Data Dojo",
        500,
        "Builds and explains a regular expression from examples.",
    ),
    (
        "unit-tests",
        "Unit test writer",
        "coding",
        "testing, pytest, python",
        "Code Kitchen",
        1500,
        "Writes pytest unit tests for a function, edge cases first.",
    ),
    (
        "code-review",
        "Code review checklist",
        "coding",
        "review, pull request",
        "Code Kitchen",
        0,
        "A reviewer's checklist for a pull request, tuned to the language.",
    ),
    (
        "meeting-summary",
        "Meeting summary",
        "productivity",
        "meetings, notes",
        "Notes & Co",
        600,
        "Turns raw notes into decisions, owners and deadlines.",
    ),
    (
        "weekly-plan",
        "Weekly planner",
        "productivity",
        "planning, calendar",
        "Notes & Co",
        0,
        "Plans a week around three priorities and fixed meetings.",
    ),
    (
        "blog-outline",
        "Blog post outline",
        "writing",
        "blog, seo, outline",
        "Prompt Forge",
        800,
        "An outline with headings, key points and a hook.",
    ),
    (
        "press-release",
        "Press release draft",
        "writing",
        "press, pr, announcement",
        "Prompt Forge",
        1900,
        "A press release in the inverted pyramid style.",
    ),
    (
        "churn-analysis",
        "Churn analysis plan",
        "data",
        "churn, retention, cohorts",
        "Data Dojo",
        2500,
        "Plans an analysis of why customers leave, by cohort.",
    ),
    (
        "dashboard-kpis",
        "Dashboard KPI picker",
        "data",
        "kpi, dashboard, metrics",
        "Data Dojo",
        1100,
        "Picks the five KPIs a dashboard should show, with definitions.",
    ),
    (
        "interview-questions",
        "Interview question set",
        "productivity",
        "hiring, interview",
        "Code Kitchen",
        700,
        "Structured interview questions for a role, with what good looks like.",
    ),
    (
        "translation-polish",
        "Translation polisher",
        "writing",
        "translation, localization",
        "Notes & Co",
        400,
        "Makes a machine translation read as if written by a native speaker.",
    ),
]

# (query, the slug expected in the top 3): exact words, prefixes, typos, tags and seller names.
RELEVANCE = [
    ("cold email", "cold-email"),
    ("colld emal", "cold-email"),
    ("sql", "sql-explainer"),
    ("SQL explaner", "sql-explainer"),
    ("regex", "regex-builder"),
    ("regular expresion", "regex-builder"),
    ("pytest", "unit-tests"),
    ("unit tesst writer", "unit-tests"),
    ("meeting sumary", "meeting-summary"),
    ("churn", "churn-analysis"),
    ("retention", "churn-analysis"),
    ("press relase", "press-release"),
    ("dashbord kpi", "dashboard-kpis"),
    ("linkedin launch", "launch-post"),
    ("translat", "translation-polish"),
    ("interview", "interview-questions"),
]


def corpus() -> dict[str, PromptTemplate]:
    sellers = {}
    made = {}
    for slug, title, category, tags, seller, price, description in CORPUS:
        if seller not in sellers:
            sellers[seller] = OrganizationFactory(name=seller)
        made[slug] = PromptTemplateFactory(
            published=True,
            slug=slug,
            title=title,
            category=category,
            tags=tags,
            seller=sellers[seller],
            price_amount=price,
            description=description,
        )
    return made


def slugs(**filters) -> list[str]:
    return list(prompt_template_browse(filters=BrowseFilters(**filters)).values_list("slug", flat=True))


def check_relevance():
    corpus()
    misses = []
    for query, expected in RELEVANCE:
        top = slugs(query=query)[:3]
        if expected not in top:
            misses.append((query, expected, top))
    assert misses == []
    assert slugs(query="Code Kitchen")[:3] and set(slugs(query="Code Kitchen")[:3]) <= {
        "unit-tests",
        "code-review",
        "interview-questions",
    }
    assert slugs(query="zzzz qqqq") == []


@pytest.mark.django_db
def test_search_finds_the_expected_template_in_the_top_three_on_sqlite():
    check_relevance()


@pytest.mark.services
@pytest.mark.django_db
def test_search_finds_the_expected_template_in_the_top_three_on_postgresql(require_postgres):
    check_relevance()


@pytest.mark.services
@pytest.mark.django_db
@pytest.mark.parametrize("query", ["launch email", "quartely report"])
def test_search_finds_its_candidates_through_the_indexes_on_postgresql(require_postgres, query):
    # The candidates come from the stored document's GIN index and the title's trigram index (typos),
    # never from reading every template: with sequential and plain index scans priced out (so that
    # a table this small still shows it), the plan of the candidates' query reads both GIN indexes.
    # (On all templates: the catalogue's own filters could be read from a partial index first.)
    corpus()
    with CaptureQueriesContext(connection) as queries:
        list(search_rank(queryset=PromptTemplate.objects.all(), query=query))
    (sent,) = [q["sql"] for q in queries.captured_queries if "TS_RANK" in q["sql"].upper()]
    # Sent as one message after the trigram threshold's set_config (common.search: one round trip).
    threshold, candidates = sent.split("; ", 1)
    assert threshold == "SELECT set_config('pg_trgm.word_similarity_threshold', '0.5', true)"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + candidates)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on marketplace_prompttemplate" not in plan, plan
    assert "mkt_template_search_gin" in plan and "mkt_template_title_trgm" in plan, plan


@pytest.mark.django_db
def test_filters_combine_and_sorts_order():
    made = corpus()
    made["sql-explainer"].rating_count, made["sql-explainer"].rating_sum = 2, 9
    made["sql-explainer"].rating_average = Decimal("4.50")
    made["regex-builder"].rating_count, made["regex-builder"].rating_sum = 1, 3
    made["regex-builder"].rating_average = Decimal("3.00")
    made["unit-tests"].sales_count = 7
    made["code-review"].sales_count = 3
    for template in made.values():
        template.save()
    PromptTemplateFactory(slug="draft-coding", category=Category.CODING)  # drafts are never listed
    PromptTemplateFactory(published=True, slug="unlisted", category=Category.CODING, visibility="unlisted")

    assert slugs(category="coding", sort="price") == ["code-review", "regex-builder", "sql-explainer", "unit-tests"]
    assert slugs(category="coding", sort="-price")[0] == "unit-tests"
    assert slugs(category="coding", sort="rating")[:2] == ["sql-explainer", "regex-builder"]
    assert slugs(category="coding", sort="bestselling")[:2] == ["unit-tests", "code-review"]
    assert slugs(min_rating=Decimal("4")) == ["sql-explainer"]
    assert slugs(pricing="free", sort="price") == ["code-review", "weekly-plan"]
    assert slugs(price_min=1500, price_max=2000, sort="price") == ["unit-tests", "press-release"]
    assert slugs(tags=("review",), sort="price") == ["code-review", "sql-explainer"]
    assert slugs(tags=("review", "sql")) == ["sql-explainer"]
    assert slugs(tags=("revie",)) == []  # a whole tag, not part of one
    assert slugs(seller="org-does-not-exist") == []
    seller_slug = made["churn-analysis"].seller.slug
    assert sorted(slugs(seller=seller_slug)) == ["churn-analysis", "dashboard-kpis", "regex-builder", "sql-explainer"]
    assert slugs(query="review", category="coding", pricing="paid") == ["sql-explainer"]


@pytest.mark.django_db
def test_the_catalogue_page_keeps_filters_in_its_links_and_paginates():
    seller = OrganizationFactory(name="Bulk")
    for n in range(30):
        PromptTemplateFactory(published=True, seller=seller, slug=f"bulk-{n:02d}", price_amount=100 + n, tags="bulk")
    html = Client().get("/marketplace/?tags=bulk&sort=price").content.decode()
    assert '<p class="muted" id="result-count">30 templates</p>' in html
    assert html.count('class="card template-card"') == 24
    assert '<a href="?tags=bulk&amp;sort=price&amp;page=2" rel="next">Next</a>' in html
    assert 'data-sort="price">Price: low to high</strong>' in html
    assert '<a href="?tags=bulk&amp;sort=-price" data-sort="-price">' in html
    assert '<a href="?tags=bulk&amp;sort=price&amp;category=coding" data-category="coding">' in html
    second = Client().get("/marketplace/?tags=bulk&sort=price&page=2").content.decode()
    assert second.count('class="card template-card"') == 6
    assert 'id="template-bulk-29"' in second and 'id="template-bulk-00"' not in second

    searched = Client().get("/marketplace/?q=Prompt+templat").content.decode()
    assert 'data-sort="relevance">Relevance</strong>' in searched
    bad = Client().get("/marketplace/?price_min=abc&min_rating=9&sort=nonsense").content.decode()
    assert '<p class="muted" id="result-count">30 templates</p>' in bad  # bad values are left out, not a 500


def test_the_browse_form_turns_a_query_string_into_filters():
    form = BrowseForm({"q": " sql ", "tags": "SQL, review,", "price_min": "5", "price_max": "19.99", "min_rating": "4"})
    assert form.is_valid()
    assert form.filters() == BrowseFilters(
        query="sql", tags=("sql", "review"), price_min=500, price_max=1999, min_rating=Decimal("4")
    )


@pytest.mark.django_db
def test_the_template_page_shows_rating_reviews_related_and_the_price_in_at_most_nine_queries():
    made = corpus()
    template = made["sql-explainer"]
    buyer = MembershipFactory(role=Role.BUYER)
    for n, stars in enumerate([5, 4, 5]):
        member = MembershipFactory()
        Purchase.objects.create(
            organization=member.organization,
            item_type="prompt_template",
            item_id=template.slug,
            item_name="x",
            list_amount=700,
            amount=700,
            status="paid",
        )
        from marketplace.services.reviews import review_create

        review_create(
            template=template, organization=member.organization, author=member.user, rating=stars, text=f"Review {n}"
        )
    client = Client()
    client.force_login(buyer.user)
    client.get(f"/marketplace/{template.slug}/")  # warm the session and caches
    with CaptureQueriesContext(connection) as queries:
        html = client.get(f"/marketplace/{template.slug}/").content.decode()
    # Session, user, memberships (twice: the viewer and the header), template, owned items, discounts,
    # reviews, related; the rating's distribution is stored on the template (no grouped query).
    assert len(queries) <= 9, "\n".join(q["sql"][:150] for q in queries.captured_queries)
    assert '<strong data-average="4.67">4.67</strong> out of 5 · 3 reviews</p>' in html
    assert '<tr data-stars="5"><th>5 ★</th><td><progress max="100" value="67">67%</progress></td>' in html
    assert html.count('<article class="review"') == 3
    assert "Buy for $7.00" in html
    related = html.split('id="related"')[1]
    # Same category; sharing the "review" tag first.
    assert related.index("Code review checklist") < related.index("Unit test writer")
    assert "SQL query explainer" not in related
    assert Review.objects.count() == 3


@pytest.mark.django_db
def test_counts_stop_at_the_cap_on_the_page_and_in_the_api(monkeypatch):
    from rest_framework.test import APIClient

    from marketplace import pagination

    monkeypatch.setattr(pagination, "COUNT_CAP", 5)
    seller = OrganizationFactory()
    for n in range(7):
        PromptTemplateFactory(published=True, seller=seller, slug=f"capped-{n}")
    html = Client().get("/marketplace/").content.decode()
    assert '<p class="muted" id="result-count">5+ templates</p>' in html
    assert APIClient().get("/api/v1/marketplace/templates/").json()["count"] == 6
    PromptTemplate.objects.filter(slug__in=["capped-0", "capped-1", "capped-2"]).delete()
    catalogue_changed()  # a write outside the services says so, or the cached count stays up to its expiry
    assert '<p class="muted" id="result-count">4 templates</p>' in Client().get("/marketplace/").content.decode()


@pytest.mark.django_db
def test_a_search_ranks_and_counts_up_to_its_own_cap(monkeypatch):
    from rest_framework.test import APIClient

    from marketplace import pagination

    monkeypatch.setattr(pagination, "SEARCH_COUNT_CAP", 3)
    seller = OrganizationFactory()
    for n in range(5):
        PromptTemplateFactory(published=True, seller=seller, slug=f"ranked-{n}", title=f"Ranked prompt {n}")
    assert '<p class="muted" id="result-count">3+ templates for “prompt”</p>' in (
        Client().get("/marketplace/?q=prompt").content.decode()
    )
    assert APIClient().get("/api/v1/marketplace/templates/?q=prompt").json()["count"] == 4
    assert APIClient().get("/api/v1/marketplace/templates/").json()["count"] == 5  # browsing keeps COUNT_CAP


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_trigram_threshold_does_not_outlive_the_search_on_its_connection(require_postgres):
    # set_config(..., true) travels with the candidates' query as one implicit transaction: the typo
    # is found with MIN_SIMILARITY (word_similarity('explaner', 'SQL query explainer') is 0.58, under
    # pg_trgm's default 0.6), and the connection keeps that default afterwards.
    corpus()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('pg_trgm.word_similarity_threshold')")
        (default,) = cursor.fetchone()
    assert "sql-explainer" in [t.slug for t in search_rank(queryset=PromptTemplate.objects.all(), query="explaner")]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('pg_trgm.word_similarity_threshold')")
        assert cursor.fetchone() == (default,)
    assert default != "0.5"
