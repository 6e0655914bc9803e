from django.urls import path

from billing.api import features

app_name = "billing_api"

urlpatterns = [
    path("features/check-access/", features.CheckAccessApi.as_view(), name="check_access"),
    path("features/track-usage/", features.TrackUsageApi.as_view(), name="track_usage"),
    path("entitlements/", features.EntitlementsApi.as_view(), name="entitlements"),
]
