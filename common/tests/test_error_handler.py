"""The exception handler renders every failure of a DRF view in the one error shape."""

import json
import logging

import pytest
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from common.middleware import RequestIdMiddleware


class _Nested(serializers.Serializer):
    name = serializers.CharField()


class _Input(serializers.Serializer):
    email = serializers.EmailField()
    items = _Nested(many=True)


class _EchoView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request):
        serializer = _Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class _BrokenView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("database password is hunter2")


def _serve(view, request):
    response = RequestIdMiddleware(lambda req: view(req))(request)
    response.render()
    return response


def test_validation_errors_are_flattened_to_field_paths():
    request = APIRequestFactory().post(
        "/api/echo", {"email": "nope", "items": [{"name": "ok"}, {}]}, format="json", HTTP_X_REQUEST_ID="r-1"
    )
    response = _serve(_EchoView.as_view(), request)
    assert response.status_code == 400
    assert json.loads(response.content) == {
        "status": 400,
        "code": "validation_error",
        "message": "The request has invalid fields.",
        "errors": [
            {"field": "email", "message": "Enter a valid email address."},
            {"field": "items.1.name", "message": "This field is required."},
        ],
        "request_id": "r-1",
    }


def test_malformed_json_is_a_400_in_the_shape():
    request = APIRequestFactory().post("/api/echo", b'{"email": ', content_type="application/json")
    response = _serve(_EchoView.as_view(), request)
    body = json.loads(response.content)
    assert response.status_code == 400
    assert body["code"] == "malformed_request"
    assert body["message"].startswith("JSON parse error")


def test_unexpected_errors_are_a_500_that_leaks_nothing(caplog):
    request = APIRequestFactory().get("/api/broken", HTTP_X_REQUEST_ID="r-500")
    with caplog.at_level(logging.ERROR, logger="plateau.api"):
        response = _serve(_BrokenView.as_view(), request)
    assert response.status_code == 500
    assert json.loads(response.content) == {
        "status": 500,
        "code": "server_error",
        "message": "Something went wrong on our side. Quote the request id if you contact support.",
        "errors": [],
        "request_id": "r-500",
    }
    assert b"hunter2" not in response.content
    # The details go to the log, under the same request id, for the people on call.
    assert any("hunter2" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


@pytest.mark.parametrize("json_logs", [True, False])
def test_log_lines_carry_the_request_id_in_both_formats(json_logs, settings):
    config = settings.LOGGING
    formatter_name = "json" if json_logs else "readable"
    formatter_config = dict(config["formatters"][formatter_name])
    factory = formatter_config.pop("()", None)
    if factory:
        from django.utils.module_loading import import_string

        formatter = import_string(factory)(**formatter_config)
    else:
        formatter = logging.Formatter(formatter_config["format"])
    record = logging.LogRecord("plateau.test", logging.INFO, __file__, 1, "hello", None, None)
    record.request_id = "abc123"
    line = formatter.format(record)
    if json_logs:
        assert json.loads(line)["request_id"] == "abc123"
        assert json.loads(line)["message"] == "hello"
    else:
        assert "[abc123]" in line and line.endswith("hello")
