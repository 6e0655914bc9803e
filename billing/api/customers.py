"""/api/v1/customers/: the organizations the caller may act for, as billing customers.

A customer's id is its organization's id (the same `customer` the feature API takes).
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey
from billing.api.access import IsMemberOrApiKey, customer_resolve, require_org_admin
from billing.api.subscriptions import SubscriptionOutput, subscription_data
from billing.models import Customer
from billing.selectors import customers_for, subscriptions_for
from billing.services.customers import customer_archive, customer_create, customer_update
from common.pagination import DefaultPagination
from common.schema import BAD_REQUEST, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED, error
from common.serializers import StrictInputSerializer

CONFLICT = error("`customer_exists` or `customer_archived`.")


class CustomerOutput(serializers.Serializer):
    id = serializers.IntegerField(source="organization_id")
    stripe_customer_id = serializers.CharField()
    email = serializers.EmailField()
    name = serializers.CharField()
    status = serializers.SerializerMethodField(help_text="Subscription status, or `archived`.")
    created_at = serializers.DateTimeField()
    archived_at = serializers.DateTimeField(allow_null=True)

    def get_status(self, customer) -> str:
        if customer.archived_at:
            return "archived"
        state = getattr(customer.organization, "subscription_state", None)
        return state.status if state else "none"


class CustomerDetailOutput(CustomerOutput):
    subscriptions = serializers.SerializerMethodField()

    @extend_schema_field(SubscriptionOutput(many=True))
    def get_subscriptions(self, customer) -> list[dict]:
        subscriptions = subscriptions_for(organization_id=customer.organization_id)
        return [subscription_data(s, customer.organization) for s in subscriptions]


def _customer(request, customer_id: int) -> Customer:
    organization = customer_resolve(request=request, customer_id=customer_id)
    customer = Customer.objects.select_related("organization__subscription_state").filter(organization=organization)
    customer = customer.first()
    if customer is None:
        raise Http404("No such customer.")
    return customer


class CustomerCreateInput(StrictInputSerializer):
    organization = serializers.IntegerField(help_text="The organization that becomes a customer.")
    email = serializers.EmailField(
        required=False, default="", help_text="Billing email; by default the organization's."
    )
    name = serializers.CharField(required=False, default="", max_length=200)


class CustomerListApi(APIView):
    permission_classes = [IsMemberOrApiKey]
    pagination_class = DefaultPagination

    @extend_schema(
        tags=["customers"],
        summary="Customers the caller may act for",
        parameters=[
            OpenApiParameter("status", str, description="active, trialing, past_due, canceled, none or archived"),
            OpenApiParameter("email", str, description="Exact email, case-insensitive."),
            OpenApiParameter("created_after", str, description="ISO date or datetime (inclusive)."),
            OpenApiParameter("created_before", str, description="ISO date or datetime (exclusive)."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: CustomerOutput(many=True), 400: BAD_REQUEST, 401: UNAUTHENTICATED},
    )
    def get(self, request):
        queryset = customers_for(
            user=None if isinstance(request.auth, ApiKey) else request.user,
            organization_id=request.auth.organization_id if isinstance(request.auth, ApiKey) else None,
            status=request.query_params.get("status") or None,
            email=request.query_params.get("email") or None,
            created_after=request.query_params.get("created_after") or None,
            created_before=request.query_params.get("created_before") or None,
        )
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(CustomerOutput(page, many=True).data)

    @extend_schema(
        tags=["customers"],
        summary="Make an organization a customer (creates the Stripe customer)",
        request=CustomerCreateInput,
        responses={201: CustomerDetailOutput, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    def post(self, request):
        data = CustomerCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        organization = customer_resolve(request=request, customer_id=data.validated_data["organization"])
        require_org_admin(request=request, organization=organization)
        customer = customer_create(
            organization=organization, email=data.validated_data["email"], name=data.validated_data["name"]
        )
        return Response(CustomerDetailOutput(customer).data, status=status.HTTP_201_CREATED)


class CustomerUpdateInput(StrictInputSerializer):
    email = serializers.EmailField(required=False)
    name = serializers.CharField(required=False, max_length=200)


class CustomerDetailApi(APIView):
    permission_classes = [IsMemberOrApiKey]

    @extend_schema(
        tags=["customers"],
        summary="A customer with its subscriptions",
        responses={200: CustomerDetailOutput, 401: UNAUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request, customer_id: int):
        return Response(CustomerDetailOutput(_customer(request, customer_id)).data)

    @extend_schema(
        tags=["customers"],
        summary="Change the billing email or name (synced to Stripe)",
        request=CustomerUpdateInput,
        responses={200: CustomerDetailOutput, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    def patch(self, request, customer_id: int):
        customer = _customer(request, customer_id)
        require_org_admin(request=request, organization=customer.organization)
        data = CustomerUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        customer = customer_update(customer=customer, **data.validated_data)
        return Response(CustomerDetailOutput(customer).data)


class CustomerArchiveApi(APIView):
    permission_classes = [IsMemberOrApiKey]

    @extend_schema(
        tags=["customers"],
        summary="Archive a customer (soft delete: history stays, new checkouts are refused)",
        request=None,
        responses={200: CustomerDetailOutput, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request, customer_id: int):
        customer = _customer(request, customer_id)
        require_org_admin(request=request, organization=customer.organization)
        return Response(CustomerDetailOutput(customer_archive(customer=customer)).data)
