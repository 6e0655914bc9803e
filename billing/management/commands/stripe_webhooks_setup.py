"""`python manage.py stripe_webhooks_setup`: register the site's Stripe webhook endpoint (idempotent)."""

import time

import stripe
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billing.webhooks import webhook_endpoint_register


class Command(BaseCommand):
    help = "Register this site's dj-stripe webhook URL with Stripe (the sandbox in development) and in dj-stripe."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default=settings.SITE_URL, help="where Stripe can reach this site")
        parser.add_argument(
            "--wait", type=float, default=0, help="seconds to wait for the Stripe API (a sandbox still starting)"
        )

    def handle(self, *args, base_url, wait, **options):
        deadline = time.monotonic() + wait
        while True:
            try:
                endpoint, created = webhook_endpoint_register(base_url=base_url)
                break
            except stripe.APIConnectionError as exc:
                if time.monotonic() >= deadline:
                    raise CommandError(f"Stripe API unreachable: {exc.user_message}") from exc
                time.sleep(0.2)
        verb = "Registered" if created else "Already registered"
        self.stdout.write(f"{verb} webhook endpoint {endpoint.id} -> {endpoint.url}")
