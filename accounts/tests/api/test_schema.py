"""Every accounts API endpoint is in the OpenAPI schema with its request and response types."""

import pytest
from drf_spectacular.generators import SchemaGenerator

ENDPOINTS = {
    ("/api/v1/auth/token/", "post"): ("TokenObtainInput", "200", "TokenPairOutput"),
    ("/api/v1/auth/token/refresh/", "post"): ("RefreshInput", "200", "TokenPairOutput"),
    ("/api/v1/auth/logout/", "post"): ("RefreshInput", "204", None),
    ("/api/v1/auth/me/", "get"): (None, "200", "MeOutput"),
    ("/api/v1/auth/sessions/", "get"): (None, "200", "PaginatedSessionOutputList"),
    ("/api/v1/auth/sessions/{session_id}/revoke/", "post"): (None, "204", None),
    ("/api/v1/auth/sessions/revoke-all/", "post"): ("RevokeAllInput", "200", "RevokeAllOutput"),
    ("/api/v1/auth/api-key/", "get"): (None, "200", "ApiKeySelfOutput"),
    ("/api/v1/orgs/{org_id}/api-keys/", "get"): (None, "200", "PaginatedApiKeyOutputList"),
    ("/api/v1/orgs/{org_id}/api-keys/", "post"): ("ApiKeyCreateInput", "201", "ApiKeyCreatedOutput"),
    ("/api/v1/orgs/{org_id}/api-keys/{key_id}/revoke/", "post"): (None, "204", None),
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize("path, method", list(ENDPOINTS))
def test_endpoint_is_documented(schema, path, method):
    request_name, ok_status, response_name = ENDPOINTS[(path, method)]
    operation = schema["paths"][path][method]
    assert operation["summary"]

    if request_name:
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{request_name}Request"
    else:
        assert "requestBody" not in operation

    assert ok_status in operation["responses"]
    if response_name:
        content = operation["responses"][ok_status]["content"]["application/json"]["schema"]
        ref = content.get("$ref") or content["items"]["$ref"]
        assert ref == f"#/components/schemas/{response_name}"
    error_statuses = set(operation["responses"]) - {ok_status}
    assert error_statuses
    for status in error_statuses:
        ref = operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/ErrorOutput"
