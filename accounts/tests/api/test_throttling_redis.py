"""On Redis, a rate limit is one exact count shared by every web process and thread."""

import threading
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from accounts.tests.api.conftest import ME, assert_error_shape
from accounts.tests.api.test_throttling import _rates
from accounts.tests.factories import MembershipFactory
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


@pytest.mark.django_db
def test_a_throttled_caller_is_told_how_long_the_window_has_left(require_redis, settings):
    _rates(settings, sustained="3/minute")
    client = APIClient()
    client.force_authenticate(MembershipFactory().user)
    for _ in range(3):
        assert client.get(ME).status_code == 200

    response = client.get(ME)

    assert_error_shape(response, status=429, code="throttled")
    assert 55 <= int(response["Retry-After"]) <= 60
