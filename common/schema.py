"""OpenAPI descriptions of the one API error shape (rendered by common.exceptions), for every app's views."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorItemOutput(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ErrorOutput(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    errors = ErrorItemOutput(many=True)
    request_id = serializers.CharField()


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorOutput, description=description)


BAD_REQUEST = error("Invalid, malformed or oversized body.")
UNAUTHENTICATED = error("Missing, invalid, expired or revoked credentials.")
FORBIDDEN = error("Authenticated, but not allowed to do this.")
NOT_FOUND = error("No such resource, or not yours.")
TOO_MANY = error("Locked out or throttled: retry after the Retry-After header's seconds.")


def document_unauthenticated(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation that needs credentials
    documents the 401 it answers without them (in the error shape)."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            security = operation.get("security", [])
            if not security or {} in security:
                continue  # anonymous callers are allowed
            operation["responses"].setdefault(
                "401",
                {
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOutput"}}},
                    "description": UNAUTHENTICATED.description,
                },
            )
    return result
