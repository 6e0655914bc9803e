"""Cached catalogue answers (a search's ranked ids, a listing's count) that are never older than
the last change to the catalogue.

Every entry carries the catalogue's *generation* it was computed under, read (with the entry, in
one `get_many`) before the database is read; an entry of another generation is a miss. Any
change to what a listing shows or how it orders (a template saved, published or archived, a
review's stars, a sale) bumps the generation to a fresh random token, at once and again after
its commit (`catalogue_changed`, called by the services). A read that began before the change
committed may still store its answer late, under the old generation, where nobody accepts it:
the race billing/cache.py describes, closed the same way. A lost generation key only causes
misses.

What is cached is which templates and how many, never the rows themselves: a page reads its
templates by primary key (title, price, rating, seller's name as they are now).
"""

import hashlib
import logging
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

GENERATION_KEY = "marketplace:catalogue:gen"
# A bound for writes that bypass the services (a shell, raw SQL): their effect shows within it.
DEFAULT_SECONDS = 60


def catalogue_cache_seconds() -> int:
    """How long an answer is kept; 0 turns the cache off (MARKETPLACE_CATALOGUE_CACHE_SECONDS)."""
    return getattr(settings, "MARKETPLACE_CATALOGUE_CACHE_SECONDS", DEFAULT_SECONDS)


def catalogue_key(*parts: object) -> str:
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"marketplace:catalogue:{digest}"


def _bump() -> None:
    # The cache down never fails the write (nor, after its commit, the request): logged. Entries
    # it still holds when it comes back are at most DEFAULT_SECONDS old.
    try:
        cache.set(GENERATION_KEY, secrets.token_hex(8), None)
    except Exception as error:  # noqa: BLE001 - any cache backend's failure
        logger.warning("catalogue cache: generation not bumped (cache unavailable): %s", error)


def catalogue_changed() -> None:
    """The catalogue changed (or will, when the current transaction commits): every answer cached so far is stale."""
    _bump()
    transaction.on_commit(_bump)


class CatalogueRead:
    """One cached answer: `hit` is the value when current (else None); `store(value)` keeps a fresh one."""

    def __init__(self, *, key: str):
        self.key = key
        self.hit = None
        self.seconds = catalogue_cache_seconds()
        if not self.seconds:
            return
        try:
            values = cache.get_many([key, GENERATION_KEY])
            generation = values.get(GENERATION_KEY)
            if generation is None:
                cache.add(GENERATION_KEY, secrets.token_hex(8), None)
                generation = cache.get(GENERATION_KEY) or ""
        except Exception as error:  # noqa: BLE001 - the cache down: read the database, store nothing
            logger.warning("catalogue cache: unavailable, answering from the database: %s", error)
            self.seconds = 0
            return
        self.generation = generation
        entry = values.get(key)
        if isinstance(entry, dict) and entry.get("g") == generation:
            self.hit = entry["v"]

    def store(self, value) -> None:
        if not self.seconds:
            return
        try:
            cache.set(self.key, {"g": self.generation, "v": value}, self.seconds)
        except Exception as error:  # noqa: BLE001
            logger.warning("catalogue cache: answer not stored (cache unavailable): %s", error)
