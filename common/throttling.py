"""DRF rate throttles that cost one cache round trip per request, whatever their number.

DRF's SimpleRateThrottle keeps every request's timestamp in one cached list and
rewrites the whole list on each request: at 6000/minute that is a 6000-entry pickle
read and written per call. These throttles count instead: a counter per caller and
limit, whose window starts at the caller's first request and lasts the rate's
duration; Retry-After is the time left in that window.

On Redis (django-redis) the first window throttle of a request raises the counters of
*all* the view's window throttles in one small Lua script (INCR, and PEXPIRE when it
opens the window; PTTL for Retry-After) and leaves the counts on the request for the
others: one round trip for burst + sustained, atomic on the server, so the count is
exact across processes and threads. Anywhere else (the local-memory cache of the
embedded set-up) each throttle increments its own counter through the cache API.

DRF asks every throttle of a view even once one refused (it collects their waits), so
raising all counters at once counts exactly what asking them one by one did.

A fixed window admits at most 2× the rate across a window edge, which the burst +
sustained pair bounds in practice; the window follows each caller, so tests and
callers do not see a shared clock edge.
"""

import hashlib
import logging
import math

from redis.exceptions import NoScriptError, RedisError
from rest_framework.throttling import SimpleRateThrottle

# KEYS: the counters; ARGV[i]: the window of KEYS[i] in ms. Returns count, ms left per key.
_HIT_SCRIPT = """
local out = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local left = redis.call('PTTL', key)
  if left < 0 then
    left = tonumber(ARGV[i])
    redis.call('PEXPIRE', key, left)
  end
  out[2 * i - 1] = count
  out[2 * i] = left
end
return out
"""
logger = logging.getLogger(__name__)

_HIT_SCRIPT_SHA = hashlib.sha1(_HIT_SCRIPT.encode()).hexdigest()  # noqa: S324 (Redis names scripts so)

# The same, after reading ARGV[1] plain keys (GET) first: an authentication that reads its
# credential from the cache counts the caller's windows in that one round trip.
# KEYS: the keys to read, then the counters; ARGV[1]: how many to read; ARGV[1 + i]: the
# window of the i-th counter in ms. Returns the values read, then count, ms left per counter.
_READ_AND_HIT_SCRIPT = """
local reads = tonumber(ARGV[1])
local out = {}
for i = 1, reads do
  out[i] = redis.call('GET', KEYS[i])
end
for i = reads + 1, #KEYS do
  local count = redis.call('INCR', KEYS[i])
  local left = redis.call('PTTL', KEYS[i])
  if left < 0 then
    left = tonumber(ARGV[i - reads + 1])
    redis.call('PEXPIRE', KEYS[i], left)
  end
  out[reads + 2 * (i - reads) - 1] = count
  out[reads + 2 * (i - reads)] = left
end
return out
"""
_READ_AND_HIT_SCRIPT_SHA = hashlib.sha1(_READ_AND_HIT_SCRIPT.encode()).hexdigest()  # noqa: S324
_REQUEST_COUNTS = "_window_counter_counts"  # attribute of the DRF request: cache key → (count, ms left)


def _redis_client(cache):
    """The raw Redis client behind a django-redis cache, or None for any other backend."""
    client = getattr(cache, "client", None)
    get_client = getattr(client, "get_client", None)
    if get_client is None or not type(client).__module__.startswith("django_redis"):
        return None
    return get_client(write=True)


