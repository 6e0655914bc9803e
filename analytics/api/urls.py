from django.urls import path

from analytics.api import events, metrics

app_name = "analytics_api"

urlpatterns = [
    path("analytics/events", events.EventsApi.as_view(), name="events"),
    path("analytics/revenue/", metrics.RevenueApi.as_view(), name="revenue"),
    path("analytics/top-customers/", metrics.TopCustomersApi.as_view(), name="top_customers"),
    path("analytics/mrr/", metrics.MrrApi.as_view(), name="mrr"),
    path("analytics/growth/", metrics.GrowthApi.as_view(), name="growth"),
    path("analytics/revenue-trend/", metrics.RevenueTrendApi.as_view(), name="revenue_trend"),
    path("analytics/cohorts/", metrics.CohortsApi.as_view(), name="cohorts"),
    path("analytics/funnel/", metrics.FunnelApi.as_view(), name="funnel"),
    path("analytics/top-content/", metrics.TopContentApi.as_view(), name="top_content"),
    path("analytics/content-conversion/", metrics.ContentConversionApi.as_view(), name="content_conversion"),
]
