import logging

import pytest

pytestmark = pytest.mark.django_db


def test_unknown_api_path_gets_404_in_the_error_shape(client):
    response = client.get("/api/v1/no-such-thing/", HTTP_X_REQUEST_ID="req-123")
    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "code": "not_found",
        "message": "Not found.",
        "errors": [],
        "request_id": "req-123",
    }


def test_request_id_is_created_when_absent_and_echoed(client):
    response = client.get("/healthz")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32 and request_id.isalnum()


def test_malformed_request_id_is_replaced(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32


def test_request_id_is_on_log_lines(client, caplog):
    from common.logging import RequestIdFilter

    handler_filter = RequestIdFilter()
    caplog.handler.addFilter(handler_filter)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/api/v1/no-such-thing/", HTTP_X_REQUEST_ID="trace-42")
    assert [r.request_id for r in caplog.records if r.name == "django.request"] == ["trace-42"]


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Plateau API"
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
