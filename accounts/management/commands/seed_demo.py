"""Load the demo data of every app, idempotently, and print how to log in.

Each app that has demo data provides `<app>/demo.py` with `seed_demo() -> list[str]`
(lines to print); they run in dependency order, so billing can use accounts' users.
"""

from importlib import import_module
from importlib.util import find_spec

from django.core.management.base import BaseCommand

SEED_APPS = ["accounts", "billing", "content", "marketplace", "analytics"]


class Command(BaseCommand):
    help = "Create demo users, organizations and data (safe to run again)."

    def handle(self, *args, **options):
        for app in SEED_APPS:
            if find_spec(f"{app}.demo") is None:
                continue
            lines = import_module(f"{app}.demo").seed_demo()
            self.stdout.write(self.style.MIGRATE_HEADING(f"{app}:"))
            for line in lines:
                self.stdout.write(f"  {line}")
