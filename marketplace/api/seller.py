"""/api/v1/marketplace/seller/<organization id>/: a seller organization's templates (all statuses),
their publishing, statistics and the ledger. For its sellers and admins (people, not API keys):
another organization's id is 404, a buyer member gets 403.
"""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from common.pagination import DefaultPagination
from common.schema import BAD_REQUEST, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED, error
from marketplace.models import Category, PromptTemplate, Visibility
from marketplace.selectors import (
    StudioSeat,
    seller_balances,
    seller_ledger_entries,
    seller_payouts,
    studio_seat_for,
    studio_template_get,
    studio_template_list,
)
from marketplace.services.templates import (
    prompt_template_archive,
    prompt_template_create,
    prompt_template_publish,
    prompt_template_unpublish,
    prompt_template_update,
)

ERRORS = {401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND}


def _seat(request, seller_id: int) -> StudioSeat:
    if not request.user.is_authenticated:  # selling is done by people: publishing records who did it
        raise NotAuthenticated()
    return studio_seat_for(user=request.user, organization_id=str(seller_id))


def _template(request, seller_id: int, slug: str) -> PromptTemplate:
    seat = _seat(request, seller_id)
    template = studio_template_get(user=request.user, slug=slug)
    if template.seller_id != seat.organization.pk:
        raise Http404("No such prompt template.")
    return template


class VariableInput(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    type = serializers.ChoiceField(choices=["text", "number", "choice"])
    default = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=2000)
    choices = serializers.ListField(child=serializers.CharField(max_length=200), required=False, max_length=50)


