"""Events through Redis and a real Celery worker: a worker killed mid-flush loses and doubles nothing."""

import json
import time

import pytest

from analytics.models import Event
from analytics.services import events_flush
from common import events as tracking

pytestmark = pytest.mark.services

TOTAL = 30_000


def test_a_worker_killed_mid_flush_loses_nothing_and_doubles_nothing(require_postgres, require_redis, celery_worker):
    buffer = tracking.buffer()
    assert isinstance(buffer, tracking.RedisBuffer)
    buffer.clear()
    accepted = 0
    # Buffered as the API and track() do; past 100 waiting, each push asks the worker to flush.
    for chunk in range(TOTAL // 1000):
        payloads = [tracking.event_payload("click", anonymous_id=f"v{chunk}-{n}") for n in range(1000)]
        accepted += tracking.events_buffer(payloads)
    assert accepted == TOTAL

    # Kill the worker (SIGKILL: no clean-up) once it has stored some of them.
    deadline = time.monotonic() + 60
    while not Event.objects.exists() and time.monotonic() < deadline:
        celery_worker.poll()
    stored_before_kill = Event.objects.count()
    celery_worker.kill()
    celery_worker.wait(timeout=20)
    assert stored_before_kill > 0

    # The next flush (beat's, here run in this process) takes over what the dead worker held.
    events_flush(stale_after=0)
    assert (buffer.waiting(), buffer.in_flight()) == (0, 0)
    assert Event.objects.count() == TOTAL
    assert Event.objects.values("uuid").distinct().count() == TOTAL
    names = {json.dumps(sorted(set(Event.objects.values_list("name", flat=True))))}
    assert names == {'["click"]'}
