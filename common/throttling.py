"""A DRF rate throttle that costs one cache round trip per request.

DRF's SimpleRateThrottle keeps every request's timestamp in one cached list and
rewrites the whole list on each request: at 6000/minute that is a 6000-entry pickle
read and written per call, the main cost of a busy SDK's request. This throttle counts
instead: one atomic increment (Redis INCR through django-redis, or the local-memory
cache's lock) of a counter whose window starts at the caller's first request and lasts
the rate's duration. Retry-After is the time left in that window.

A fixed window admits at most 2× the rate across a window edge, which the burst +
sustained pair bounds in practice; the window follows each caller, so tests and
callers do not see a shared clock edge.
"""

import math

from rest_framework.throttling import SimpleRateThrottle


class WindowCounterThrottle(SimpleRateThrottle):
    """Subclasses give `scope` and `get_cache_key`, as with SimpleRateThrottle."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        count = self._hit()
        return count <= self.num_requests

    def _hit(self) -> int:
        try:
            return self.cache.incr(self.key)
        except ValueError:  # no window open for this caller: open one
            if self.cache.add(self.key, 1, self.duration):
                self.cache.set(self._start_key, self.now, self.duration)
                return 1
            return self.cache.incr(self.key)  # another request opened it first

    @property
    def _start_key(self) -> str:
        return f"{self.key}:start"

    def wait(self):
        started = self.cache.get(self._start_key)
        remaining = self.duration if started is None else self.duration - (self.now - started)
        return max(1, math.ceil(remaining))
