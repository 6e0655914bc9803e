"""/api/v1/features/…: feature access for SDKs (API key) and the app (JWT or session)."""

import json

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey, Organization
from accounts.selectors.organizations import membership_primary
from accounts.throttling import FeaturesRateThrottle
from billing.api.access import IsMemberOrApiKey, customer_from_query, customer_resolve, member_resolve
from billing.cache import grant_read_keys
from billing.models import FEATURE_CHOICES
from billing.selectors import access_check_cache_keys, entitlements_for
from billing.services.entitlements import plan_effective
from billing.services.usage import feature_access_check, usage_track
from common.cache_prefetch import cache_prefetched
from common.events import event_source
from common.schema import BAD_REQUEST, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED, error
from common.serializers import StrictInputSerializer

PAYMENT_REQUIRED = error("`quota_exceeded`: the use does not fit in what is left of the quota this period.")
NOT_ENTITLED = error("`not_entitled`: the customer's plan lacks the feature.")


class AccessOutput(serializers.Serializer):
    feature = serializers.CharField()
    allowed = serializers.BooleanField(help_text="May the customer use `quantity` of the feature now.")
    entitled = serializers.BooleanField(help_text="Does the plan include the feature at all.")
    unlimited = serializers.BooleanField()
    limit = serializers.IntegerField(allow_null=True, help_text="Per period; null when unlimited.")
    used = serializers.IntegerField()
    remaining = serializers.IntegerField(allow_null=True, help_text="Null when unlimited.")
    resets_at = serializers.DateTimeField(allow_null=True, help_text="When the current quota period ends.")


_RESETS_AT = AccessOutput().fields["resets_at"]  # its representation, without a serializer per answer


def access_data(access, quantity: int = 1) -> dict:
    """`AccessOutput`'s representation of an answer, built directly.

    A serializer deep-copies its fields on every instantiation: with the input's, that was
    about a fifth of check-access's CPU. A test compares this with `AccessOutput(...).data`.
    """
    resets_at = access.resets_at
    return {
        "feature": str(access.feature),
        "allowed": bool(access.allows(quantity)),
        "entitled": bool(access.entitled),
        "unlimited": bool(access.unlimited),
        "limit": None if access.limit is None else int(access.limit),
        "used": int(access.used),
        "remaining": None if access.remaining is None else int(access.remaining),
        "resets_at": None if resets_at is None else _RESETS_AT.to_representation(resets_at),
    }


class FeatureInput(serializers.Serializer):
    customer = serializers.IntegerField(help_text="The customer's (organization's) id.")
    feature = serializers.ChoiceField(choices=FEATURE_CHOICES)
    user = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="For per-member features (ai_chat): the member's user id. Defaults to the signed-in user.",
    )


class CheckAccessInput(FeatureInput):
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)


class TrackUsageInput(StrictInputSerializer, FeatureInput):  # counts usage: unknown fields refused
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    idempotency_key = serializers.CharField(
        max_length=255, help_text="Unique per use: a retry with the same key is not counted twice."
    )


_FEATURES = frozenset(value for value, _name in FEATURE_CHOICES)
_CHECK_FIELDS = frozenset({"customer", "feature", "user", "quantity"})
_TRACK_FIELDS = _CHECK_FIELDS | {"idempotency_key"}


def _plain_int(value) -> bool:
    return type(value) is int  # not a bool, a float or a numeric text: those go to the serializer


def feature_input_plainly_valid(data, *, idempotency_key: bool) -> dict | None:
    """The input as `CheckAccessInput` (or `TrackUsageInput`) would validate it, when it is plainly valid.

    The SDK's requests are JSON with integers and a known feature: checked here, they come
    out exactly as the serializer gives them (a test compares both on random input).
    Anything else (a field the plain path does not know, a number as text, a key with
    surrounding spaces, any error) returns None, and the serializer decides and words the errors.
    """
    if not isinstance(data, dict) or not (_TRACK_FIELDS if idempotency_key else _CHECK_FIELDS).issuperset(data):
        return None
    customer, feature = data.get("customer"), data.get("feature")
    user, quantity = data.get("user"), data.get("quantity", 1)
    if not (_plain_int(customer) and isinstance(feature, str) and feature in _FEATURES):
        return None
    if not (user is None or _plain_int(user)) or not (_plain_int(quantity) and 1 <= quantity <= 1_000_000):
        return None
    values = {"customer": customer, "feature": feature, "user": user, "quantity": quantity}
    if idempotency_key:
        key = data.get("idempotency_key")
        if not (isinstance(key, str) and 0 < len(key) <= 255 and key == key.strip() and key.isprintable()):
            return None
        values["idempotency_key"] = key
    return values


