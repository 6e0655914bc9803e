"""/api/v1/analytics/: business metrics for staff holding `analytics.view_metrics`, and for sellers their own.

Every endpoint answers JSON, or CSV with `?format=csv` (the response's table, one row
per entry). Endpoints that take `organization` answer a seller organization's members
(sellers and admins) about its marketplace sales only; another organization's id is 404.
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Membership, Organization, Role
from analytics.api.csv import TableCsvRenderer
from analytics.periods import GRANULARITIES, report_period
from analytics.selectors import (
    cohort_retention,
    content_before_conversion,
    conversion_funnel,
    customer_lifetime_values,
    growth_series,
    mrr_series,
    revenue_summary,
    revenue_trend,
    top_content,
)
from billing.selectors_revenue import ItemScope
from common.schema import BAD_REQUEST, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED
from marketplace.models import PromptTemplate

METRICS_PERMISSION = "analytics.view_metrics"
CSV = OpenApiParameter("format", str, enum=["json", "csv"], description="csv: the table as CSV.")


def can_view_metrics(user) -> bool:
    """Staff holding analytics.view_metrics (superusers hold every permission)."""
    return bool(user and user.is_authenticated and user.is_staff and user.has_perm(METRICS_PERMISSION))


class ViewsMetrics(BasePermission):
    message = "Business metrics need the analytics.view_metrics permission."

    def has_permission(self, request, view):
        return can_view_metrics(request.user)


class ViewsMetricsOrSeller(BasePermission):
    """Staff with the permission, or (checked in the view) a seller asking about its own organization."""

    message = ViewsMetrics.message

    def has_permission(self, request, view):
        if can_view_metrics(request.user):
            return True
        return bool(request.user and request.user.is_authenticated and request.query_params.get("organization"))


def seller_scope(*, request, organization_id: int | None) -> ItemScope | None:
    """What the caller may see: everything (staff, no organization), or one seller organization's templates.

    A member of the organization with the seller or admin role, or staff with the
    permission, may ask for it; anyone else gets 404, as for an organization that does not exist.
    """
    if organization_id is None:
        if not can_view_metrics(request.user):
            raise Http404("No such organization.")
        return None
    allowed = (
        can_view_metrics(request.user)
        or Membership.objects.filter(
            user=request.user, organization_id=organization_id, role__in=(Role.SELLER, Role.ADMIN)
        ).exists()
    )
    if not allowed or not Organization.objects.filter(pk=organization_id).exists():
        raise Http404("No such organization.")
    slugs = PromptTemplate.objects.filter(seller_id=organization_id).values_list("slug", flat=True)
    return ItemScope(item_type="prompt_template", item_ids=frozenset(slugs))


class MetricsApi(APIView):
    renderer_classes = [JSONRenderer, TableCsvRenderer]
    permission_classes = [ViewsMetrics]

    def finalize_response(self, request, response, *args, **kwargs):
        # An error is always JSON in the error shape, even when CSV was asked for.
        if response.status_code >= 400:
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class DateRangeInput(serializers.Serializer):
    """`start` and `end` (UTC days, included) as a report period of at most three years."""

    start = serializers.DateField(required=False, help_text="First day (UTC), included; default 29 days before end.")
    end = serializers.DateField(required=False, help_text="Last day (UTC), included; default today.")

    def validate(self, values):
        period = report_period(first_day=values.get("start"), last_day=values.get("end"))
        if period.is_empty:
            raise serializers.ValidationError({"end": ["The end is before the start."]})
        if (period.last_day - period.first_day).days > 3 * 366:
            raise serializers.ValidationError({"start": ["At most three years at a time."]})
        return {**values, "period": period}


class PeriodInput(DateRangeInput):
    granularity = serializers.ChoiceField(choices=GRANULARITIES, required=False, default="day")
    organization = serializers.IntegerField(
        required=False, min_value=1, help_text="A seller organization: its marketplace sales only (its members)."
    )


def _period_input(request) -> dict:
    data = PeriodInput(data=request.query_params)
    data.is_valid(raise_exception=True)
    return data.validated_data


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


class RevenueApi(MetricsApi):
    csv_name = "purchase-revenue"

    @extend_schema(
        tags=["analytics"],
        summary="One-time purchase revenue per currency: paid in the period minus refunded in the period (staff)",
        parameters=[RevenueInput, CSV],
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
    organization = serializers.IntegerField(
        required=False, min_value=1, help_text="A seller organization: its buyers, by what they paid for its templates."
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


class TopCustomersApi(MetricsApi):
    permission_classes = [ViewsMetricsOrSeller]
    csv_name = "top-customers"

    @extend_schema(
        tags=["analytics"],
        summary="Customers with the highest lifetime value (paid minus refunds), the top `limit` per currency",
        parameters=[TopCustomersInput, CSV],
        responses={200: TopCustomersOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request):
        data = TopCustomersInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        limit = data.validated_data["limit"]
        scope = seller_scope(request=request, organization_id=data.validated_data.get("organization"))
        body = {"limit": limit, "customers": customer_lifetime_values(limit=limit, scope=scope)}
        return Response(TopCustomersOutput(body).data)


# --- Series ------------------------------------------------------------------------------------


class MrrPointOutput(serializers.Serializer):
    day = serializers.DateField(help_text="The last day of the bucket: the figures are the state at its end.")
    currency = serializers.CharField()
    mrr = serializers.IntegerField(help_text="Monthly recurring revenue, minor units.")
    arr = serializers.IntegerField(help_text="MRR × 12.")
    subscriptions = serializers.IntegerField(help_text="Active or past due (not trialing).")
    paying_customers = serializers.IntegerField()
    arpu = serializers.IntegerField(allow_null=True, help_text="MRR ÷ paying customers, rounded half up.")


class MrrOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    granularity = serializers.CharField()
    points = MrrPointOutput(many=True)


class MrrApi(MetricsApi):
    csv_name = "mrr"

    @extend_schema(
        tags=["analytics"],
        summary="MRR, ARR, subscriptions, paying customers and ARPU at the end of each day/week/month, per currency",
        parameters=[PeriodInput, CSV],
        responses={200: MrrOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN},
    )
    def get(self, request):
        values = _period_input(request)
        period, granularity = values["period"], values["granularity"]
        points = mrr_series(period=period, granularity=granularity)
        body = {"start": period.first_day, "end": period.last_day, "granularity": granularity, "points": points}
        return Response(MrrOutput(body).data)


class GrowthPointOutput(serializers.Serializer):
    first_day = serializers.DateField()
    last_day = serializers.DateField()
    new = serializers.IntegerField(help_text="Counted in MRR for the first time.")
    cancelled = serializers.IntegerField(help_text="Cancelled after being counted in MRR.")
    net = serializers.IntegerField()
    active_at_start = serializers.IntegerField(help_text="Counted in MRR at the end of the day before.")
    churn_rate = serializers.DecimalField(
        max_digits=9, decimal_places=2, allow_null=True, help_text="cancelled ÷ active_at_start × 100."
    )


class GrowthOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    granularity = serializers.CharField()
    points = GrowthPointOutput(many=True)


class GrowthApi(MetricsApi):
    csv_name = "growth"

    @extend_schema(
        tags=["analytics"],
        summary="New and cancelled subscriptions and the churn rate per day/week/month",
        parameters=[PeriodInput, CSV],
        responses={200: GrowthOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN},
    )
    def get(self, request):
        values = _period_input(request)
        period, granularity = values["period"], values["granularity"]
        points = growth_series(period=period, granularity=granularity)
        body = {"start": period.first_day, "end": period.last_day, "granularity": granularity, "points": points}
        return Response(GrowthOutput(body).data)


class RevenuePointOutput(serializers.Serializer):
    first_day = serializers.DateField()
    last_day = serializers.DateField()
    currency = serializers.CharField()
    subscriptions = serializers.IntegerField(help_text="Subscription invoices paid, minor units.")
    purchases = serializers.IntegerField(help_text="One-time purchases paid, minor units.")
    refunds = serializers.IntegerField(help_text="Refunds made, minor units.")
    net = serializers.IntegerField(help_text="subscriptions + purchases - refunds.")
    payments = serializers.IntegerField()


class RevenueTrendOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    granularity = serializers.CharField()
    organization = serializers.IntegerField(allow_null=True)
    points = RevenuePointOutput(many=True)


class RevenueTrendApi(MetricsApi):
    permission_classes = [ViewsMetricsOrSeller]
    csv_name = "revenue-trend"

    @extend_schema(
        tags=["analytics"],
        summary="Money in minus money out per day/week/month and currency (a seller: its templates' sales)",
        parameters=[PeriodInput, CSV],
        responses={200: RevenueTrendOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request):
        values = _period_input(request)
        period, granularity, organization = values["period"], values["granularity"], values.get("organization")
        scope = seller_scope(request=request, organization_id=organization)
        points = revenue_trend(period=period, granularity=granularity, scope=scope)
        body = {
            "start": period.first_day,
            "end": period.last_day,
            "granularity": granularity,
            "organization": organization,
            "points": points,
        }
        return Response(RevenueTrendOutput(body).data)


class CohortOutput(serializers.Serializer):
    month = serializers.DateField(help_text="First day of the month of the customers' first payment.")
    customers = serializers.IntegerField()
    retained = serializers.ListField(
        child=serializers.IntegerField(), help_text="Still paying 0, 1, 2... months later."
    )
    retention = serializers.ListField(
        child=serializers.DecimalField(max_digits=6, decimal_places=2), help_text="retained ÷ customers × 100."
    )


class CohortsOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    organization = serializers.IntegerField(allow_null=True)
    cohorts = CohortOutput(many=True)


class CohortsApi(MetricsApi):
    permission_classes = [ViewsMetricsOrSeller]
    csv_name = "cohorts"

    @extend_schema(
        tags=["analytics"],
        summary="Cohort retention: customers by month of first payment, the share still paying N months later",
        parameters=[PeriodInput, CSV],
        responses={200: CohortsOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request):
        values = _period_input(request)
        period, organization = values["period"], values.get("organization")
        scope = seller_scope(request=request, organization_id=organization)
        cohorts = cohort_retention(first_month=period.first_day, last_month=period.last_day, scope=scope)
        body = {"start": period.first_day, "end": period.last_day, "organization": organization, "cohorts": cohorts}
        return Response(CohortsOutput(body).data)


class FunnelStepOutput(serializers.Serializer):
    step = serializers.CharField()
    count = serializers.IntegerField()
    conversion = serializers.DecimalField(
        max_digits=9, decimal_places=2, allow_null=True, help_text="count ÷ the previous step's × 100."
    )


class FunnelOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    steps = FunnelStepOutput(many=True)


class FunnelApi(MetricsApi):
    csv_name = "funnel"

    @extend_schema(
        tags=["analytics"],
        summary="Conversion funnel: visit → signup → checkout started → paid",
        parameters=[PeriodInput, CSV],
        responses={200: FunnelOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN},
    )
    def get(self, request):
        period = _period_input(request)["period"]
        body = {"start": period.first_day, "end": period.last_day, "steps": conversion_funnel(period=period)}
        return Response(FunnelOutput(body).data)


class ContentViewsOutput(serializers.Serializer):
    item_type = serializers.CharField(help_text='The page, e.g. "content:article_detail" or "marketplace:detail".')
    item_id = serializers.CharField(help_text="Its first URL argument, e.g. a slug.")
    views = serializers.IntegerField()
    daily_visitors = serializers.IntegerField(help_text="Distinct visitors per day, summed over the days.")


class TopContentOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    organization = serializers.IntegerField(allow_null=True)
    items = ContentViewsOutput(many=True)


class TopContentApi(MetricsApi):
    permission_classes = [ViewsMetricsOrSeller]
    csv_name = "top-content"

    @extend_schema(
        tags=["analytics"],
        summary="The most viewed items (lessons, articles, quizzes, templates) from the daily rollups",
        parameters=[PeriodInput, CSV],
        responses={200: TopContentOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request):
        values = _period_input(request)
        period, organization = values["period"], values.get("organization")
        scope = seller_scope(request=request, organization_id=organization)
        if scope is None:
            items = top_content(period=period, limit=20)
        else:
            items = top_content(period=period, limit=20, item_type="marketplace:detail", item_ids=scope.item_ids)
        body = {"start": period.first_day, "end": period.last_day, "organization": organization, "items": items}
        return Response(TopContentOutput(body).data)


class ContentConversionInput(DateRangeInput):
    limit = serializers.IntegerField(
        required=False, default=20, min_value=1, max_value=100, help_text="How many items, most converting first."
    )


class ContentConversionItemOutput(serializers.Serializer):
    item_type = serializers.CharField(help_text='The page, e.g. "content:lesson_detail" or "marketplace:detail".')
    item_id = serializers.CharField(help_text="Its first URL argument (a slug).")
    customers = serializers.IntegerField(help_text="Customers who viewed it in the 7 days before their first payment.")
    views = serializers.IntegerField(help_text="Their views of it in those 7 days.")
    first_touch = serializers.IntegerField(help_text="Customers whose first view in the window was this item.")
    last_touch = serializers.IntegerField(help_text="Customers whose last view before paying was this item.")


class ContentConversionOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    customers = serializers.IntegerField(help_text="Customers whose first payment fell in the period.")
    attributed = serializers.IntegerField(help_text="Of them, those with a content view in the 7 days before it.")
    items = ContentConversionItemOutput(many=True)


class ContentConversionApi(MetricsApi):
    csv_name = "content-conversion"

    @extend_schema(
        tags=["analytics"],
        summary="Lessons, articles and templates viewed in the 7 days before a customer's first payment: "
        "customers, views, first touch and last touch per item (staff)",
        parameters=[ContentConversionInput, CSV],
        responses={200: ContentConversionOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN},
    )
    def get(self, request):
        data = ContentConversionInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        period = data.validated_data["period"]
        report = content_before_conversion(period=period, limit=data.validated_data["limit"])
        body = {
            "start": period.first_day,
            "end": period.last_day,
            "customers": report.customers,
            "attributed": report.attributed,
            "items": report.items,
        }
        return Response(ContentConversionOutput(body).data)
