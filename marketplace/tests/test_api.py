"""/api/v1/marketplace/: catalogue, detail, render, library, reviews, seller endpoints; isolation; schema."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services.api_keys import api_key_create
from billing.models import Purchase
from marketplace.models import PromptTemplate, Review
from marketplace.tests.factories import MembershipFactory, OrganizationFactory, PromptTemplateFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/marketplace"


def as_user(membership) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=membership.user)
    return client


def owns(template, organization) -> Purchase:
    return Purchase.objects.create(
        organization=organization,
        item_type="prompt_template",
        item_id=template.slug,
        item_name=template.title,
        list_amount=template.price_amount,
        amount=template.price_amount,
        status="paid",
    )


def test_the_list_searches_filters_sorts_and_paginates():
    seller = OrganizationFactory(name="Prompt Forge", slug="prompt-forge")
    PromptTemplateFactory(published=True, seller=seller, slug="cold-email", title="Cold email opener", price_amount=900)
    PromptTemplateFactory(published=True, seller=seller, slug="sql", title="SQL explainer", category="coding")
    PromptTemplateFactory(published=True, slug="free-one", title="Free planner", price_amount=0, tags="planning")
    PromptTemplateFactory(slug="a-draft", title="Cold email draft")
    body = APIClient().get(f"{API}/templates/", {"q": "cold emal"}).json()
    assert (body["count"], [t["slug"] for t in body["results"]]) == (1, ["cold-email"])
    assert body["results"][0] == {
        "slug": "cold-email",
        "title": "Cold email opener",
        "description": "Writes a short email.",
        "category": "writing",
        "tags": ["email", "sales"],
        "seller": {"name": "Prompt Forge", "slug": "prompt-forge"},
        "price_amount": 900,
        "currency": "usd",
        "rating_average": "0.00",
        "rating_count": 0,
        "sales_count": 0,
        "published_at": "2026-11-01T09:00:00Z",
    }
    priced = APIClient().get(f"{API}/templates/", {"sort": "price", "page_size": 2}).json()
    assert ([t["slug"] for t in priced["results"]], priced["count"]) == (["free-one", "cold-email"], 3)
    assert priced["next"].endswith("page=2&page_size=2&sort=price")
    assert [t["slug"] for t in APIClient().get(f"{API}/templates/", {"pricing": "free"}).json()["results"]] == [
        "free-one"
    ]
    assert [
        t["slug"]
        for t in APIClient()
        .get(f"{API}/templates/", {"seller": "prompt-forge", "category": "coding"})
        .json()["results"]
    ] == ["sql"]
    bad = APIClient().get(f"{API}/templates/", {"min_rating": "9"})
    assert (bad.status_code, bad.json()["code"], bad.json()["errors"][0]["field"]) == (
        400,
        "validation_error",
        "min_rating",
    )


@pytest.mark.parametrize("query", [{}, {"q": "planner"}, {"q": "planner", "sort": "price"}])
def test_a_list_page_costs_the_same_queries_for_two_or_twelve_templates(query, settings):
    # The rows are read with the catalogue's columns only (selectors.CATALOGUE_FIELDS): a field the
    # serializer reads outside them would cost one more query per template.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.MARKETPLACE_CATALOGUE_CACHE_SECONDS = 0  # the factories change the catalogue behind its cache
    client = APIClient()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            body = client.get(f"{API}/templates/", query).json()
        assert all(item["title"] and item["seller"]["slug"] and item["published_at"] for item in body["results"])
        return len(captured)

    for _ in range(2):
        PromptTemplateFactory(published=True, title="Weekly planner", tags="planning, weekly")
    few = queries()
    for _ in range(10):
        PromptTemplateFactory(published=True, title="Daily planner")
    assert queries() == few


def test_detail_shows_the_price_to_pay_and_the_body_only_once_owned_and_render_is_for_owners():
    template = PromptTemplateFactory(published=True, slug="launch", price_amount=1900)
    anonymous = APIClient().get(f"{API}/templates/launch/").json()
    assert (anonymous["offer"], anonymous["body"]) == ({"owned": False, "amount": 1900}, None)
    assert anonymous["rating"] == {"average": "0.00", "count": 0, "distribution": {str(n): 0 for n in range(5, 0, -1)}}

    buyer = MembershipFactory()
    client = as_user(buyer)
    refused = client.post(f"{API}/templates/launch/render/", {"values": {"topic": "x"}}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert APIClient().post(f"{API}/templates/launch/render/", {}, format="json").status_code == 401

    owns(template, buyer.organization)
    detail = client.get(f"{API}/templates/launch/").json()
    assert (detail["offer"], detail["body"]) == ({"owned": True, "amount": None}, template.body)
    rendered = client.post(f"{API}/templates/launch/render/", {"values": {"topic": "our launch"}}, format="json")
    assert rendered.json() == {"text": "Write a formal email about our launch in 100 words."}
    missing = client.post(f"{API}/templates/launch/render/", {"values": {"words": "ten"}}, format="json").json()
    assert (missing["status"], missing["code"]) == (400, "validation_error")
    assert sorted((e["field"], e["message"]) for e in missing["errors"]) == [
        ("topic", "This variable is required."),
        ("words", "Enter a number, like 3 or 2.5."),
    ]


def test_drafts_and_libraries_of_another_organization_are_404():
    draft = PromptTemplateFactory(slug="secret")
    colleague = MembershipFactory(organization=draft.seller, role=Role.BUYER)
    assert as_user(colleague).get(f"{API}/templates/secret/").json()["body"] == draft.body
    stranger = MembershipFactory()
    for path in (f"{API}/templates/secret/", f"{API}/templates/secret/reviews/"):
        assert as_user(stranger).get(path).status_code == 404
        assert APIClient().get(path).status_code == 404
    assert as_user(stranger).post(f"{API}/templates/secret/render/", {}, format="json").status_code == 404

    bought = PromptTemplateFactory(published=True, slug="bought")
    owns(bought, colleague.organization)
    library = as_user(colleague).get(f"{API}/library/").json()
    assert [t["slug"] for t in library["results"]] == ["bought"]
    assert as_user(stranger).get(f"{API}/library/").json()["count"] == 0
    assert as_user(stranger).get(f"{API}/library/", {"customer": colleague.organization.pk}).status_code == 404
    assert APIClient().get(f"{API}/library/").status_code == 401

    admin = MembershipFactory(organization=colleague.organization, role=Role.ADMIN)
    key = api_key_create(organization=colleague.organization, name="sdk", created_by=admin.user).secret
    sdk = APIClient()
    sdk.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert [t["slug"] for t in sdk.get(f"{API}/library/").json()["results"]] == ["bought"]
    assert sdk.get(f"{API}/library/", {"customer": stranger.organization.pk}).json()["count"] == 1  # the key's own


def test_reviews_crud_and_the_sellers_single_reply():
    template = PromptTemplateFactory(published=True, slug="reviewed")
    buyer, other = MembershipFactory(), MembershipFactory()
    owns(template, buyer.organization)
    created = as_user(buyer).post(f"{API}/templates/reviewed/reviews/", {"rating": 4, "text": "Good"}, format="json")
    assert created.status_code == 201
    review_id = created.json()["id"]
    again = as_user(buyer).post(f"{API}/templates/reviewed/reviews/", {"rating": 5}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_reviewed")
    refused = as_user(other).post(f"{API}/templates/reviewed/reviews/", {"rating": 5}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "owners_only")

    assert as_user(other).patch(f"{API}/reviews/{review_id}/", {"rating": 1}, format="json").status_code == 403
    assert as_user(buyer).patch(f"{API}/reviews/{review_id}/", {"rating": 2}, format="json").json()["rating"] == 2
    template.refresh_from_db()
    assert (template.rating_count, template.rating_sum) == (1, 2)

    seller = MembershipFactory(organization=template.seller, role=Role.SELLER)
    reply = as_user(seller).post(f"{API}/reviews/{review_id}/reply/", {"text": "Thanks"}, format="json")
    assert reply.json()["seller_reply"] == "Thanks"
    second = as_user(seller).post(f"{API}/reviews/{review_id}/reply/", {"text": "Again"}, format="json")
    assert (second.status_code, second.json()["code"]) == (409, "already_replied")
    listed = APIClient().get(f"{API}/templates/reviewed/reviews/").json()
    assert [(r["rating"], r["seller_reply"]) for r in listed["results"]] == [(2, "Thanks")]

    assert as_user(other).delete(f"{API}/reviews/{review_id}/").status_code == 403
    assert as_user(buyer).delete(f"{API}/reviews/{review_id}/").status_code == 204
    assert Review.objects.count() == 0


def test_seller_endpoints_create_publish_and_report_and_are_isolated():
    seller = MembershipFactory(role=Role.SELLER)
    org = seller.organization.pk
    client = as_user(seller)
    body = {
        "title": "Standup notes",
        "description": "Turns a standup into notes.",
        "category": "productivity",
        "body": "Summarise {{notes}} as {{style}}.",
        "variables": [
            {"name": "notes", "type": "text"},
            {"name": "style", "type": "choice", "choices": ["bullets", "prose"], "default": "bullets"},
        ],
        "price_amount": 300,
    }
    created = client.post(f"{API}/seller/{org}/templates/", body, format="json")
    assert (created.status_code, created.json()["slug"], created.json()["status"]) == (201, "standup-notes", "draft")
    broken = client.patch(f"{API}/seller/{org}/templates/standup-notes/", {"body": "Only {{notes}}."}, format="json")
    assert broken.status_code == 200  # a draft may be inconsistent...
    refused = client.post(f"{API}/seller/{org}/templates/standup-notes/publish/")
    assert (refused.status_code, refused.json()["errors"]) == (
        400,
        [{"field": "variables", "message": 'Variable "style" is declared but not used in the body.'}],
    )  # ...but is not published so
    client.patch(
        f"{API}/seller/{org}/templates/standup-notes/", {"body": "Summarise {{notes}} as {{style}}."}, format="json"
    )
    published = client.post(f"{API}/seller/{org}/templates/standup-notes/publish/").json()
    assert published["status"] == "published"
    stats = client.get(f"{API}/seller/{org}/stats/").json()
    assert (stats["balances"], stats["views"], stats["templates"][0]["slug"]) == ([], None, "standup-notes")
    assert client.get(f"{API}/seller/{org}/ledger/").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
        "payouts": [],
    }

    stranger = as_user(MembershipFactory(role=Role.SELLER))
    buyer_member = as_user(MembershipFactory(organization=seller.organization, role=Role.BUYER))
    paths = [
        ("get", f"{API}/seller/{org}/templates/"),
        ("post", f"{API}/seller/{org}/templates/"),
        ("get", f"{API}/seller/{org}/templates/standup-notes/"),
        ("patch", f"{API}/seller/{org}/templates/standup-notes/"),
        ("post", f"{API}/seller/{org}/templates/standup-notes/unpublish/"),
        ("post", f"{API}/seller/{org}/templates/standup-notes/archive/"),
        ("get", f"{API}/seller/{org}/stats/"),
        ("get", f"{API}/seller/{org}/ledger/"),
    ]
    for method, path in paths:
        assert getattr(stranger, method)(path, {"title": "x"}, format="json").status_code == 404, path
        assert getattr(buyer_member, method)(path, {"title": "x"}, format="json").status_code == 403, path
        assert getattr(APIClient(), method)(path, {"title": "x"}, format="json").status_code == 401, path
    template = PromptTemplate.objects.get()
    assert (template.status, template.title, PromptTemplate.objects.count()) == ("published", "Standup notes", 1)


def test_the_marketplace_api_is_in_the_openapi_schema():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    for path in (
        "/api/v1/marketplace/templates/",
        "/api/v1/marketplace/templates/{slug}/render/",
        "/api/v1/marketplace/library/",
        "/api/v1/marketplace/reviews/{review_id}/",
        "/api/v1/marketplace/seller/{seller_id}/stats/",
    ):
        assert path in schema["paths"], path


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"{API}/library/"),
        ("get", f"{API}/seller/1/templates/"),
        ("post", f"{API}/seller/1/templates/"),
        ("get", f"{API}/seller/1/stats/"),
    ],
)
def test_anonymous_calls_to_the_library_and_seller_endpoints_are_401_in_the_error_shape(method, path):
    response = getattr(APIClient(), method)(path, {}, format="json")
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"status", "code", "message", "errors", "request_id"}
    assert (body["status"], body["code"]) == (401, "not_authenticated")


def test_the_schema_documents_marketplace_lists_as_paginated_and_401_where_a_person_is_needed():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

    def ok_schema(path, method):
        return paths[path][method]["responses"]["200"]["content"]["application/json"]["schema"]

    for path in ("library/", "seller/{seller_id}/templates/", "templates/", "templates/{slug}/reviews/"):
        assert ok_schema(f"{API}/{path}", "get")["$ref"].split("/")[-1].startswith("Paginated"), path
    public = {
        ("get", f"{API}/templates/"),
        ("get", f"{API}/templates/{{slug}}/"),
        ("get", f"{API}/templates/{{slug}}/reviews/"),
    }
    for path, item in paths.items():
        if not path.startswith(f"{API}/"):
            continue
        for method, operation in item.items():
            assert ({} in operation["security"]) == ((method, path) in public), (method, path)
            if (method, path) not in public:
                assert "401" in operation["responses"], (method, path)
