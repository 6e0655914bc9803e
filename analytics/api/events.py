"""POST /api/v1/analytics/events: SDKs and pages send batches of up to 100 product events."""

import json
from datetime import timedelta

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey, Membership
from accounts.throttling import CallerRateThrottle
from common.events import EVENT_NAMES, MAX_PROPERTIES_BYTES, event_payload, events_buffer
from common.schema import BAD_REQUEST, FORBIDDEN, NOT_FOUND, TOO_MANY, UNAUTHENTICATED, error

MAX_BATCH = 100
EVENTS_SCOPE = "events:write"


class EventsRateThrottle(CallerRateThrottle):
    scope = "events"


class EventsUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "events_unavailable"
    default_detail = "Events cannot be accepted right now; nothing was kept. Send the batch again later."


class CanSendEvents(BasePermission):
    """A signed-in person (JWT or session), or an API key holding the `events:write` scope."""

    message = "Sending events needs a signed-in user or an API key with the events:write scope."

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiKey):
            return EVENTS_SCOPE in (request.auth.scopes or [])
        return bool(request.user and request.user.is_authenticated)


class EventInput(serializers.Serializer):
    name = serializers.ChoiceField(choices=EVENT_NAMES)
    at = serializers.DateTimeField(required=False, help_text="When it happened; default: when received.")
    anonymous_id = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    path = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    item_type = serializers.CharField(required=False, allow_blank=True, max_length=32, default="")
    item_id = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    properties = serializers.JSONField(required=False, default=dict, help_text="A JSON object of at most 2 KiB.")

    def validate_at(self, value):
        if value > timezone.now() + timedelta(minutes=5):
            raise serializers.ValidationError("Is in the future.")
        return value

    def validate_properties(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        if len(json.dumps(value)) > MAX_PROPERTIES_BYTES:
            raise serializers.ValidationError(f"At most {MAX_PROPERTIES_BYTES} bytes of JSON.")
        return value


class EventBatchInput(serializers.Serializer):
    events = EventInput(many=True, allow_empty=False, max_length=MAX_BATCH)
    organization = serializers.IntegerField(
        required=False, min_value=1, help_text="People only: the organization the events belong to (a member's)."
    )


_TEXT_LIMITS = {"anonymous_id": 64, "path": 500, "item_type": 32, "item_id": 64}
_EVENT_KEYS = frozenset(("name", *_TEXT_LIMITS, "properties"))


def events_plainly_valid(data) -> list[dict] | None:
    """The batch's events as `EventBatchInput` would validate them, when every one is plainly valid.

    DRF's serializers cost about 12 µs per field (70 fields in a batch of 100 clicks were
    half the request). Events that only name a known event and give plain texts within
    their lengths (no surrounding spaces, no NUL) and a small JSON object are checked here
    and come out exactly as the serializer gives them (a test compares both on random
    batches). Anything else (a time, an organization, a number where a text goes, any
    error) returns None, and the serializer decides and words the errors.
    """
    if not isinstance(data, dict) or set(data) != {"events"}:
        return None
    events = data["events"]
    if not isinstance(events, list) or not 0 < len(events) <= MAX_BATCH:
        return None
    valid = []
    for event in events:
        if not isinstance(event, dict) or not _EVENT_KEYS.issuperset(event):
            return None
        name = event.get("name")
        if not isinstance(name, str) or name not in EVENT_NAMES:
            return None
        clean = {"name": name}
        for field, limit in _TEXT_LIMITS.items():
            value = event.get(field, "")
            if not isinstance(value, str) or len(value) > limit or value != value.strip() or "\x00" in value:
                return None
            clean[field] = value
        properties = event.get("properties", {})
        if not isinstance(properties, dict) or len(json.dumps(properties)) > MAX_PROPERTIES_BYTES:
            return None
        clean["properties"] = properties
        valid.append(clean)
    return valid


class EventBatchOutput(serializers.Serializer):
    accepted = serializers.IntegerField()


class EventsApi(APIView):
    permission_classes = [CanSendEvents]
    throttle_classes = [EventsRateThrottle]

    @extend_schema(
        tags=["analytics"],
        summary="Send up to 100 product events (API key with events:write, or a signed-in user)",
        request=EventBatchInput,
        responses={
            202: EventBatchOutput,
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            429: TOO_MANY,
            503: error("The event buffer is down; nothing was kept: send the batch again later."),
        },
    )
    def post(self, request):
        events = events_plainly_valid(request.data)
        if events is None:
            data = EventBatchInput(data=request.data)
            data.is_valid(raise_exception=True)
            events, organization_id = data.validated_data["events"], data.validated_data.get("organization")
        else:
            organization_id = None
        if isinstance(request.auth, ApiKey):
            organization_id, user_id = request.auth.organization_id, None
        else:
            user_id = request.user.pk
            if (
                organization_id
                and not Membership.objects.filter(user_id=user_id, organization_id=organization_id).exists()
            ):
                raise Http404("No such organization.")
        payloads = [
            event_payload(
                event["name"],
                organization_id=organization_id,
                user_id=user_id,
                anonymous_id=event["anonymous_id"],
                path=event["path"],
                item_type=event["item_type"],
                item_id=event["item_id"],
                properties=event["properties"],
                at=event.get("at"),
            )
            for event in events
        ]
        if events_buffer(payloads) != len(payloads):
            raise EventsUnavailable()
        return Response({"accepted": len(payloads)}, status=status.HTTP_202_ACCEPTED)
