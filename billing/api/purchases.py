"""/api/v1/purchases/: start a one-time purchase, purchase history, refunds by staff."""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.authentication import BrowserSessionCsrf
from accounts.models import ApiKey
from accounts.selectors.organizations import membership_primary
from billing.anonymous import anonymous_buyer_id
from billing.api.access import IsMemberOrApiKey, customer_from_query, customer_resolve
from billing.models import ItemType, Purchase, PurchaseRefund
from billing.services.purchases import purchase_refund, purchase_start
from common.events import event_source
from common.pagination import DefaultPagination
from common.schema import BAD_REQUEST, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED, error
from common.serializers import StrictInputSerializer


class RefundOutput(serializers.ModelSerializer):
    class Meta:
        model = PurchaseRefund
        fields = ["amount", "source", "reason", "stripe_refund_id", "created_at"]


class PurchaseOutput(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="organization_id", allow_null=True)
    refunds = RefundOutput(many=True, read_only=True)

    class Meta:
        model = Purchase
        fields = [
            "id",
            "customer",
            "item_type",
            "item_id",
            "item_name",
            "list_amount",
            "discount_amount",
            "discount_rule",
            "amount",
            "currency",
            "status",
            "refunded_amount",
            "refunds",
            "stripe_checkout_session_id",
            "stripe_payment_intent_id",
            "created_at",
            "paid_at",
        ]


class PurchaseStartInput(StrictInputSerializer):
    item_type = serializers.ChoiceField(choices=ItemType.choices)
    item_id = serializers.CharField(max_length=64)
    customer = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Defaults to the signed-in user's organization."
    )


class PurchaseStartOutput(serializers.Serializer):
    purchase = PurchaseOutput()
    checkout_url = serializers.CharField(allow_blank=True, help_text="Empty when nothing is left to pay.")


class PurchaseListCreateApi(APIView):
    pagination_class = DefaultPagination
    # A signed-out visitor buys with their browser session: that POST needs the session's CSRF token.
    authentication_classes = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES, BrowserSessionCsrf]

    def get_permissions(self):
        # Anyone may buy (anonymous purchases are kept with the browser session); history needs a customer.
        return [AllowAny()] if self.request.method == "POST" else [IsMemberOrApiKey()]

    @extend_schema(
        tags=["purchases"],
        summary="Buy a quiz, an article or a prompt template; the price is computed here, with discounts",
        request=PurchaseStartInput,
        responses={
            201: PurchaseStartOutput,
            200: PurchaseStartOutput,  # the buyer's open purchase of the item, with the same Checkout URL
            400: BAD_REQUEST,
            402: error("`quota_exceeded`"),
            404: NOT_FOUND,
            409: error("`already_owned`: the buyer already owns the item"),
        },
    )
    def post(self, request):
        data = PurchaseStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        organization, buyer_id, session_id = None, None, ""
        if isinstance(request.auth, ApiKey) or request.user.is_authenticated:
            if values["customer"] is not None:
                organization = customer_resolve(request=request, customer_id=values["customer"])
            elif isinstance(request.auth, ApiKey):
                organization = request.auth.organization
            else:
                membership = membership_primary(user=request.user)
                organization = membership.organization if membership else None
            buyer_id = request.user.pk if request.user.is_authenticated else None
        else:
            session_id = anonymous_buyer_id(request.session, create=True)
        started = purchase_start(
            organization=organization,
            buyer_id=buyer_id,
            anonymous_session_id=session_id,
            item_type=values["item_type"],
            item_id=values["item_id"],
            success_url=request.build_absolute_uri(reverse("billing:checkout_success")),
            cancel_url=request.build_absolute_uri(reverse("billing:checkout_cancel")),
            source=event_source(request),
        )
        body = PurchaseStartOutput({"purchase": started.purchase, "checkout_url": started.checkout_url}).data
        return Response(body, status=status.HTTP_201_CREATED if started.created else status.HTTP_200_OK)

    @extend_schema(
        tags=["purchases"],
        summary="The customer's purchases, newest first",
        parameters=[OpenApiParameter("customer", int, required=True, description="The organization's id.")],
        responses={200: PurchaseOutput(many=True), 401: UNAUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request):
        organization = customer_from_query(request)
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(
            Purchase.objects.filter(organization=organization).prefetch_related("refunds"), request, view=self
        )
        return paginator.get_paginated_response(PurchaseOutput(page, many=True).data)


class PurchaseDetailApi(APIView):
    permission_classes = [IsMemberOrApiKey]

    @extend_schema(
        tags=["purchases"],
        summary="One purchase",
        responses={200: PurchaseOutput, 401: UNAUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request, purchase_id: int):
        purchase = Purchase.objects.filter(pk=purchase_id, organization__isnull=False).first()
        if purchase is None:
            raise Http404("No such purchase.")
        customer_resolve(request=request, customer_id=purchase.organization_id)
        return Response(PurchaseOutput(purchase).data)


class RefundInput(StrictInputSerializer):
    amount = serializers.IntegerField(min_value=1, help_text="Minor units; at most what is paid and not yet refunded.")
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class PurchaseRefundApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        tags=["purchases"],
        summary="Refund a purchase in part or in full (staff)",
        request=RefundInput,
        responses={200: PurchaseOutput, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: error("Not paid.")},
    )
    def post(self, request, purchase_id: int):
        purchase = Purchase.objects.filter(pk=purchase_id).first()
        if purchase is None:
            raise Http404("No such purchase.")
        data = RefundInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        refunded = purchase_refund(
            purchase=purchase, amount=values["amount"], actor=request.user, reason=values["reason"]
        )
        return Response(PurchaseOutput(refunded).data)
