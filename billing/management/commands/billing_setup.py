from django.core.management.base import BaseCommand

from billing.services.catalogue import catalogue_sync


class Command(BaseCommand):
    help = "Create or update the plans' products and prices in Stripe (or the sandbox); safe to run again."

    def handle(self, *args, **options):
        done = catalogue_sync()
        for line in done:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Catalogue in sync ({len(done)} change{'s' if len(done) != 1 else ''})."))
