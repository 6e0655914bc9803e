"""Request rate, error rate and latency, counted per minute in the shared cache (Redis in production).

Every web process adds to the same per-minute counters, so `monitor` sees the whole
deployment: a request count, a 5xx count and a latency histogram per minute, kept for
an hour. Counting is one pipelined round trip to Redis and can never fail a request.
"""

import bisect
import logging
import time

from django.conf import settings
from django.core.cache import cache

from common.events import buffer, events_flush_if_due, events_held, events_held_lost

logger = logging.getLogger(__name__)

# Upper bounds of the latency buckets, in milliseconds; a last bucket holds everything slower.
BUCKETS_MS = (5, 10, 25, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000)
KEEP_SECONDS = 3600


def _key(minute: int, name: str) -> str:
    return f"ops:req:{minute}:{name}"


def _redis():
    if not settings.REDIS_URL:
        return None
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def _raw_key(key: str) -> str:
    return cache.make_key(key)


def request_record(*, status: int, duration_ms: float, now: float | None = None, events: list[str] = ()) -> None:
    """Count one request; on Redis `events` (the request's held analytics events) go in the same round trip."""
    minute = int((now if now is not None else time.time()) // 60)
    names = ["n", f"b{bisect.bisect_left(BUCKETS_MS, duration_ms)}"]
    if status >= 500:
        names.append("5xx")
    redis = _redis()
    if redis is not None:
        pipe = redis.pipeline(transaction=False)
        if events:
            pipe.rpush(buffer().key, *events)
        for name in names:
            key = _raw_key(_key(minute, name))
            pipe.incr(key)
            pipe.expire(key, KEEP_SECONDS)
        answers = pipe.execute()
        if events:
            events_flush_if_due(answers[0], len(events))
        return
    for name in names:
        key = _key(minute, name)
        cache.add(key, 0, KEEP_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, KEEP_SECONDS)


def request_stats(*, window_minutes: int = 5, now: float | None = None) -> dict:
    """Requests, 5xx, rate per second, error rate and p95 (the upper bound of its bucket, ms) over the window."""
    current = int((now if now is not None else time.time()) // 60)
    minutes = range(current - window_minutes + 1, current + 1)
    names = ["n", "5xx", *(f"b{i}" for i in range(len(BUCKETS_MS) + 1))]
    keys = [_key(m, name) for m in minutes for name in names]
    values = cache.get_many(keys)
    total = sum(int(values.get(_key(m, "n"), 0)) for m in minutes)
    errors = sum(int(values.get(_key(m, "5xx"), 0)) for m in minutes)
    histogram = [sum(int(values.get(_key(m, f"b{i}"), 0)) for m in minutes) for i in range(len(BUCKETS_MS) + 1)]
    return {
        "requests": total,
        "server_errors": errors,
        "request_rate": round(total / (window_minutes * 60), 3),
        "error_rate": round(errors / total, 4) if total else 0.0,
        "p95_ms": _percentile(histogram, 0.95),
    }


def _percentile(histogram: list[int], share: float) -> float | None:
    total = sum(histogram)
    if not total:
        return None
    needed, seen = share * total, 0
    for index, count in enumerate(histogram):
        seen += count
        if seen >= needed:
            return float(BUCKETS_MS[index]) if index < len(BUCKETS_MS) else float("inf")
    return float("inf")


class RequestMetricsMiddleware:
    """Outermost: times the whole request and counts it; a counting failure is logged, never raised."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        with events_held() as held:  # the request's analytics events ride on the counters' round trip
            try:
                response = self.get_response(request)
            except BaseException:
                events_held_lost(held)
                raise
        try:
            request_record(
                status=response.status_code, duration_ms=(time.perf_counter() - started) * 1000, events=held or ()
            )
        except Exception as error:  # the cache is down: the request still succeeds
            logger.warning("request metrics not recorded: %r", error)
            events_held_lost(held)
        return response
