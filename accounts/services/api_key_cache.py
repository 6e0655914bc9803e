"""API keys answered from the shared cache, never older than the last change to the key.

Every API request of an SDK presents its key; reading the key (and its organization)
from PostgreSQL on each one cost more than the whole framework. So a key's row lives in
the cache (Redis in production) under the key's *generation*, the same scheme as
billing's access cache: the generation is read before the database, a change bumps it
to a fresh random token now and again after its commit, and an entry whose generation
is not the current one is a miss. A request that read the row before a revocation
committed therefore stores an answer nobody accepts, and the first request after the
commit, on any web process, reads the revoked row: a revoked key is refused at once
everywhere, not after a TTL.

A read is one round trip (the entry and its generation in one `get_many`). The entry
holds the fields of the row but `last_used_at` (a hint written at most once a minute,
see `api_key_touch`) and `created_by`, which stay deferred, so the key an
authentication returns is the row as it stands; its organization is a deferred
instance too: its id is known, any other field is read from the database when (and
if) a caller reads it.

Expiry needs no bump: the entry carries `expires_at` and each request compares it with
the clock. Revocation bumps through `api_key_revoke`; any other save or delete of a key
(the admin, an organization's deletion cascading to its keys) bumps through the
receivers in `accounts.receivers`.
"""

import logging
from collections.abc import Callable

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction

from accounts.models import ApiKey, Organization
from common.cache_generations import generation_bump, generation_current

logger = logging.getLogger(__name__)

ENTRY_SECONDS = 600
# Every field but two, left deferred (read from the database if a caller reads them):
# last_used_at changes on use, and created_by is set to NULL, without a save, when that
# person's account is deleted.
_FIELDS = tuple(f.attname for f in ApiKey._meta.concrete_fields if f.attname not in {"last_used_at", "created_by_id"})


def _entry_key(prefix: str) -> str:
    return f"accounts:apikey:{prefix}"


def _generation_key(prefix: str) -> str:
    return f"accounts:apikey:gen:{prefix}"


def _bump(prefix: str) -> None:
    generation_bump(_generation_key(prefix))


def api_key_cache_forget(*, prefix: str) -> None:
    """The key's row changed (or is about to): bump its generation now and after the commit.

    Now, so a request that starts after this call reads the database; after the commit,
    so an answer computed from the old row by a request that read it before the commit
    (and stored it late) is never served.
    """
    _bump(prefix)
    transaction.on_commit(lambda: _bump(prefix))


def _generation(values: dict, prefix: str) -> str:
    return generation_current(values, _generation_key(prefix))


def _instance(row: dict) -> ApiKey:
    """An ApiKey as loaded from the database, with last_used_at and its organization's fields deferred."""
    api_key = ApiKey.from_db(DEFAULT_DB_ALIAS, list(_FIELDS), [row[name] for name in _FIELDS])
    # Deferred: reading organization.name (say) loads that field then, so it is never stale.
    api_key.organization = Organization.from_db(DEFAULT_DB_ALIAS, ["id"], [row["organization_id"]])
    return api_key


def api_key_cached_get(*, prefix: str, cache_read: Callable[[list[str]], dict] | None = None) -> ApiKey | None:
    """The key with this prefix as it stands (revoked and expired ones too), or None if there is none.

    Unknown prefixes are not cached: a client guessing prefixes would only fill the cache.
    `cache_read` replaces `cache.get_many` for the one read (the authentication passes one
    that also raises the caller's rate-limit counters in the same round trip).
    """
    try:
        values = (cache_read or cache.get_many)([_entry_key(prefix), _generation_key(prefix)])
        generation = _generation(values, prefix)  # taken before the database is read
    except Exception:  # noqa: BLE001 — the cache is down: the database answers (authoritative, slower)
        logger.warning("api keys: cache unavailable, reading key %s from the database", prefix)
        row = ApiKey.objects.filter(prefix=prefix).values(*_FIELDS).first()
        return _instance(row) if row is not None else None
    entry = values.get(_entry_key(prefix))
    if isinstance(entry, dict) and entry.get("g") == generation:
        return _instance(entry["row"])
    row = ApiKey.objects.filter(prefix=prefix).values(*_FIELDS).first()
    if row is None:
        return None
    cache.set(_entry_key(prefix), {"g": generation, "row": row}, ENTRY_SECONDS)
    return _instance(row)
