"""On Redis, all of a view's window throttles cost one round trip, and the count stays exact."""

import threading
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django_redis import get_redis_connection
from redis import Redis
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from accounts.throttling import BurstRateThrottle, SustainedRateThrottle

pytestmark = pytest.mark.services


class Limited(APIView):
    permission_classes = []
    throttle_classes = [BurstRateThrottle, SustainedRateThrottle]

    def get(self, request):
        return Response({})


def _rates(settings, **rates):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


def _call(user_pk: int):
    request = APIRequestFactory().get("/")
    force_authenticate(request, user=SimpleNamespace(pk=user_pk, is_authenticated=True, is_active=True))
    return Limited.as_view()(request)


def test_burst_and_sustained_are_counted_in_one_round_trip(require_redis, settings, monkeypatch):
    _rates(settings, burst="5/minute", sustained="8/minute")
    commands = []
    real = Redis.execute_command

    def counted(self, *args, **options):
        commands.append(args[0])
        return real(self, *args, **options)

    monkeypatch.setattr(Redis, "execute_command", counted)
    assert _call(515151).status_code == 200
    assert commands in (["EVALSHA"], ["EVALSHA", "EVAL"])  # EVAL once if Redis did not know the script yet
    monkeypatch.undo()

    redis = get_redis_connection("default")
    for scope, window in (("burst", 60), ("sustained", 60)):
        key = cache.make_key(f"throttle_{scope}_user:515151")
        assert int(redis.get(key)) == 1
        assert 0 < redis.pttl(key) <= window * 1000


def test_the_first_request_over_a_limit_is_refused_with_the_time_left(require_redis, settings):
    _rates(settings, burst="5/minute", sustained="8/minute")

    answers = [_call(626262) for _ in range(7)]

    assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
    assert 59 <= int(answers[5]["Retry-After"]) <= 60
    # Every request was counted by both limits, as DRF asking them one by one did.
    redis = get_redis_connection("default")
    assert int(redis.get(cache.make_key("throttle_burst_user:626262"))) == 7
    assert int(redis.get(cache.make_key("throttle_sustained_user:626262"))) == 7


def test_concurrent_requests_through_a_view_admit_exactly_the_rate(require_redis, settings):
    _rates(settings, burst="1000/minute", sustained="10/minute")
    start, statuses, lock = threading.Barrier(30), [], threading.Lock()

    def call():
        start.wait()
        status = _call(737373).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=call) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * 10 + [429] * 20
