"""The catalogue's cache (marketplace/cache.py): a search's ranked ids and a listing's count are kept
under the catalogue's generation; the same answers as without it, and never an answer from before a
change (an edit, a publication, a review's stars, a sale). SQLite with the local-memory cache here;
PostgreSQL and Redis in the services run (`DATABASE_URL`, `REDIS_URL`)."""

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from billing.models import Purchase
from marketplace.cache import CatalogueRead, catalogue_changed, catalogue_key
from marketplace.models import PromptTemplate
from marketplace.pagination import CappedPaginator
from marketplace.selectors import BrowseFilters, prompt_template_browse, prompt_template_related
from marketplace.services.ledger import template_purchase_settled
from marketplace.services.reviews import review_create
from marketplace.services.templates import prompt_template_archive, prompt_template_publish, prompt_template_update
from marketplace.tests.factories import MembershipFactory, PromptTemplateFactory
from marketplace.tests.test_discovery import corpus

ASKED = [
    {"query": "email"},
    {"query": "quartely report"},
    {"query": "review", "sort": "price"},
    {"query": "prompt", "category": "coding"},
    {"category": "coding", "sort": "rating"},
    {"sort": "bestselling"},
    {"pricing": "free", "sort": "price"},
    {"tags": ("review",)},
    {},
]


def page(**filters) -> tuple[int, list[str]]:
    paginator = CappedPaginator(prompt_template_browse(filters=BrowseFilters(**filters)), 24)
    return paginator.count, [t.slug for t in paginator.page(1).object_list]


def answers() -> list:
    return [page(**filters) for filters in ASKED]


def seller_member(template) -> MembershipFactory:
    return MembershipFactory(organization=template.seller, role=Role.SELLER)


@pytest.mark.django_db
def test_the_same_answers_with_and_without_the_cache_and_a_hit_reads_only_the_page(settings):
    corpus()
    settings.MARKETPLACE_CATALOGUE_CACHE_SECONDS = 0
    uncached = answers()
    settings.MARKETPLACE_CATALOGUE_CACHE_SECONDS = 60
    assert answers() == uncached  # misses, stored
    with CaptureQueriesContext(connection) as queries:
        assert answers() == uncached  # hits
    # One query per page with results (its rows by primary key), no candidates or counts.
    assert len(queries.captured_queries) == len([count for count, _ in uncached if count])
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


@pytest.mark.django_db
def test_an_edit_a_publication_and_an_archive_show_at_once():
    made = corpus()
    before = page(query="invoice")
    assert before == (0, [])
    template = made["cold-email"]
    actor = seller_member(template).user
    prompt_template_update(template=template, actor=actor, data={"title": "Invoice chaser"})
    assert page(query="invoice") == (1, ["cold-email"])

    draft = PromptTemplateFactory(slug="invoice-draft", title="Invoice reminder", seller=template.seller)
    assert page(query="invoice") == (1, ["cold-email"])  # a draft is not listed
    prompt_template_publish(template=draft, actor=actor)
    assert page(query="invoice")[0] == 2
    assert "invoice-draft" in page(query="invoice")[1]
    count_before = page()[0]
    prompt_template_archive(template=draft, actor=actor)
    assert page(query="invoice") == (1, ["cold-email"])
    assert page()[0] == count_before - 1


@pytest.mark.django_db
def test_a_review_and_a_sale_reorder_at_once():
    made = corpus()
    template = made["regex-builder"]
    assert page(category="coding", min_rating=4)[1] == []
    assert page(category="coding", sort="bestselling")[1][0] != "regex-builder"
    buyer = MembershipFactory(role=Role.BUYER)
    purchase = Purchase.objects.create(
        organization=buyer.organization,
        item_type="prompt_template",
        item_id=template.slug,
        item_name=template.title,
        list_amount=0,
        amount=0,
        status="paid",
    )
    review_create(template=template, organization=buyer.organization, author=buyer.user, rating=5)
    assert page(category="coding", min_rating=4) == (1, ["regex-builder"])
    for _ in range(3):
        template_purchase_settled(purchase)
    assert page(category="coding", sort="bestselling")[1][0] == "regex-builder"


