"""Registering the site's Stripe webhook endpoint (dj-stripe's URL, served by billing.views.stripe_webhook)."""

import uuid
from urllib.parse import urljoin

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from djstripe.models import WebhookEndpoint
from djstripe.settings import djstripe_settings

from billing import gateway

WEBHOOK_PATH_PREFIX = "/stripe/webhook/"


def webhook_endpoint_register(*, base_url: str) -> tuple[WebhookEndpoint, bool]:
    """Make sure Stripe posts every event to this site's dj-stripe webhook URL; idempotent.

    Returns the endpoint and whether it had to be created. An endpoint registered
    earlier is kept when both Stripe and dj-stripe's table still know it; otherwise the
    stale copies on either side are removed and a new endpoint is created, because
    Stripe reveals an endpoint's signing secret only when it is created.
    """
    base_url = base_url.rstrip("/")
    prefix = base_url + WEBHOOK_PATH_PREFIX
    remote = {endpoint.id: endpoint for endpoint in gateway.webhook_endpoint_list() if endpoint.url.startswith(prefix)}
    for local in WebhookEndpoint.objects.filter(url__startswith=prefix):
        match = remote.get(local.id)
        if match is not None and match.url == local.url and match.status == "enabled" and local.secret:
            return local, False
    for endpoint_id in remote:
        gateway.webhook_endpoint_delete(endpoint_id=endpoint_id)
    endpoint_uuid = uuid.uuid4()
    url = urljoin(base_url, reverse("djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": endpoint_uuid}))
    created = gateway.webhook_endpoint_create(
        url=url,
        enabled_events=["*"],
        metadata={"djstripe_uuid": str(endpoint_uuid)},
        api_version=djstripe_settings.STRIPE_API_VERSION,
    )
    with transaction.atomic():
        WebhookEndpoint.objects.filter(url__startswith=prefix).delete()
        endpoint = WebhookEndpoint.sync_from_stripe_data(created.to_dict(), api_key=settings.STRIPE_SECRET_KEY)
        endpoint.secret = created.secret
        endpoint.save(update_fields=["secret"])
    return endpoint, True