def _plain_json_input(request, *, idempotency_key: bool) -> dict | None:
    """The body, before DRF parses it, when it is plainly valid JSON input (else None: DRF answers as usual)."""
    if not (request.content_type or "").startswith("application/json"):
        return None
    try:
        body = json.loads(request._request.body or b"null")
    except (ValueError, RequestDataTooBig):
        return None
    return feature_input_plainly_valid(body, idempotency_key=idempotency_key)


def _feature_input(request, serializer_class, *, idempotency_key: bool) -> tuple[Organization, int | None, dict]:
    """The request's validated input (the plain check, else the serializer), its organization and member."""
    values = feature_input_plainly_valid(request.data, idempotency_key=idempotency_key)
    if values is None:
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
    organization = customer_resolve(request=request, customer_id=values["customer"])
    return organization, member_resolve(request=request, organization=organization, user_id=values["user"]), values


class CheckAccessApi(APIView):
    permission_classes = [IsMemberOrApiKey]
    throttle_classes = [FeaturesRateThrottle]

    def cache_prefetch_keys(self, request) -> list[str]:
        """The cached answer this request will read, fetched with its authentication (common.cache_prefetch)."""
        values = _plain_json_input(request, idempotency_key=False)
        if values is None:
            return []
        return access_check_cache_keys(
            organization_id=values["customer"], user_id=values["user"], feature=values["feature"]
        )

    @extend_schema(
        tags=["features"],
        summary="May the customer use a feature now, and how much quota is left",
        request=CheckAccessInput,
        responses={200: AccessOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request):
        organization, user_id, values = _feature_input(request, CheckAccessInput, idempotency_key=False)
        quantity = values["quantity"]
        access = feature_access_check(
            organization=organization,
            user_id=user_id,
            feature=values["feature"],
            quantity=quantity,
            source=event_source(request),
            prefetched=cache_prefetched(request),
        )
        return Response(access_data(access, quantity))


class TrackUsageApi(APIView):
    permission_classes = [IsMemberOrApiKey]
    throttle_classes = [FeaturesRateThrottle]

    def cache_prefetch_keys(self, request) -> list[str]:
        """The cached grant this use will read, fetched with its authentication (common.cache_prefetch)."""
        values = _plain_json_input(request, idempotency_key=True)
        if values is None:
            return []
        return grant_read_keys(organization_id=values["customer"], feature=values["feature"])

    @extend_schema(
        tags=["features"],
        summary="Record use of a metered feature; refused past the limit",
        request=TrackUsageInput,
        responses={
            200: AccessOutput,
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            402: PAYMENT_REQUIRED,
            403: NOT_ENTITLED,
            404: NOT_FOUND,
            409: error("`idempotency_key_reused`: the key was used for a different feature, quantity or member"),
        },
    )
    def post(self, request):
        organization, user_id, values = _feature_input(request, TrackUsageInput, idempotency_key=True)
        access = usage_track(
            organization=organization,
            user_id=user_id,
            feature=values["feature"],
            quantity=values["quantity"],
            idempotency_key=values["idempotency_key"],
            source=event_source(request),
            prefetched=cache_prefetched(request),
        )
        return Response(access_data(access))


class EntitlementsOutput(serializers.Serializer):
    customer = serializers.IntegerField()
    plan = serializers.CharField(help_text="The plan whose rights are in force (free once a subscription lapses).")
    status = serializers.CharField()
    features = AccessOutput(many=True)


class EntitlementsApi(APIView):
    permission_classes = [IsMemberOrApiKey]

    @extend_schema(
        tags=["features"],
        summary="Every feature with the customer's access to it (the signed-in user's organization by default)",
        parameters=[OpenApiParameter("customer", int, required=False, description="The organization's id.")],
        responses={200: EntitlementsOutput, 401: UNAUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request):
        if "customer" in request.query_params:
            organization = customer_from_query(request)
        elif isinstance(request.auth, ApiKey):
            organization = request.auth.organization
        else:
            membership = membership_primary(user=request.user)
            if membership is None:
                raise Http404("You belong to no organization.")
            organization = membership.organization
        user_id = None if isinstance(request.auth, ApiKey) else request.user.pk
        state = getattr(organization, "subscription_state", None)
        return Response(
            EntitlementsOutput(
                {
                    "customer": organization.pk,
                    "plan": plan_effective(state=state, now=timezone.now()),
                    "status": state.status if state else "none",
                    "features": [
                        access_data(a) for a in entitlements_for(organization_id=organization.pk, user_id=user_id)
                    ],
                }
            ).data
        )
