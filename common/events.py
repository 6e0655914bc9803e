"""Product events: `track()` records that something happened; it only buffers.

Any app calls `track("search", organization_id=..., properties={"query": q, "results": 12})`
from its services; nothing here or in those apps imports `analytics`, which registers
the flusher (`flusher_register`) when it loads and stores the buffered events in bulk.

Tracking never breaks or slows a request: the event is buffered after the surrounding
transaction commits (a rolled-back purchase leaves no "purchase" event), and when the
buffer cannot be written (Redis down) the event is dropped, counted and logged, and the
request goes on. Each event carries a random `uuid`, which the table keeps unique, so a
batch stored twice (a worker killed mid-flush, then re-run) is stored once.

Buffers:
- Redis (when `REDIS_URL` is set): a list every web and worker process shares. A flush
  *claims* up to N events by moving them, in one atomic script, into a batch of their
  own ("in flight"); it deletes the batch only after the rows are committed. A batch
  whose worker died stays in flight and the next flush stores it again (no doubles:
  unique uuid).
- Local memory (the embedded default): a list in this process, claimed the same way.
  With Celery eager (no broker) the flush runs in-process right after the event.
"""

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

# The events the product knows; the API refuses any other name.
EVENT_NAMES = (
    "page_view",
    "click",
    "search",
    "category_browse",
    "purchase",
    "checkout_started",
    "signup",
    "feature_usage",
    "lesson_progress",
    "template_render",
)
MAX_PROPERTIES_BYTES = 2048
# The first-party cookie of an anonymous visitor's random id (set by analytics' page-view middleware).
VISITOR_COOKIE = "plateau_vid"
# A batch left in flight this long belongs to a worker that died: the next flush takes it over.
STALE_BATCH_SECONDS = 60

_flusher: Callable[[int, int], None] | None = None
_lost = 0
_lost_lock = threading.Lock()


def flusher_register(flusher: Callable[[int, int], None]) -> None:
    """Called once by the app that stores events (analytics): told how many wait after each push
    and how many that push added, it may flush."""
    global _flusher
    _flusher = flusher


def events_lost() -> int:
    """Events this process could not buffer since it started (logged one by one as well)."""
    return _lost


def event_payload(
    name: str,
    *,
    organization_id: int | None = None,
    user_id: int | None = None,
    anonymous_id: str = "",
    path: str = "",
    item_type: str = "",
    item_id: str = "",
    properties: dict | None = None,
    at: datetime | None = None,
) -> dict:
    """The buffered form of one event (a JSON-safe dict)."""
    return {
        "uuid": uuid.uuid4().hex,
        "name": name,
        "at": (at or datetime.now(tz=UTC)).isoformat(),
        "organization_id": organization_id,
        "user_id": user_id,
        "anonymous_id": anonymous_id[:64],
        "path": path[:500],
        "item_type": item_type[:32],
        "item_id": str(item_id)[:64],
        "properties": properties or {},
    }


@dataclass(frozen=True)
class EventSource:
    """Who did something and on which page, as a view knows it; services pass it on to `track`.

    A signed-in user's id, and the anonymous visitor id of the browser (the `plateau_vid`
    cookie, kept beside the user id so a visit before signing up joins the signup).
    """

    user_id: int | None = None
    anonymous_id: str = ""
    path: str = ""

    def fields(self) -> dict:
        return {"user_id": self.user_id, "anonymous_id": self.anonymous_id, "path": self.path}


def event_source(request) -> EventSource:
    """The source of events a request causes: its user (if signed in), visitor cookie and path."""
    user = getattr(request, "user", None)
    visitor = request.COOKIES.get(VISITOR_COOKIE, "")
    return EventSource(
        user_id=user.pk if user is not None and user.is_authenticated else None,
        anonymous_id=visitor if len(visitor) <= 64 else "",
        path=request.path,
    )


def track(name: str, *, source: EventSource | None = None, **fields) -> None:
    """Buffer one event once the current transaction commits; never raises.

    `fields`: organization_id, user_id, anonymous_id, path, item_type, item_id,
    properties (a small JSON object), at (default now). A `source` gives user_id,
    anonymous_id and path where `fields` does not.
    """
    try:
        if name not in EVENT_NAMES:
            raise ValueError(f"unknown event {name!r}")
        if source is not None:
            fields = {**fields, **{k: v for k, v in source.fields().items() if fields.get(k) in (None, "")}}
        payload = event_payload(name, **fields)
    except (TypeError, ValueError, AttributeError):
        logger.error("track: malformed event dropped: %r %r", name, fields, exc_info=True)
        return
    try:
        transaction.on_commit(lambda: _tracked(payload), robust=True)
    except transaction.TransactionManagementError:
        # A connection in manual transaction management (autocommit off) has no commit to wait
        # for here: buffer now. Tracking never breaks the request.
        _tracked(payload)


# Events of the current request, held to go to Redis with its metrics (`events_held`); None outside.
_held: ContextVar[list[str] | None] = ContextVar("events_held", default=None)


@contextmanager
def events_held():
    """While a request runs, its events wait here, to be pushed in the round trip that counts it.

    The outermost middleware (common.metrics) wraps the request in this and, after it,
    sends what it holds with the request's counters (`common.metrics.request_record`). Only with Redis
    (the embedded buffer costs no round trip): yields the held list, or None.
    """
    if not settings.REDIS_URL:
        yield None
        return
    held: list[str] = []
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)


def events_held_lost(held: list[str] | None) -> None:
    """The round trip with a request's held events failed: push them on their own (or count them lost)."""
    if held:
        _push(held)