class WindowCounterThrottle(SimpleRateThrottle):
    """Subclasses give `scope` and `get_cache_key`, as with SimpleRateThrottle."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        self.left_ms = None
        redis = _redis_client(self.cache)
        if redis is None:
            count = self._hit()
        else:
            try:
                count, self.left_ms = self._hit_on_redis(redis, request, view)
            except RedisError as error:
                # Redis down: the request is served without its limits rather than refused with a 500
                # (authentication already fell back to PostgreSQL); the outage is logged.
                logger.warning("throttling: Redis unavailable, rate limits not counted: %s", error)
                return True
        return count <= self.num_requests

    def _hit_on_redis(self, redis, request, view) -> tuple[int, int]:
        # Counted already by the first throttle of this request: take (and consume) the answer.
        pending = getattr(request, _REQUEST_COUNTS, None)
        if pending and self.key in pending:
            return pending.pop(self.key)
        windows = {self.key: self.duration}
        if view is not None:  # DRF's dispatch: one request object per request, so it may carry the others' counts
            for other in view.get_throttles():
                if isinstance(other, WindowCounterThrottle) and other.rate is not None:
                    other_key = other.get_cache_key(request, view)
                    if other_key is not None:
                        windows.setdefault(other_key, other.duration)
        counts = _hit_all(redis, self.cache, windows)
        mine = counts.pop(self.key)
        if counts:
            setattr(request, _REQUEST_COUNTS, counts)
        return mine

    def _hit(self) -> int:
        try:
            return self.cache.incr(self.key)
        except ValueError:  # no window open for this caller: open one
            if self.cache.add(self.key, 1, self.duration):
                self.cache.set(self._start_key, self.now, self.duration)
                return 1
            return self.cache.incr(self.key)  # another request opened it first

    def cache_key_for(self, request, view, *, ident: str) -> str | None:
        """The key this throttle counts `ident` under, before authentication has finished; None
        when it would not count by that identity (subclasses that know their identities say)."""
        return None

    @property
    def _start_key(self) -> str:
        return f"{self.key}:start"

    def wait(self):
        if self.left_ms is not None:
            return max(1, math.ceil(self.left_ms / 1000))
        started = self.cache.get(self._start_key)
        remaining = self.duration if started is None else self.duration - (self.now - started)
        return max(1, math.ceil(remaining))


def _hit_all(redis, cache, windows: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Raise every counter in `windows` (key → window in seconds) in one script call."""
    keys = list(windows)
    arguments = [cache.make_key(key) for key in keys] + [windows[key] * 1000 for key in keys]
    try:
        answer = redis.evalsha(_HIT_SCRIPT_SHA, len(keys), *arguments)
    except NoScriptError:  # first use since Redis started (or its scripts were flushed): EVAL loads it
        answer = redis.eval(_HIT_SCRIPT, len(keys), *arguments)
    return {key: (int(answer[2 * i]), int(answer[2 * i + 1])) for i, key in enumerate(keys)}


def read_and_count(cache, *, read: list[str], request, windows: dict[str, int]) -> dict:
    """`cache.get_many(read)`, and on Redis the counters of `windows` raised in the same round trip.

    The counts are left on the (DRF) request for the throttles that own those keys, which
    then take them instead of asking Redis: an API key read from the cache and its
    caller's burst and sustained windows cost one round trip together. Elsewhere (the
    local-memory cache) only the read happens here and the throttles count as usual.
    """
    redis = _redis_client(cache)
    if redis is None or not windows:
        return cache.get_many(read)
    counters = list(windows)
    keys = [cache.make_key(key) for key in read] + [cache.make_key(key) for key in counters]
    arguments = [len(read), *(windows[key] * 1000 for key in counters)]
    try:
        answer = redis.evalsha(_READ_AND_HIT_SCRIPT_SHA, len(keys), *keys, *arguments)
    except NoScriptError:
        answer = redis.eval(_READ_AND_HIT_SCRIPT, len(keys), *keys, *arguments)
    decode = cache.client.decode
    values = {key: decode(answer[i]) for i, key in enumerate(read) if answer[i] is not None}
    offset = len(read)
    counts = {key: (int(answer[offset + 2 * i]), int(answer[offset + 2 * i + 1])) for i, key in enumerate(counters)}
    setattr(request, _REQUEST_COUNTS, {**getattr(request, _REQUEST_COUNTS, {}), **counts})
    return values


def window_throttle_keys(request, view, *, ident: str) -> dict[str, int]:
    """The counters (key → window in seconds) the view's window throttles would raise for `ident`."""
    if view is None:
        return {}
    windows = {}
    for throttle in view.get_throttles():
        if isinstance(throttle, WindowCounterThrottle) and throttle.rate is not None:
            key = throttle.cache_key_for(request, view, ident=ident)
            if key is not None:
                windows[key] = throttle.duration
    return windows
