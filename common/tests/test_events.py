"""track(): buffered after the commit, never raising; a down buffer counts the loss."""

import json

import pytest
from django.db import transaction

from common import events


@pytest.fixture
def local_buffer(settings):
    settings.REDIS_URL = ""
    buffer = events.buffer()
    buffer.clear()
    yield buffer
    buffer.clear()


@pytest.fixture
def no_flusher(monkeypatch):
    """The buffer alone (analytics registers a flusher that would empty it at once)."""
    monkeypatch.setattr(events, "_flusher", None)


@pytest.mark.django_db(transaction=True)
def test_track_buffers_after_commit_and_not_after_rollback(local_buffer, no_flusher):
    with transaction.atomic():
        events.track("search", organization_id=7, properties={"query": "tone", "results": 3})
        assert local_buffer.waiting() == 0  # not before the commit
    with pytest.raises(RuntimeError), transaction.atomic():
        events.track("purchase", item_type="quiz", item_id="12")
        raise RuntimeError("rolled back")

    _, items = local_buffer.claim(limit=10)
    assert [json.loads(i)["name"] for i in items] == ["search"]
    event = json.loads(items[0])
    assert (event["organization_id"], event["properties"]) == (7, {"query": "tone", "results": 3})
    assert len(event["uuid"]) == 32


@pytest.mark.django_db(transaction=True)
def test_an_unknown_event_name_or_field_is_dropped_without_raising(local_buffer, no_flusher):
    events.track("pageview")
    events.track("click", colour="blue")
    assert local_buffer.waiting() == 0


def test_a_down_buffer_loses_the_event_counts_it_and_does_not_raise(settings, no_flusher, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    before = events.events_lost()
    assert events.events_buffer([events.event_payload("click", path="/")]) == 0
    assert events.events_lost() == before + 1
    assert "1 event(s) lost" in caplog.text
