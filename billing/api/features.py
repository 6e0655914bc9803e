"""/api/v1/features/…: feature access for SDKs (API key) and the app (JWT or session)."""

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey
from accounts.selectors.organizations import membership_primary
from accounts.throttling import FeaturesRateThrottle
from billing.api.access import IsMemberOrApiKey, customer_from_query, customer_resolve, member_resolve
from billing.models import FEATURE_CHOICES
from billing.selectors import entitlements_for
from billing.services.entitlements import plan_effective
from billing.services.usage import feature_access_check, usage_track
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


def access_data(access, quantity: int = 1) -> dict:
    return AccessOutput(
        {
            "feature": access.feature,
            "allowed": access.allows(quantity),
            "entitled": access.entitled,
            "unlimited": access.unlimited,
            "limit": access.limit,
            "used": access.used,
            "remaining": access.remaining,
            "resets_at": access.resets_at,
        }
    ).data


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


class CheckAccessApi(APIView):
    permission_classes = [IsMemberOrApiKey]
    throttle_classes = [FeaturesRateThrottle]

    @extend_schema(
        tags=["features"],
        summary="May the customer use a feature now, and how much quota is left",
        request=CheckAccessInput,
        responses={200: AccessOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request):
        data = CheckAccessInput(data=request.data)
        data.is_valid(raise_exception=True)
        organization = customer_resolve(request=request, customer_id=data.validated_data["customer"])
        user_id = member_resolve(request=request, organization=organization, user_id=data.validated_data["user"])
        quantity = data.validated_data["quantity"]
        access = feature_access_check(
            organization=organization,
            user_id=user_id,
            feature=data.validated_data["feature"],
            quantity=quantity,
            source=event_source(request),
        )
        return Response(access_data(access, quantity))


class TrackUsageApi(APIView):
    permission_classes = [IsMemberOrApiKey]
    throttle_classes = [FeaturesRateThrottle]

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
        data = TrackUsageInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        organization = customer_resolve(request=request, customer_id=values["customer"])
        user_id = member_resolve(request=request, organization=organization, user_id=values["user"])
        access = usage_track(
            organization=organization,
            user_id=user_id,
            feature=values["feature"],
            quantity=values["quantity"],
            idempotency_key=values["idempotency_key"],
            source=event_source(request),
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
