"""`python manage.py stripe_sandbox --port 12111`: serve the local Stripe sandbox on 127.0.0.1."""

import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billing.sandbox.server import SandboxServer


class Command(BaseCommand):
    help = "Run the local Stripe sandbox (a development stand-in for api.stripe.com) on 127.0.0.1."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=12111)
        parser.add_argument(
            "--db", default=str(settings.BASE_DIR / ".sandbox" / "stripe.sqlite3"), help="SQLite file holding its state"
        )
        parser.add_argument("--reset", action="store_true", help="forget all state before starting")
        parser.add_argument("--retry-backoff", type=float, default=5.0, help="seconds before the first webhook retry")
        parser.add_argument(
            "--tick", type=float, default=30.0, help="every so many seconds, run renewals and trial ends now due"
        )
        parser.add_argument("--shuffle-deliveries", action="store_true", help="deliver webhooks in random order")
        parser.add_argument("--duplicate-deliveries", action="store_true", help="deliver every webhook twice")
        parser.add_argument(
            "--delivery-workers", type=int, default=4, help="webhook posts in flight at once (order is not kept)"
        )

    def handle(
        self,
        *args,
        port,
        db,
        reset,
        retry_backoff,
        tick,
        shuffle_deliveries,
        duplicate_deliveries,
        delivery_workers,
        **options,
    ):
        if settings.PRODUCTION:
            raise CommandError("The Stripe sandbox is a development tool and does not run in production.")
        try:
            server = SandboxServer(
                db_path=db,
                port=port,
                api_keys=(settings.STRIPE_SECRET_KEY,),
                retry_backoff=retry_backoff,
                tick_seconds=tick,
                delivery_workers=delivery_workers,
            )
        except OSError as exc:
            raise CommandError(f"Cannot listen on 127.0.0.1:{port}: {exc}") from exc
        if reset:
            server.reset()
        server.deliverer.shuffle = shuffle_deliveries
        server.deliverer.duplicate = duplicate_deliveries
        self.stdout.write(f"Stripe sandbox listening on {server.url} (state in {db}); Ctrl-C stops it.")
        # `make run` stops it with SIGTERM: shut down as cleanly as on Ctrl-C (the store is closed).
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()


def _interrupt(signum, frame):
    raise KeyboardInterrupt
