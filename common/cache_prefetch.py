"""Cache entries a view is about to read, fetched in the authentication's round trip.

The API's authentication already asks Redis once per request (the caller's key or
session with its rate-limit counters: common.throttling.read_and_count). A view may
define `cache_prefetch_keys(request) -> list[str]`, the cache keys it expects to read
for this request (check-access: its cached answer and the generations behind it); they
are read in that same round trip and left on the request (`cache_prefetched`).

What was fetched is only a head start: a reader uses it when every key it needs is
there, and asks the cache itself otherwise. Values read a few milliseconds earlier are
as safe as values read now under billing's generations (an entry is accepted only under
the generations read with it, before the database).
"""

import logging

logger = logging.getLogger(__name__)

_ATTRIBUTE = "cache_prefetched"


def cache_prefetch_keys(request, view) -> list[str]:
    """The keys `view` wants read with the authentication, or [] (never raises)."""
    hook = getattr(view, "cache_prefetch_keys", None)
    if hook is None:
        return []
    try:
        return list(hook(request))
    except Exception:  # noqa: BLE001 — a head start only: the view reads for itself
        logger.warning("cache prefetch keys of %s failed", type(view).__name__, exc_info=True)
        return []


def cache_prefetched_keep(request, keys: list[str], values: dict) -> None:
    setattr(request, _ATTRIBUTE, {key: values.get(key) for key in keys})


def cache_prefetched(request) -> dict | None:
    """What the authentication fetched for the view: key → value (None when absent), or None."""
    return getattr(request, _ATTRIBUTE, None)


def prefetched_values(prefetched: dict | None, keys: list[str]) -> dict | None:
    """A `get_many` answer for `keys` from what was fetched, or None unless every key was."""
    if not prefetched or any(key not in prefetched for key in keys):
        return None
    return {key: prefetched[key] for key in keys if prefetched[key] is not None}