@pytest.mark.django_db
def test_an_answer_read_before_a_change_is_never_served_after_it():
    corpus()
    key = catalogue_key("browse", ["email"], "test")
    late = CatalogueRead(key=key)  # began before the change: the generation is read first
    catalogue_changed()
    late.store([(1, 1.0)])  # its answer arrives after the change
    assert CatalogueRead(key=key).hit is None
    fresh = CatalogueRead(key=key)
    fresh.store([(2, 1.0)])
    assert CatalogueRead(key=key).hit == [(2, 1.0)]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_and_redis_a_change_shows_once_committed(require_postgres, settings):
    # The services run (PostgreSQL, Redis): the on-commit bump, and the candidates query skipped on a hit.
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache"), "needs REDIS_URL"
    made = corpus()
    template = made["launch-post"]
    actor = seller_member(template).user
    assert page(query="webinar") == (0, [])
    with transaction.atomic():
        prompt_template_update(template=template, actor=actor, data={"title": "Webinar launch post"})
        page(query="webinar")  # a read inside the change's transaction, cached under the interim generation
    assert page(query="webinar") == (1, ["launch-post"])
    with CaptureQueriesContext(connection) as queries:
        assert page(query="webinar") == (1, ["launch-post"])
    assert len(queries.captured_queries) == 1
    assert "TS_RANK" not in queries.captured_queries[0]["sql"].upper()
    assert PromptTemplate.objects.get(slug="launch-post").title == "Webinar launch post"


@pytest.mark.django_db
def test_the_api_answers_the_same_from_the_cache(settings):
    corpus()
    client = Client()
    settings.MARKETPLACE_CATALOGUE_CACHE_SECONDS = 0
    urls = ["/api/v1/marketplace/templates/?q=email", "/api/v1/marketplace/templates/?category=coding&sort=price"]
    uncached = [client.get(url).json() for url in urls]
    settings.MARKETPLACE_CATALOGUE_CACHE_SECONDS = 60
    assert [client.get(url).json() for url in urls] == uncached
    assert [client.get(url).json() for url in urls] == uncached


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["prompt", "review", "data"])
def test_a_search_page_holds_the_same_rows_in_the_same_order_as_the_ranked_queryset(query):
    # CappedPaginator reads a relevance-ordered page by its primary keys; the database's own
    # ORDER BY rank over the whole ranked set must give the same pages.
    corpus()
    ranked = prompt_template_browse(filters=BrowseFilters(query=query))
    by_database = list(ranked.values_list("slug", flat=True))  # a clone: ordered by the database
    paginator = CappedPaginator(ranked, 1)
    by_pages = [template.slug for number in paginator.page_range for template in paginator.page(number)]
    assert by_pages == by_database
    assert len(by_database) >= 2


@pytest.mark.django_db
def test_with_the_cache_down_pages_and_edits_still_work(settings, caplog):
    made = corpus()
    expected = answers()
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens: refused at once
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    assert answers() == expected
    template = made["cold-email"]
    prompt_template_update(template=template, actor=seller_member(template).user, data={"title": "Invoice chaser"})
    assert page(query="invoice") == (1, ["cold-email"])
    assert "catalogue cache: unavailable" in caplog.text
    assert "generation not bumped" in caplog.text


@pytest.mark.django_db
def test_related_templates_from_the_cache_are_the_same_and_follow_a_sale(settings):
    made = corpus()
    template = made["sql-explainer"]

    def related(seconds: int) -> list[str]:
        settings.MARKETPLACE_CATALOGUE_CACHE_SECONDS = seconds
        return [other.slug for other in prompt_template_related(template=template)]

    before = related(0)
    assert related(60) == related(60) == before  # a miss, then a hit
    last = made[before[-1]]
    buyer = MembershipFactory(role=Role.BUYER)
    purchase = Purchase.objects.create(
        organization=buyer.organization,
        item_type="prompt_template",
        item_id=last.slug,
        item_name=last.title,
        list_amount=0,
        amount=0,
        status="paid",
    )
    for _ in range(20):
        template_purchase_settled(purchase)
    after = related(60)
    assert after == related(0) != before
