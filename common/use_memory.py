"""Recording "last used" at most once per resolution per thing, per process, with no read.

API keys and JWT sessions record their last use on requests that otherwise write nothing.
Each web process remembers when it last recorded each one and writes again only after the
resolution has passed, with a conditional UPDATE that changes nothing if another process
did it meanwhile. Forgetting is harmless (one more conditional UPDATE), so the memory is
bounded by clearing it when full.
"""

import threading
from datetime import datetime, timedelta


class UseMemory:
    def __init__(self, *, resolution: timedelta, max_size: int = 10_000):
        self.resolution = resolution
        self.max_size = max_size
        self._last: dict = {}
        self._lock = threading.Lock()

    def due(self, key, now: datetime) -> bool:
        """True (and remembered as recorded now) when this process should record `key`'s use."""
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.resolution:
                return False
            if len(self._last) >= self.max_size:
                self._last.clear()
            self._last[key] = now
            return True
