"""/api/v1/analytics/: business metrics for staff (one-time purchase revenue, top customers)."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organization
from analytics.periods import report_period
from analytics.selectors import customer_lifetime_values, revenue_summary
from common.schema import BAD_REQUEST, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED


class RevenueInput(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First day (UTC), included; default 29 days before end.")
    end = serializers.DateField(required=False, help_text="Last day (UTC), included; default today.")
    customer = serializers.IntegerField(
        required=False, min_value=1, help_text="Only this organization's purchases and refunds."
    )

    def validate(self, values):
        period = report_period(first_day=values.get("start"), last_day=values.get("end"))
        if period.is_empty:
            raise serializers.ValidationError({"end": ["The end is before the start."]})
        return {"period": period, "customer": values.get("customer")}


class RevenueLineOutput(serializers.Serializer):
    currency = serializers.CharField()
    gross = serializers.IntegerField(help_text="Charged for purchases paid in the period, minor units.")
    refunds = serializers.IntegerField(help_text="Refunded in the period (of any purchase), minor units.")
    net = serializers.IntegerField(help_text="gross - refunds; negative when the period refunded more than it sold.")
    purchases = serializers.IntegerField(help_text="Purchases paid in the period.")


class RevenueOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text="Included.")
    customer = serializers.IntegerField(allow_null=True)
    currencies = RevenueLineOutput(many=True)


class RevenueApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        tags=["analytics"],
        summary="One-time purchase revenue per currency: paid in the period minus refunded in the period (staff)",
        parameters=[RevenueInput],
        responses={200: RevenueOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request):
        data = RevenueInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        period, customer = data.validated_data["period"], data.validated_data["customer"]
        if customer is not None and not Organization.objects.filter(pk=customer).exists():
            raise Http404("No such customer.")
        lines = revenue_summary(start=period.start, end=period.end, organization_id=customer)
        body = {"start": period.first_day, "end": period.last_day, "customer": customer, "currencies": lines}
        return Response(RevenueOutput(body).data)


class TopCustomersInput(serializers.Serializer):
    limit = serializers.IntegerField(
        required=False, default=10, min_value=1, max_value=100, help_text="How many customers per currency."
    )


class TopCustomerOutput(serializers.Serializer):
    customer = serializers.IntegerField(source="organization_id")
    name = serializers.CharField()
    currency = serializers.CharField()
    paid = serializers.IntegerField(help_text="Paid over all its subscription invoices and purchases, minor units.")
    refunds = serializers.IntegerField(help_text="Refunded to it, whenever, minor units.")
    lifetime_value = serializers.IntegerField(help_text="paid - refunds.")
    payments = serializers.IntegerField(help_text="Invoices and purchases paid.")


class TopCustomersOutput(serializers.Serializer):
    limit = serializers.IntegerField()
    customers = TopCustomerOutput(many=True, help_text="Ordered by currency, then lifetime value, highest first.")


class TopCustomersApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        tags=["analytics"],
        summary="Customers with the highest lifetime value (paid minus refunds), the top `limit` per currency (staff)",
        parameters=[TopCustomersInput],
        responses={200: TopCustomersOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN},
    )
    def get(self, request):
        data = TopCustomersInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        limit = data.validated_data["limit"]
        body = {"limit": limit, "customers": customer_lifetime_values(limit=limit)}
        return Response(TopCustomersOutput(body).data)