class SellerTemplateInput(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    slug = serializers.SlugField(max_length=64, required=False)
    description = serializers.CharField(required=False)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    tags = serializers.CharField(max_length=255, required=False, allow_blank=True)
    body = serializers.CharField(required=False)
    variables = VariableInput(many=True, required=False)
    example_output = serializers.CharField(required=False, allow_blank=True)
    price_amount = serializers.IntegerField(min_value=0, required=False, help_text="Minor units; 0 is free.")
    currency = serializers.CharField(max_length=3, required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)


class SellerTemplateOutput(serializers.ModelSerializer):
    class Meta:
        model = PromptTemplate
        fields = [
            "slug",
            "title",
            "description",
            "category",
            "tags",
            "body",
            "variables",
            "example_output",
            "price_amount",
            "currency",
            "visibility",
            "status",
            "published_at",
            "updated_at",
            "rating_count",
            "rating_average",
            "sales_count",
            "revenue_amount",
        ]


def _data(validated: dict) -> dict:
    data = dict(validated)
    if "variables" in data:
        data["variables"] = [
            {key: value for key, value in variable.items() if key != "default" or value not in ("", None)}
            | {"default": variable.get("default") or None}
            for variable in data["variables"]
        ]
    return data


class SellerTemplateListApi(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = DefaultPagination

    @extend_schema(
        tags=["marketplace seller"],
        summary="The seller organization's templates, every status",
        responses={200: SellerTemplateOutput(many=True), **ERRORS},
    )
    def get(self, request, seller_id: int):
        seat = _seat(request, seller_id)
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(studio_template_list(seller=seat.organization), request, view=self)
        return paginator.get_paginated_response(SellerTemplateOutput(page, many=True).data)

    @extend_schema(
        tags=["marketplace seller"],
        summary="Create a draft (publish it with .../publish/)",
        request=SellerTemplateInput,
        responses={201: SellerTemplateOutput, 400: BAD_REQUEST, **ERRORS},
    )
    def post(self, request, seller_id: int):
        seat = _seat(request, seller_id)
        data = SellerTemplateInput(data=request.data)
        data.is_valid(raise_exception=True)
        template = prompt_template_create(seller=seat.organization, actor=request.user, data=_data(data.validated_data))
        return Response(SellerTemplateOutput(template).data, status=status.HTTP_201_CREATED)


class SellerTemplateDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["marketplace seller"],
        summary="One of the seller's templates",
        responses={200: SellerTemplateOutput, **ERRORS},
    )
    def get(self, request, seller_id: int, slug: str):
        return Response(SellerTemplateOutput(_template(request, seller_id, slug)).data)

    @extend_schema(
        tags=["marketplace seller"],
        summary="Change a template; a published one must still pass the publishing rules (versions are kept)",
        request=SellerTemplateInput,
        responses={200: SellerTemplateOutput, 400: BAD_REQUEST, 409: error("`wrong_status`: archived"), **ERRORS},
    )
    def patch(self, request, seller_id: int, slug: str):
        template = _template(request, seller_id, slug)
        data = SellerTemplateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        template = prompt_template_update(template=template, actor=request.user, data=_data(data.validated_data))
        return Response(SellerTemplateOutput(template).data)


ACTIONS = {
    "publish": prompt_template_publish,
    "unpublish": prompt_template_unpublish,
    "archive": prompt_template_archive,
}


class SellerTemplateActionApi(APIView):
    permission_classes = [IsAuthenticated]
    action_name = ""

    @extend_schema(
        tags=["marketplace seller"],
        summary="Publish, unpublish or archive",
        request=None,
        responses={200: SellerTemplateOutput, 400: BAD_REQUEST, 409: error("`wrong_status`"), **ERRORS},
    )
    def post(self, request, seller_id: int, slug: str):
        template = ACTIONS[self.action_name](template=_template(request, seller_id, slug), actor=request.user)
        return Response(SellerTemplateOutput(template).data)


class BalanceOutput(serializers.Serializer):
    currency = serializers.CharField()
    credits = serializers.IntegerField()
    debits = serializers.IntegerField()
    payouts = serializers.IntegerField()
    balance = serializers.IntegerField()


class TemplateStatsOutput(serializers.ModelSerializer):
    class Meta:
        model = PromptTemplate
        fields = ["slug", "title", "status", "sales_count", "revenue_amount", "currency", "rating_count", "rating_sum"]


class StatsOutput(serializers.Serializer):
    balances = BalanceOutput(many=True)
    templates = TemplateStatsOutput(many=True)
    views = serializers.CharField(allow_null=True, help_text="Null until analytics' event tracking exists.")


class SellerStatsApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["marketplace seller"],
        summary="Balance per currency and per-template sales, revenue net of refunds and ratings",
        responses={200: StatsOutput, **ERRORS},
    )
    def get(self, request, seller_id: int):
        seat = _seat(request, seller_id)
        balances = seller_balances(seller=seat.organization)
        body = {
            "balances": BalanceOutput(balances, many=True).data,
            "templates": TemplateStatsOutput(studio_template_list(seller=seat.organization), many=True).data,
            "views": None,
        }
        return Response(body)


class LedgerEntryOutput(serializers.Serializer):
    kind = serializers.CharField()
    template = serializers.CharField(source="template.slug", allow_null=True, default=None)
    purchase = serializers.IntegerField(source="purchase_id")
    gross_amount = serializers.IntegerField()
    fee_amount = serializers.IntegerField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()


class PayoutOutput(serializers.Serializer):
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    reference = serializers.CharField()
    paid_on = serializers.DateField()


class LedgerOutput(serializers.Serializer):
    entries = LedgerEntryOutput(many=True)
    payouts = PayoutOutput(many=True)


class SellerLedgerApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["marketplace seller"],
        summary="Ledger entries (newest first, paginated) and every payout",
        responses={200: LedgerOutput, **ERRORS},
    )
    def get(self, request, seller_id: int):
        seat = _seat(request, seller_id)
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(seller_ledger_entries(seller=seat.organization), request, view=self)
        response = paginator.get_paginated_response(LedgerEntryOutput(page, many=True).data)
        response.data["payouts"] = PayoutOutput(seller_payouts(seller=seat.organization), many=True).data
        return response
