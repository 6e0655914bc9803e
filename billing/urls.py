from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("pricing/", views.pricing, name="pricing"),
    path("checkout/", views.checkout_start, name="checkout_start"),
    path("checkout/success/", views.checkout_success, name="checkout_success"),
    path("checkout/cancel/", views.checkout_cancel, name="checkout_cancel"),
    path("purchase/", views.purchase_buy, name="purchase_buy"),
    path("purchase/return/", views.purchase_return, name="purchase_return"),
    path("settings/", views.settings_page, name="settings"),
    path("purchases/<int:purchase_id>/receipt/", views.purchase_receipt, name="purchase_receipt"),
    path("portal/", views.portal, name="portal"),
    path("subscription/cancel/", views.subscription_cancel_page, name="subscription_cancel"),
    path("subscription/resume/", views.subscription_resume_page, name="subscription_resume"),
    path("subscription/change/", views.subscription_change_page, name="subscription_change"),
    path("subscription/change/preview/", views.subscription_change_preview_page, name="subscription_change_preview"),
]
