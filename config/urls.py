from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from billing.views import stripe_webhook
from common import health

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
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
    path("api/v1/marketplace/", include("marketplace.api.urls")),
    path("billing/", include("billing.urls")),
    path("learn/", include("content.urls")),
    path("marketplace/", include("marketplace.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

handler404 = "common.views.not_found"
handler500 = "common.views.server_error"
