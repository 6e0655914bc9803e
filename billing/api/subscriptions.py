"""/api/v1/subscriptions/ and /api/v1/invoices/: a customer's subscriptions and invoices, org-scoped."""

from dataclasses import asdict

from django.urls import reverse
from djstripe.models import Subscription
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organization
from billing.api.access import IsMemberOrApiKey, customer_from_query, customer_resolve, require_org_admin
from billing.plans import PRICES, plan_for_lookup_key
from billing.selectors import invoice_row, invoices_queryset, subscriptions_for
from billing.services.checkout import subscription_checkout_start
from billing.services.subscription_changes import (
    subscription_cancel,
    subscription_change_plan,
    subscription_change_preview,
    subscription_for,
    subscription_resume,
)
from billing.services.subscriptions import subscription_fields_from_stripe
from common.pagination import DefaultPagination, paginated_response
from common.schema import BAD_REQUEST, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED, error
from common.serializers import StrictInputSerializer

CUSTOMER = OpenApiParameter("customer", int, required=True, description="The organization's id.")


class SubscriptionOutput(serializers.Serializer):
    id = serializers.CharField()
    customer = serializers.IntegerField()
    status = serializers.CharField()
    plan = serializers.CharField(allow_blank=True)
    price_lookup_key = serializers.CharField(allow_blank=True)
    current_period_start = serializers.DateTimeField(allow_null=True)
    current_period_end = serializers.DateTimeField(allow_null=True)
    cancel_at_period_end = serializers.BooleanField()


def subscription_data(subscription: Subscription, organization: Organization) -> dict:
    data = subscription.stripe_data
    fields = subscription_fields_from_stripe(data)
    # Unlike the state table (which falls back to Free), the API names only catalogue plans.
    plan = plan_for_lookup_key(fields["price_lookup_key"])
    return SubscriptionOutput(
        {
            "id": subscription.id,
            "customer": organization.pk,
            "status": data.get("status", ""),
            "plan": plan.key if plan else "",
            "price_lookup_key": fields["price_lookup_key"],
            "current_period_start": fields["current_period_start"],
            "current_period_end": fields["current_period_end"],
            "cancel_at_period_end": fields["cancel_at_period_end"],
        }
    ).data


class SubscriptionCheckoutInput(StrictInputSerializer):
    customer = serializers.IntegerField(help_text="The organization's id.")
    price = serializers.ChoiceField(choices=sorted(PRICES), help_text="The lookup key of the price to subscribe to.")


class SubscriptionCheckoutOutput(serializers.Serializer):
    checkout_url = serializers.URLField(help_text="Stripe Checkout's hosted page; the subscription starts once paid.")
    customer = serializers.IntegerField()
    price = serializers.CharField()


