"""On Redis, a rate limit is one exact count shared by every web process and thread."""

import threading
from types import SimpleNamespace

import pytest

from accounts.tests.api.test_throttling import _rates
from accounts.throttling import SustainedRateThrottle

pytestmark = pytest.mark.services


def test_concurrent_requests_at_the_limit_admit_exactly_the_rate(require_redis, settings):
    _rates(settings, sustained="10/minute")
    caller = SimpleNamespace(auth=None, user=SimpleNamespace(pk=424242, is_authenticated=True))
    start, admitted, lock = threading.Barrier(40), [], threading.Lock()

    def call():
        start.wait()
        allowed = SustainedRateThrottle().allow_request(caller, None)
        with lock:
            admitted.append(allowed)

    threads = [threading.Thread(target=call) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert admitted.count(True) == 10
    assert admitted.count(False) == 30
