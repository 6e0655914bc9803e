"""Recompute billing's revenue rollups (MRR per day, paying customers, payments per month) from the source rows."""

from django.core.management.base import BaseCommand

from billing.services.revenue import revenue_version_bump
from billing.services.revenue_rollups import revenue_rollups_rebuild


class Command(BaseCommand):
    help = "Rebuild billing's revenue rollups from subscription states and payments (a repair; safe while live)."

    def handle(self, *args, **options):
        counts = revenue_rollups_rebuild()
        revenue_version_bump()  # figures cached from the old rollups are not read again
        self.stdout.write(", ".join(f"{name}: {count:,}" for name, count in counts.items()))