class SubscriptionListApi(APIView):
    permission_classes = [IsMemberOrApiKey]
    pagination_class = DefaultPagination

    @extend_schema(
        tags=["subscriptions"],
        summary="The customer's subscriptions",
        parameters=[CUSTOMER],
        responses={200: SubscriptionOutput(many=True), 401: UNAUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request):
        organization = customer_from_query(request)
        return paginated_response(
            request=request,
            view=self,
            items=subscriptions_for(organization_id=organization.pk),
            serialize=lambda page: [subscription_data(s, organization) for s in page],
        )

    @extend_schema(
        tags=["subscriptions"],
        summary="Subscribe: the Stripe Checkout URL for a price (organization admins)",
        description="The same service as the pricing page's Subscribe button: one open subscription Checkout per "
        "organization, so asking again for the same price answers the same URL, and another price closes the "
        "first Checkout before opening its own. An organization with a subscription is refused (change its plan).",
        request=SubscriptionCheckoutInput,
        responses={
            200: SubscriptionCheckoutOutput,
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: error("`already_subscribed`: change the subscription's plan instead"),
            503: error("`catalogue_not_synced`: the prices are not set up in Stripe"),
        },
    )
    def post(self, request):
        data = SubscriptionCheckoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        organization = customer_resolve(request=request, customer_id=data.validated_data["customer"])
        require_org_admin(request=request, organization=organization)
        success = (
            request.build_absolute_uri(reverse("billing:checkout_success"))
            + f"?org={organization.pk}&session_id={{CHECKOUT_SESSION_ID}}"
        )
        url = subscription_checkout_start(
            organization=organization,
            lookup_key=data.validated_data["price"],
            success_url=success,
            cancel_url=request.build_absolute_uri(reverse("billing:checkout_cancel")) + f"?org={organization.pk}",
        )
        body = {"checkout_url": url, "customer": organization.pk, "price": data.validated_data["price"]}
        return Response(SubscriptionCheckoutOutput(body).data)


class SubscriptionDetailApi(APIView):
    permission_classes = [IsMemberOrApiKey]

    @extend_schema(
        tags=["subscriptions"],
        summary="One subscription",
        parameters=[CUSTOMER],
        responses={200: SubscriptionOutput, 401: UNAUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request, subscription_id: str):
        organization = customer_from_query(request)
        subscription = subscription_for(organization=organization, subscription_id=subscription_id)
        return Response(subscription_data(subscription, organization))


class CancelInput(StrictInputSerializer):
    at_period_end = serializers.BooleanField(default=True, help_text="False cancels at once (staff only).")


class SubscriptionCancelApi(APIView):
    permission_classes = [IsMemberOrApiKey]

    @extend_schema(
        tags=["subscriptions"],
        summary="Cancel at the end of the paid period (or at once, staff)",
        parameters=[CUSTOMER],
        request=CancelInput,
        responses={200: SubscriptionOutput, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request, subscription_id: str):
        organization = customer_from_query(request)
        subscription_for(organization=organization, subscription_id=subscription_id)
        require_org_admin(request=request, organization=organization)
        data = CancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription_cancel(
            organization=organization,
            subscription_id=subscription_id,
            at_period_end=data.validated_data["at_period_end"],
            actor=request.user if request.user.is_authenticated else None,
        )
        subscription = subscription_for(organization=organization, subscription_id=subscription_id)
        return Response(subscription_data(subscription, organization))


class SubscriptionResumeApi(APIView):
    permission_classes = [IsMemberOrApiKey]

    @extend_schema(
        tags=["subscriptions"],
        summary="Undo a cancellation at period end",
        parameters=[CUSTOMER],
        request=None,
        responses={200: SubscriptionOutput, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request, subscription_id: str):
        organization = customer_from_query(request)
        subscription_for(organization=organization, subscription_id=subscription_id)
        require_org_admin(request=request, organization=organization)
        subscription_resume(organization=organization, subscription_id=subscription_id)
        subscription = subscription_for(organization=organization, subscription_id=subscription_id)
        return Response(subscription_data(subscription, organization))


class ChangePlanInput(StrictInputSerializer):
    price = serializers.ChoiceField(choices=sorted(PRICES), help_text="The lookup key of the new price.")


class SubscriptionChangePlanApi(APIView):
    permission_classes = [IsMemberOrApiKey]

    @extend_schema(
        tags=["subscriptions"],
        summary="Move to another price (e.g. monthly to yearly), prorated",
        parameters=[CUSTOMER],
        request=ChangePlanInput,
        responses={200: SubscriptionOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request, subscription_id: str):
        organization = customer_from_query(request)
        subscription_for(organization=organization, subscription_id=subscription_id)
        require_org_admin(request=request, organization=organization)
        data = ChangePlanInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription_change_plan(
            organization=organization, subscription_id=subscription_id, lookup_key=data.validated_data["price"]
        )
        subscription = subscription_for(organization=organization, subscription_id=subscription_id)
        return Response(subscription_data(subscription, organization))


class ProrationPreviewOutput(serializers.Serializer):
    credit = serializers.IntegerField(help_text="Unused time on the current price, credited (minor units).")
    charge = serializers.IntegerField(help_text="The new price for the rest of the period, or a new period.")
    amount_due = serializers.IntegerField(
        help_text="What the change costs as Stripe will bill it, discounts included; negative is credit for later."
    )
    currency = serializers.CharField()


class SubscriptionChangePreviewApi(APIView):
    permission_classes = [IsMemberOrApiKey]

    @extend_schema(
        tags=["subscriptions"],
        summary="What a plan change would cost now (proration preview)",
        parameters=[CUSTOMER, OpenApiParameter("price", str, required=True, description="The new price's lookup key.")],
        responses={200: ProrationPreviewOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request, subscription_id: str):
        organization = customer_from_query(request)
        preview = subscription_change_preview(
            organization=organization,
            subscription_id=subscription_id,
            lookup_key=request.query_params.get("price", ""),
        )
        return Response(ProrationPreviewOutput(asdict(preview)).data)


class InvoiceOutput(serializers.Serializer):
    id = serializers.CharField()
    number = serializers.CharField(allow_blank=True, allow_null=True)
    status = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    amount_due = serializers.IntegerField()
    amount_paid = serializers.IntegerField()
    created = serializers.DateTimeField(allow_null=True)
    hosted_invoice_url = serializers.CharField(allow_blank=True, allow_null=True)
    invoice_pdf = serializers.CharField(allow_blank=True, allow_null=True, help_text="Download link.")


class InvoiceListApi(APIView):
    permission_classes = [IsMemberOrApiKey]

    pagination_class = DefaultPagination

    @extend_schema(
        tags=["invoices"],
        summary="The customer's invoices with download links, newest first (paginated)",
        parameters=[CUSTOMER],
        responses={200: InvoiceOutput(many=True), 401: UNAUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request):
        organization = customer_from_query(request)
        return paginated_response(
            request=request,
            view=self,
            items=invoices_queryset(organization_id=organization.pk),
            serialize=lambda page: [InvoiceOutput(asdict(invoice_row(invoice))).data for invoice in page],
        )
