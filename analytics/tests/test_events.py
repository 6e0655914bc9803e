"""Product events: the API, the page-view middleware, the buffer's flush, rollups and retention (embedded)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services.api_keys import api_key_create
from accounts.tests.factories import UserFactory
from analytics.models import DailyRollup, Event
from analytics.services import events_flush, events_prune, events_store, rollups_build, rollups_refresh
from billing.tests.factories import MembershipFactory, OrganizationFactory
from common import events as tracking

pytestmark = pytest.mark.django_db

URL = "/api/v1/analytics/events"


DEAD_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}


@pytest.fixture(autouse=True)
def empty_buffer():
    """The buffer (local, or Redis on the services run), empty around each test."""
    tracking.buffer().clear()
    yield
    tracking._local.clear()  # settings may still point at a dead Redis here; the next test clears Redis


def key_client(organization, scopes=("events:write",)) -> APIClient:
    admin = MembershipFactory(organization=organization).user
    created = api_key_create(organization=organization, name="sdk", created_by=admin, scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {created.secret}")
    return client


def test_a_batch_from_an_api_key_is_stored_for_its_organization():
    org = OrganizationFactory()
    body = {
        "events": [
            {"name": "search", "properties": {"query": "tone", "results": 4}, "anonymous_id": "v1"},
            {"name": "category_browse", "item_type": "category", "item_id": "writing", "path": "/marketplace/"},
            {"name": "click", "at": "2026-12-01T10:00:00Z", "properties": {"target": "buy"}},
        ]
    }
    response = key_client(org).post(URL, body, format="json")
    assert (response.status_code, response.json()) == (202, {"accepted": 3})
    stored = list(
        Event.objects.order_by("name").values_list("name", "organization_id", "user_id", "item_id", "properties")
    )
    assert stored == [
        ("category_browse", org.pk, None, "writing", {}),
        ("click", org.pk, None, "", {"target": "buy"}),
        ("search", org.pk, None, "", {"query": "tone", "results": 4}),
    ]
    assert Event.objects.get(name="click").occurred_at == datetime(2026, 12, 1, 10, tzinfo=UTC)


def test_a_batch_with_one_bad_event_names_it_and_stores_nothing():
    org = OrganizationFactory()
    body = {
        "events": [{"name": "search"}, {"name": "search"}, {"name": "teleport"}, {"name": "click", "properties": [1]}]
    }
    response = key_client(org).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"] == [
        {"field": "events.2.name", "message": '"teleport" is not a valid choice.'},
        {"field": "events.3.properties", "message": "Must be a JSON object."},
    ]
    assert Event.objects.count() == 0


def test_batches_are_at_most_100_events_and_not_empty():
    client = key_client(OrganizationFactory())
    too_many = client.post(URL, {"events": [{"name": "click"}] * 101}, format="json")
    assert too_many.status_code == 400
    assert too_many.json()["errors"] == [
        {"field": "events", "message": "Ensure this field has no more than 100 elements."}
    ]
    assert client.post(URL, {"events": []}, format="json").status_code == 400
    assert client.post(URL, {"events": [{"name": "click"}] * 100}, format="json").json() == {"accepted": 100}
    assert Event.objects.count() == 100


def test_who_may_send_events():
    org = OrganizationFactory()
    body = {"events": [{"name": "click"}]}
    assert APIClient().post(URL, body, format="json").status_code == 401
    refused = key_client(org, scopes=("usage:write",)).post(URL, body, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert Event.objects.count() == 0

    membership = MembershipFactory()
    person = APIClient()
    person.force_authenticate(user=membership.user)
    assert person.post(URL, {**body, "organization": membership.organization_id}, format="json").status_code == 202
    assert Event.objects.get().organization_id == membership.organization_id
    assert Event.objects.get().user_id == membership.user_id
    # Another organization's id: 404, as for one that does not exist; nothing stored.
    assert person.post(URL, {**body, "organization": org.pk}, format="json").status_code == 404
    assert Event.objects.count() == 1


def test_a_down_buffer_is_a_503_in_the_error_shape(settings, monkeypatch):
    from analytics.api.events import EventsApi

    client = key_client(OrganizationFactory())
    settings.REDIS_URL, settings.CACHES = "redis://127.0.0.1:1/0", DEAD_REDIS
    # Throttling counts in the same (dead) Redis; this test is about the buffer.
    monkeypatch.setattr(EventsApi, "throttle_classes", [])
    response = client.post(URL, {"events": [{"name": "click"}]}, format="json")
    assert (response.status_code, response.json()["code"]) == (503, "events_unavailable")
    assert Event.objects.count() == 0


def test_page_views_are_tracked_with_a_visitor_cookie_and_admin_pages_are_not(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = client.get("/")
    assert first.status_code == 200
    visitor = first.cookies["plateau_vid"].value
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/")
        client.get("/admin/login/")
        client.get("/no-such-page/")
    assert list(Event.objects.values_list("name", "path", "anonymous_id")) == [
        ("page_view", "/", visitor),
        ("page_view", "/", visitor),
    ]

    user = UserFactory()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/")
    assert Event.objects.filter(user_id=user.pk).count() == 1


def test_pages_still_work_when_the_buffer_is_down_and_the_loss_is_counted(
    client, settings, django_capture_on_commit_callbacks
):
    settings.REDIS_URL, settings.CACHES = "redis://127.0.0.1:1/0", DEAD_REDIS
    lost = tracking.events_lost()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/")
    assert response.status_code == 200
    assert tracking.events_lost() == lost + 1
    assert Event.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_page_event_held_for_the_request_pipeline_is_counted_lost_once_when_redis_is_down(client, settings):
    # Committed during the request, the page view waits for the pipeline that counts the request
    # (common.metrics); that pipeline fails, the event is pushed on its own, fails too, and is counted.
    settings.REDIS_URL, settings.CACHES = "redis://127.0.0.1:1/0", DEAD_REDIS
    lost = tracking.events_lost()
    response = client.get("/")
    assert response.status_code == 200
    assert tracking.events_lost() == lost + 1


def _payloads(count: int, *, at: datetime | None = None) -> list[str]:
    import json

    return [json.dumps(tracking.event_payload("click", anonymous_id=f"v{n % 7}", at=at)) for n in range(count)]


def test_a_batch_left_in_flight_by_a_dead_flush_is_stored_once(monkeypatch):
    monkeypatch.setattr(tracking, "_flusher", None)
    buffer = tracking.buffer()
    buffer.push(_payloads(2500))
    # A worker claimed a batch, stored part of it, and died before acknowledging it.
    _, claimed = buffer.claim(limit=1000)
    events_store(payloads=claimed[:400])
    assert (buffer.waiting(), buffer.in_flight(), Event.objects.count()) == (1500, 1000, 400)

    events_flush(stale_after=0)
    assert (buffer.waiting(), buffer.in_flight(), Event.objects.count()) == (0, 0, 2500)
    assert Event.objects.values("uuid").distinct().count() == 2500
    events_flush(stale_after=0)
    assert Event.objects.count() == 2500


def test_a_recent_batch_in_flight_is_left_to_its_worker(monkeypatch):
    monkeypatch.setattr(tracking, "_flusher", None)
    buffer = tracking.buffer()
    buffer.push(_payloads(10))
    buffer.claim(limit=4)
    events_flush()  # the claim is seconds old: its worker may still be storing it
    assert (Event.objects.count(), buffer.in_flight()) == (6, 4)


def test_rollups_are_identical_when_rebuilt_and_catch_late_events():
    day = date(2026, 11, 20)
    noon = datetime(2026, 11, 20, 12, tzinfo=UTC)
    for n in range(5):
        tracking_row = tracking.event_payload("page_view", anonymous_id=f"a{n % 2}", at=noon)
        events_store(payloads=[tracking_row])
    events_store(payloads=[tracking.event_payload("page_view", user_id=9, at=noon)])
    events_store(payloads=[tracking.event_payload("purchase", item_type="quiz", item_id="7", user_id=9, at=noon)])
    events_store(payloads=[tracking.event_payload("page_view", anonymous_id="x", at=noon + timedelta(days=1))])

    assert rollups_build(day=day) == 2
    first = list(DailyRollup.objects.filter(day=day).values_list("name", "item_type", "item_id", "events", "visitors"))
    assert first == [("page_view", "", "", 6, 3), ("purchase", "quiz", "7", 1, 1)]
    rollups_build(day=day)
    assert (
        list(DailyRollup.objects.filter(day=day).values_list("name", "item_type", "item_id", "events", "visitors"))
        == first
    )

    # A late event for that day, then beat's refresh two days later re-rolls it.
    events_store(payloads=[tracking.event_payload("page_view", anonymous_id="late", at=noon)])
    rollups_refresh(today=day + timedelta(days=2))
    assert DailyRollup.objects.get(day=day, name="page_view").events == 7
    assert DailyRollup.objects.get(day=day + timedelta(days=1)).events == 1


def test_retention_deletes_old_raw_events_and_keeps_rollups(settings):
    settings.ANALYTICS_EVENT_RETENTION_DAYS = 90
    now = datetime(2026, 12, 1, tzinfo=UTC)
    old, kept = now - timedelta(days=91), now - timedelta(days=89)
    events_store(payloads=[tracking.event_payload("click", at=old) for _ in range(25)])
    events_store(payloads=[tracking.event_payload("click", at=kept) for _ in range(3)])
    rollups_build(day=old.date())
    assert events_prune(now=now, batch_size=10) == 25
    assert Event.objects.count() == 3
    assert DailyRollup.objects.get(day=old.date()).events == 25


def test_a_long_buffer_asks_for_one_flush_per_hundred_events_not_one_per_event(settings, monkeypatch):
    """With the worker slow or away the buffer stays long; each push must not publish a flush."""
    from analytics import tasks
    from config.celery import app

    settings.ANALYTICS_FLUSH_AT = 100
    published = []
    app.conf.task_always_eager = False  # the suite's autouse fixture makes it eager again for the next test
    monkeypatch.setattr(tasks.events_flush, "delay", lambda: published.append(len(published)))

    for _ in range(250):
        tracking.events_buffer([tracking.event_payload("page_view", path="/")])
    assert len(published) == 1  # at 100 waiting; at 200 that flush was still queued

    cache.delete(tasks.FLUSH_PENDING_KEY)  # what the queued flush does when it starts
    for _ in range(49):
        tracking.events_buffer([tracking.event_payload("page_view", path="/")])
    assert len(published) == 1  # 299 waiting: no multiple of 100 crossed since
    batch = [tracking.event_payload("page_view", path="/") for _ in range(100)]
    tracking.events_buffer(batch)  # 299 → 399 waiting: past 300
    assert len(published) == 2
    tracking.events_buffer(batch)  # past 400, but that flush has not started
    assert len(published) == 2
    assert tracking.buffer().waiting() == 499


def test_a_flush_that_could_not_be_published_does_not_hold_the_next_one_back(settings, monkeypatch):
    """Broker down: the push still succeeds (the events wait in the buffer), and the next
    crossing asks again instead of waiting for a flag nobody will clear."""
    from analytics import tasks
    from config.celery import app

    settings.ANALYTICS_FLUSH_AT = 100
    app.conf.task_always_eager = False  # the suite's autouse fixture makes it eager again for the next test
    attempts = []

    def broker_down():
        attempts.append(1)
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.events_flush, "delay", broker_down)
    batch = [tracking.event_payload("page_view", path="/") for _ in range(100)]

    assert tracking.events_buffer(batch) == 100
    assert tracking.events_buffer(batch) == 100

    assert len(attempts) == 2  # one per crossing: the failed one left no flag behind
    assert cache.get(tasks.FLUSH_PENDING_KEY) is None
    assert tracking.buffer().waiting() == 200
