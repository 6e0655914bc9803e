from django.urls import path

from analytics.api import events, metrics

app_name = "analytics_api"

urlpatterns = [
    path("analytics/events", events.EventsApi.as_view(), name="events"),
    path("analytics/revenue/", metrics.RevenueApi.as_view(), name="revenue"),
    path("analytics/top-customers/", metrics.TopCustomersApi.as_view(), name="top_customers"),
]
