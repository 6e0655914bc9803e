from django.urls import path

from billing.api import features, purchases

app_name = "billing_api"

urlpatterns = [
    path("features/check-access/", features.CheckAccessApi.as_view(), name="check_access"),
    path("features/track-usage/", features.TrackUsageApi.as_view(), name="track_usage"),
    path("entitlements/", features.EntitlementsApi.as_view(), name="entitlements"),
    path("purchases/", purchases.PurchaseListCreateApi.as_view(), name="purchases"),
    path("purchases/<int:purchase_id>/", purchases.PurchaseDetailApi.as_view(), name="purchase"),
    path("purchases/<int:purchase_id>/refund/", purchases.PurchaseRefundApi.as_view(), name="purchase_refund"),
]
