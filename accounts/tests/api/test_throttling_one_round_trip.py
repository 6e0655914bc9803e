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


class KeyLimited(Limited):
    """The API's authentication (API key from the cache) and its burst + sustained limits."""

    permission_classes = []

    def post(self, request):
        return Response({"organization": request.auth.organization_id})


@pytest.mark.django_db
def test_an_api_key_and_its_limits_cost_one_round_trip_together(require_redis, settings, monkeypatch):
    from accounts.services.api_keys import api_key_create
    from accounts.tests.factories import MembershipFactory

    _rates(settings, burst="3/minute", sustained="8/minute")
    admin = MembershipFactory(role="admin")
    created = api_key_create(organization=admin.organization, name="sdk", created_by=admin.user)
    view = KeyLimited.as_view()

    def call():
        request = APIRequestFactory().post("/", {}, format="json", HTTP_AUTHORIZATION=f"Api-Key {created.secret}")
        return view(request)

    assert call().status_code == 200  # reads the key from the database and caches it
    commands = []
    real = Redis.execute_command

    def counted(self, *args, **options):
        commands.append(args[0])
        return real(self, *args, **options)

    monkeypatch.setattr(Redis, "execute_command", counted)
    response = call()
    monkeypatch.undo()

    assert response.status_code == 200
    assert response.data == {"organization": admin.organization_id}
    assert commands in (["EVALSHA"], ["EVALSHA", "EVAL"])  # the key and both counters: one script call
    # Counted exactly, by the key's identity: the third request is the last the burst admits.
    assert [call().status_code for _ in range(2)] == [200, 429]
    redis = get_redis_connection("default")
    prefix = created.api_key.prefix
    assert int(redis.get(cache.make_key(f"throttle_burst_key:{prefix}"))) == 4
    assert int(redis.get(cache.make_key(f"throttle_sustained_key:{prefix}"))) == 4


DEAD_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}


@pytest.mark.django_db
def test_with_redis_down_an_api_key_request_is_still_answered(settings, caplog):
    """The key is read from PostgreSQL and the rate limits let the request through (logged), rather than a 500."""
    from accounts.services.api_keys import api_key_create
    from accounts.tests.factories import MembershipFactory

    admin = MembershipFactory(role="admin")
    created = api_key_create(organization=admin.organization, name="sdk", created_by=admin.user)
    settings.CACHES = DEAD_REDIS
    request = APIRequestFactory().post("/", {}, format="json", HTTP_AUTHORIZATION=f"Api-Key {created.secret}")

    with caplog.at_level("WARNING"):
        response = KeyLimited.as_view()(request)

    assert response.status_code == 200
    assert response.data == {"organization": admin.organization_id}
    assert "rate limits not counted" in caplog.text
