from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from analytics import views as analytics_views
from billing.views import stripe_webhook
from common import health
from common.views import api_not_found
from config import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # The business metrics dashboard, inside the back office (the admin's login and MFA guard it).
    path("admin/analytics/", admin.site.admin_view(analytics_views.dashboard), name="analytics-dashboard"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # Stripe posts here: our view stores dj-stripe's trigger and processes it in Celery
    # (billing/services/webhook_intake.py). It serves the path of dj-stripe's own
    # endpoint, which stays included only so that names reversing it keep working.
    path("stripe/webhook/<uuid:uuid>/", stripe_webhook, name="stripe-webhook"),
    path("stripe/", include("djstripe.urls", namespace="djstripe")),
    path("settings/", include("accounts.urls")),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("billing.api.urls")),
    path("api/v1/", include("analytics.api.urls")),
    path("api/v1/content/", include("content.api.urls")),
    path("api/v1/marketplace/", include("marketplace.api.urls")),
    path("billing/", include("billing.urls")),
    path("learn/", include("content.urls")),
    path("marketplace/", include("marketplace.urls")),
    path("analytics/", include("analytics.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Last: anything else under /api/ is a JSON 404 in the error shape, DEBUG or not.
    re_path(r"^api/", api_not_found),
]

handler404 = "common.views.not_found"
handler500 = "common.views.server_error"
