"""Liveness (/healthz) and readiness (/readyz) probes.

Readiness runs django-health-check's database and cache checks plus a broker check
and answers 503 naming the failing part, so an orchestrator takes the pod out of
rotation instead of sending it traffic it cannot serve.
"""

import asyncio
import dataclasses

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (skipped when Celery runs eagerly)."""

    def run(self):
        if not settings.CELERY_BROKER_URL:
            return
        from config.celery import app

        try:
            with app.connection_for_write(url=settings.CELERY_BROKER_URL) as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:  # any transport error means "not reachable"
            raise ServiceUnavailable("broker unreachable") from exc


READINESS_CHECKS = {"database": Database, "cache": Cache, "broker": Broker}


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


async def _run_checks():
    checks = {name: klass() for name, klass in READINESS_CHECKS.items()}
    results = await asyncio.gather(*(check.get_result() for check in checks.values()))
    return dict(zip(checks, results, strict=True))


@never_cache
def readyz(request):
    results = asyncio.run(_run_checks())
    failing = {name: str(result.error) for name, result in results.items() if result.error}
    body = {
        "status": "unavailable" if failing else "ok",
        "checks": {name: ("ok" if not result.error else str(result.error)) for name, result in results.items()},
    }
    if failing:
        body["failing"] = sorted(failing)
    return JsonResponse(body, status=503 if failing else 200)
