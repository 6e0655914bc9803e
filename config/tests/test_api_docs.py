"""docs/api.md stays true: every endpoint in the OpenAPI schema is listed there."""

import re

import pytest
from django.conf import settings


@pytest.mark.django_db
def test_every_schema_endpoint_is_in_the_api_reference(client):
    schema = client.get("/api/schema/?format=json").json()
    documented = set(
        re.findall(
            r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \|",
            (settings.BASE_DIR / "docs" / "api.md").read_text(),
            re.M,
        )
    )
    in_schema = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert sorted(in_schema - documented) == []
