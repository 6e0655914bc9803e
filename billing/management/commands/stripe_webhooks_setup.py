"""`python manage.py stripe_webhooks_setup`: register dj-stripe's webhook endpoint (idempotent)."""

from django.core.management.base import BaseCommand

from billing.webhooks import webhook_endpoint_register


class Command(BaseCommand):
    help = "Register this site's dj-stripe webhook URL with Stripe (the sandbox in development) and in dj-stripe."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="where Stripe can reach this site")

    def handle(self, *args, base_url, **options):
        endpoint, created = webhook_endpoint_register(base_url=base_url)
        verb = "Registered" if created else "Already registered"
        self.stdout.write(f"{verb} webhook endpoint {endpoint.id} -> {endpoint.url}")
