from django.urls import path

from billing.api import customers, features, purchases, subscriptions

app_name = "billing_api"

urlpatterns = [
    path("features/check-access/", features.CheckAccessApi.as_view(), name="check_access"),
    path("features/track-usage/", features.TrackUsageApi.as_view(), name="track_usage"),
    path("entitlements/", features.EntitlementsApi.as_view(), name="entitlements"),
    path("customers/", customers.CustomerListApi.as_view(), name="customers"),
    path("customers/<int:customer_id>/", customers.CustomerDetailApi.as_view(), name="customer"),
    path("customers/<int:customer_id>/archive/", customers.CustomerArchiveApi.as_view(), name="customer_archive"),
    path("subscriptions/", subscriptions.SubscriptionListApi.as_view(), name="subscriptions"),
    path("subscriptions/<str:subscription_id>/", subscriptions.SubscriptionDetailApi.as_view(), name="subscription"),
    path(
        "subscriptions/<str:subscription_id>/cancel/",
        subscriptions.SubscriptionCancelApi.as_view(),
        name="subscription_cancel",
    ),
    path(
        "subscriptions/<str:subscription_id>/resume/",
        subscriptions.SubscriptionResumeApi.as_view(),
        name="subscription_resume",
    ),
    path(
        "subscriptions/<str:subscription_id>/change-plan/",
        subscriptions.SubscriptionChangePlanApi.as_view(),
        name="subscription_change_plan",
    ),
    path(
        "subscriptions/<str:subscription_id>/change-plan/preview/",
        subscriptions.SubscriptionChangePreviewApi.as_view(),
        name="subscription_change_preview",
    ),
    path("invoices/", subscriptions.InvoiceListApi.as_view(), name="invoices"),
    path("purchases/", purchases.PurchaseListCreateApi.as_view(), name="purchases"),
    path("purchases/<int:purchase_id>/", purchases.PurchaseDetailApi.as_view(), name="purchase"),
    path("purchases/<int:purchase_id>/refund/", purchases.PurchaseRefundApi.as_view(), name="purchase_refund"),
]
