"""Live health of the running system, from the shared cache, the broker and the system log.

Exit code with --once (for cron, a health checker, Nagios-style): 0 all under
thresholds, 2 something above its threshold (MONITOR_THRESHOLDS), 3 something could not be
read and nothing is above.
"""

import json
import time

from django.core.management.base import BaseCommand

from common.selectors import monitor_readings

OK, ALERT, UNKNOWN = 0, 2, 3


class Command(BaseCommand):
    help = "Request rate, error rate, p95 latency, queue depth, failed webhooks, errors and backup age; alerts by exit code."  # noqa: E501

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="print once and exit with the alert code")
        parser.add_argument("--window", type=int, default=5, help="minutes looked back (default 5)")
        parser.add_argument("--interval", type=float, default=10.0, help="seconds between refreshes")
        parser.add_argument("--json", action="store_true", help="one JSON object per reading set")

    def handle(self, *args, once=False, window=5, interval=10.0, as_json=False, **options):
        as_json = options.get("json", False)
        while True:
            readings = monitor_readings(window_minutes=window)
            self._print(readings, as_json=as_json)
            code = ALERT if any(r.alerting for r in readings) else (
                UNKNOWN if any(r.value is None and r.threshold is not None for r in readings) else OK
            )
            if once:
                if code:
                    raise SystemExit(code)
                return
            time.sleep(max(interval, 1.0))

    def _print(self, readings, *, as_json: bool):
        if as_json:
            self.stdout.write(json.dumps({
                r.name: {"value": r.value, "threshold": r.threshold, "state": r.state, "unit": r.unit} for r in readings
            }))
            return
        for r in readings:
            value = "?" if r.value is None else f"{r.value:g}"
            limit = "" if r.threshold is None else f" (max {r.threshold:g})"
            note = f"  {r.note}" if r.note else ""
            self.stdout.write(f"{r.state:<7} {r.name:<16} {value}{(' ' + r.unit) if r.unit else ''}{limit}{note}")
