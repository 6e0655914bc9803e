"""One JSON shape for every API error.

    {"status": 400, "code": "validation_error", "message": "...",
     "errors": [{"field": "email", "message": "..."}], "request_id": "..."}

DRF's exceptions, Django's Http404/PermissionDenied and anything unexpected all go
through `api_exception_handler`; plain Django 404/500 under /api/ go through
`api_error_response` from the URLconf handlers. 500s never carry internals.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from common.parsers import BodyTooLarge
from common.request_id import get_request_id

logger = logging.getLogger("plateau.api")

# Codes for DRF's own exceptions, in the words our clients see.
_CODES = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def error_body(*, status_code: int, code: str, message: str, errors: list[dict] | None = None) -> dict:
    return {
        "status": status_code,
        "code": code,
        "message": message,
        "errors": errors or [],
        "request_id": get_request_id(),
    }


def api_error_response(*, status_code: int, code: str, message: str) -> JsonResponse:
    """A JsonResponse in the error shape, for code paths outside DRF."""
    return JsonResponse(error_body(status_code=status_code, code=code, message=message), status=status_code)


def _flatten(detail, prefix: str = "") -> list[dict]:
    """Turn DRF's nested error detail into [{"field": "a.0.b", "message": ...}]."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            # Errors of the object as a whole belong to its own field (none at the top level).
            out.extend(_flatten(value, prefix if key in ("non_field_errors", "__all__") else f"{prefix}{key}."))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            field = prefix[:-1] or None
            return [{"field": field, "message": str(item)} for item in detail]
        out = []
        for index, item in enumerate(detail):
            out.extend(_flatten(item, f"{prefix}{index}."))
        return out
    return [{"field": prefix[:-1] or None, "message": str(detail)}]


def _code_for(exc: exceptions.APIException) -> str:
    if type(exc) in _CODES:
        return _CODES[type(exc)]
    # Our own APIException subclasses name their code (e.g. "quota_exceeded").
    if type(exc).default_code not in ("error", "invalid"):
        return type(exc).default_code
    return next((code for klass, code in _CODES.items() if isinstance(exc, klass)), "error")


def api_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):
        # DRF reads request.body for JSON, so Django's own size check can fire before our parser's.
        exc = BodyTooLarge()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if not isinstance(exc, exceptions.APIException):
        logger.exception("Unhandled error in API view", exc_info=exc)
        body = error_body(
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
            code="server_error",
            message="Something went wrong on our side. Quote the request id if you contact support.",
        )
        return Response(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))

    code = _code_for(exc)
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        message = "The request has invalid fields." if errors else "Invalid request."
        if len(errors) == 1 and errors[0]["field"] is None:
            message = errors[0]["message"]
    else:
        detail = exc.detail
        if isinstance(detail, dict):
            message = str(detail.get("detail") or detail.get("message") or exc.default_detail)
            extra = {k: v for k, v in detail.items() if k not in ("detail", "code", "messages", "message")}
            errors = _flatten(extra)
        elif isinstance(detail, list):
            errors = _flatten(detail)
            message = errors[0]["message"] if errors else str(exc.default_detail)
        else:
            message = str(detail)
            errors = []
    body = error_body(status_code=exc.status_code, code=code, message=message, errors=errors)
    return Response(body, status=exc.status_code, headers=headers)