def events_buffer(payloads: list[dict]) -> int:
    """Append events to the buffer now; returns how many were buffered (0 when the buffer is down)."""
    if not payloads:
        return 0
    return _push([json.dumps(p, separators=(",", ":")) for p in payloads])


def _tracked(payload: dict) -> None:
    """A tracked event: held for the request's round trip when one runs, else pushed now."""
    held = _held.get()
    if held is not None:
        held.append(json.dumps(payload, separators=(",", ":")))
    else:
        events_buffer([payload])


def _push(items: list[str]) -> int:
    try:
        waiting = buffer().push(items)
    except Exception:  # noqa: BLE001 — tracking must never break the request; the loss is counted
        _count_lost(len(items))
        return 0
    events_flush_if_due(waiting, len(items))
    return len(items)


def events_flush_if_due(waiting: int, count: int) -> None:
    """`count` events were just pushed and `waiting` wait in the buffer: the registered flusher may flush."""
    if _flusher is not None:
        try:
            _flusher(waiting, count)
        except Exception:  # noqa: BLE001 — beat flushes within a minute anyway
            logger.warning("track: could not start a flush; beat will", exc_info=True)


def _count_lost(count: int) -> None:
    global _lost
    with _lost_lock:
        _lost += count
        total = _lost
    logger.error("track: event buffer unavailable, %d event(s) lost (%d in this process)", count, total, exc_info=True)


class LocalBuffer:
    """The buffer of one process (embedded default, tests without Redis)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._waiting: list[str] = []
        self._in_flight: dict[str, tuple[float, list[str]]] = {}

    def push(self, items: list[str]) -> int:
        with self._lock:
            self._waiting.extend(items)
            return len(self._waiting)

    def claim(self, *, limit: int) -> tuple[str, list[str]]:
        with self._lock:
            items, self._waiting = self._waiting[:limit], self._waiting[limit:]
            batch_id = uuid.uuid4().hex
            if items:
                self._in_flight[batch_id] = (time.time(), items)
            return batch_id, items

    def stale_batches(self, *, older_than: float) -> list[tuple[str, list[str]]]:
        cutoff = time.time() - older_than
        with self._lock:
            return [(bid, items) for bid, (at, items) in self._in_flight.items() if at <= cutoff]

    def ack(self, batch_id: str) -> None:
        with self._lock:
            self._in_flight.pop(batch_id, None)

    def waiting(self) -> int:
        return len(self._waiting)

    def in_flight(self) -> int:
        return sum(len(items) for _, items in self._in_flight.values())

    def clear(self) -> None:
        with self._lock:
            self._waiting.clear()
            self._in_flight.clear()


class RedisBuffer:
    """A Redis list shared by every process; claimed batches live under their own key until acknowledged."""

    # Atomically: take up to N from the head of the buffer into a new batch, note when.
    _CLAIM = """
    local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
    if #items == 0 then return items end
    redis.call('LTRIM', KEYS[1], #items, -1)
    redis.call('RPUSH', KEYS[2], unpack(items))
    redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
    return items
    """

    def __init__(self, prefix: str):
        self.key = f"{prefix}:events:buffer"
        self.batches_key = f"{prefix}:events:batches"
        self.batch_prefix = f"{prefix}:events:batch:"

    @property
    def redis(self):
        from django_redis import get_redis_connection

        return get_redis_connection("default")

    def push(self, items: list[str]) -> int:
        return self.redis.rpush(self.key, *items)

    def claim(self, *, limit: int) -> tuple[str, list[str]]:
        batch_id = uuid.uuid4().hex
        keys = [self.key, self.batch_prefix + batch_id, self.batches_key]
        items = self.redis.eval(self._CLAIM, len(keys), *keys, limit, time.time(), batch_id)
        return batch_id, [i.decode() if isinstance(i, bytes) else i for i in items]

    def stale_batches(self, *, older_than: float) -> list[tuple[str, list[str]]]:
        redis = self.redis
        batch_ids = redis.zrangebyscore(self.batches_key, "-inf", time.time() - older_than)
        batches = []
        for raw in batch_ids:
            batch_id = raw.decode() if isinstance(raw, bytes) else raw
            items = redis.lrange(self.batch_prefix + batch_id, 0, -1)
            batches.append((batch_id, [i.decode() if isinstance(i, bytes) else i for i in items]))
        return batches

    def ack(self, batch_id: str) -> None:
        pipe = self.redis.pipeline()
        pipe.delete(self.batch_prefix + batch_id)
        pipe.zrem(self.batches_key, batch_id)
        pipe.execute()

    def waiting(self) -> int:
        return self.redis.llen(self.key)

    def in_flight(self) -> int:
        redis = self.redis
        return sum(
            redis.llen(self.batch_prefix + (b.decode() if isinstance(b, bytes) else b))
            for b in redis.zrange(self.batches_key, 0, -1)
        )

    def clear(self) -> None:
        redis = self.redis
        batch_ids = redis.zrange(self.batches_key, 0, -1)
        redis.delete(
            self.key,
            self.batches_key,
            *[self.batch_prefix + (b.decode() if isinstance(b, bytes) else b) for b in batch_ids],
        )


_local = LocalBuffer()


def buffer() -> LocalBuffer | RedisBuffer:
    """Redis when the cache is Redis (shared by every process), else this process's memory."""
    if settings.REDIS_URL:
        return RedisBuffer(prefix=settings.CACHES["default"].get("KEY_PREFIX", "plateau"))
    return _local
