"""Every /api/ response is JSON in the error shape (404 and 405 included, DEBUG or not);
the schema documents 401 on every authenticated operation and pagination on every list."""

import pytest
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _assert_error(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"status", "code", "message", "errors", "request_id"}
    assert (body["status"], body["code"]) == (status, code)
    return body


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_path_is_a_json_404_in_debug_too(debug):
    with override_settings(DEBUG=debug):
        body = _assert_error(APIClient().get("/api/v1/no-such-thing/"), 404, "not_found")
        assert body["message"] == "Not found."
        _assert_error(APIClient().get("/api/nothing-here"), 404, "not_found")


def test_missing_trailing_slash_is_a_json_404_that_names_the_right_path_not_a_redirect():
    response = APIClient().post("/api/v1/auth/token", {"email": "a@example.com", "password": "x"}, format="json")
    body = _assert_error(response, 404, "not_found")
    assert body["message"] == "Not found. Did you mean /api/v1/auth/token/ (with the trailing slash)?"


def test_wrong_method_is_a_json_405():
    body = _assert_error(APIClient().get("/api/v1/auth/token/"), 405, "method_not_allowed")
    assert body["message"] == 'Method "GET" not allowed.'


def _operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_authenticated_operation_documents_401():
    missing = [
        (method, path)
        for path, method, operation in _operations()
        if operation.get("security") and {} not in operation["security"] and "401" not in operation["responses"]
    ]
    assert missing == []
    # And the anonymous ones are exactly the credential endpoints (sign-up included) and buying.
    anonymous = sorted(
        (method, path) for path, method, operation in _operations() if {} in operation.get("security", [{}])
    )
    assert anonymous == [
        ("delete", "/api/v1/content/conversations/{id}/"),  # content's tutor: keyed by the browser session
        ("get", "/api/v1/content/conversations/"),
        ("get", "/api/v1/content/conversations/{id}/"),
        ("get", "/api/v1/content/posts/"),  # content's public reads
        ("get", "/api/v1/content/posts/{id}/"),
        ("get", "/api/v1/content/quizzes/{slug}/"),
        ("get", "/api/v1/content/search/"),
        ("get", "/api/v1/marketplace/templates/"),
        ("get", "/api/v1/marketplace/templates/{slug}/"),
        ("get", "/api/v1/marketplace/templates/{slug}/reviews/"),
        ("patch", "/api/v1/content/conversations/{id}/"),
        ("post", "/api/v1/auth/logout/"),
        ("post", "/api/v1/auth/signup/"),
        ("post", "/api/v1/auth/token/"),
        ("post", "/api/v1/auth/token/refresh/"),
        ("post", "/api/v1/content/conversations/"),
        ("post", "/api/v1/content/conversations/{id}/messages/"),
        ("post", "/api/v1/purchases/"),
    ]


def test_every_list_is_paginated():
    lists, bare = [], []
    for path, _method, operation in _operations():
        schema = operation["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("type") == "array":
            bare.append(path)
        if schema.get("$ref", "").split("/")[-1].startswith("Paginated"):
            lists.append(path)
    assert bare == []
    assert "/api/v1/invoices/" in lists and "/api/v1/subscriptions/" in lists and len(lists) >= 8
