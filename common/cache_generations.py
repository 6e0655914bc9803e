"""Generations: the scheme that keeps a cached answer from ever being older than the last change.

Billing's access cache, API keys and JWT callers use it. A cached entry carries the
generation(s) it was computed under, read *before* the database; a change bumps the
generation to a fresh random token (callers bump now and again after their commit). An
entry whose generation is not the current one is a miss, so an answer computed from rows
read before a change, and stored after it, is never served. Generations never expire on
their own: an evicted one only causes misses.
"""

import secrets

from django.core.cache import cache


def generation_bump(key: str) -> None:
    """A change: from now on, entries computed under the old generation are misses."""
    cache.set(key, secrets.token_hex(8), None)


def generation_current(values: dict, key: str) -> str:
    """The generation under `key` from a `get_many` answer, starting one if it is missing.

    Two processes may start one at once: `add` lets one win and both read the winner's.
    """
    value = values.get(key)
    if value is None:
        cache.add(key, secrets.token_hex(8), None)
        value = cache.get(key) or ""
    return value
