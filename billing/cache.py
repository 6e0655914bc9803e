"""Cached grants and feature-access answers that can never be older than the last change.

A plain "delete the entry after the commit" loses a race: a read that began before the
change committed (it read the old rows) writes its answer back *after* the delete, and
that stale answer is then served until it expires. A paying customer was refused for
minutes after an upgrade that way.

So every entry carries the *generations* it was computed under, read before the
database was read: one per organization (bumped when its grants change) and one per
counter (organization, member, feature: bumped when usage is counted). A change bumps
its generation to a fresh random token, now and again after its commit; an entry whose
generations are not the current ones is a miss. A late writer therefore stores an
answer that nobody will ever accept. A read costs one round trip (the entry and its two
generations in one `get_many`); a lost generation key (eviction) only causes misses.
"""

from django.core.cache import cache

from common.cache_generations import generation_bump, generation_current
from common.cache_prefetch import prefetched_values

ACCESS_CACHE_SECONDS = 300


def access_cache_key(*, organization_id: int, user_id: int | None, feature: str) -> str:
    return f"billing:access:{organization_id}:{user_id or '-'}:{feature}"


def grant_cache_key(*, organization_id: int, feature: str) -> str:
    return f"billing:grant:{organization_id}:{feature}"


def _organization_generation_key(organization_id: int) -> str:
    return f"billing:gen:org:{organization_id}"


def _counter_generation_key(*, organization_id: int, user_id: int | None, feature: str) -> str:
    return f"billing:gen:use:{organization_id}:{user_id or '-'}:{feature}"


def _bump(key: str) -> None:
    generation_bump(key)


def _current(values: dict, keys: list[str]) -> list[str]:
    """The generations behind `keys` from a get_many answer, starting any that are missing."""
    return [generation_current(values, key) for key in keys]


class CachedRead:
    """One cached answer: `hit` is the value when it is current; `store(value)` keeps a fresh one.

    The generations are taken when the read starts, before the caller reads the database.
    """

    def __init__(self, *, key: str, generation_keys: list[str], use_cache: bool = True, prefetched: dict | None = None):
        self.key = key
        self.use_cache = use_cache
        self.hit = None
        if not use_cache:
            return
        keys = [key, *generation_keys]
        values = prefetched_values(prefetched, keys)  # read with the request's authentication, if it was
        if values is None:
            values = cache.get_many(keys)
        self.generations = _current(values, generation_keys)
        entry = values.get(key)
        if isinstance(entry, dict) and entry.get("g") == self.generations:
            self.hit = entry["v"]

    def store(self, value, timeout: int) -> None:
        if self.use_cache:
            cache.set(self.key, {"g": self.generations, "v": value}, timeout)


def _access_generation_keys(*, organization_id: int, user_id: int | None, feature: str) -> list[str]:
    return [
        _organization_generation_key(organization_id),
        _counter_generation_key(organization_id=organization_id, user_id=user_id, feature=feature),
    ]


def access_read_keys(*, organization_id: int, user_id: int | None, feature: str) -> list[str]:
    """Every key `access_read` reads (for a request to fetch them ahead: common.cache_prefetch)."""
    return [
        access_cache_key(organization_id=organization_id, user_id=user_id, feature=feature),
        *_access_generation_keys(organization_id=organization_id, user_id=user_id, feature=feature),
    ]


def access_read(
    *, organization_id: int, user_id: int | None, feature: str, use_cache: bool = True, prefetched: dict | None = None
) -> CachedRead:
    return CachedRead(
        key=access_cache_key(organization_id=organization_id, user_id=user_id, feature=feature),
        generation_keys=_access_generation_keys(organization_id=organization_id, user_id=user_id, feature=feature),
        use_cache=use_cache,
        prefetched=prefetched,
    )


def grant_read_keys(*, organization_id: int, feature: str) -> list[str]:
    """Every key `grant_read` reads (for a request to fetch them ahead: common.cache_prefetch)."""
    return [
        grant_cache_key(organization_id=organization_id, feature=feature),
        _organization_generation_key(organization_id),
    ]


def grant_read(*, organization_id: int, feature: str, prefetched: dict | None = None) -> CachedRead:
    return CachedRead(
        key=grant_cache_key(organization_id=organization_id, feature=feature),
        generation_keys=[_organization_generation_key(organization_id)],
        prefetched=prefetched,
    )


def access_cache_forget(*, organization_id: int, user_id: int | None, feature: str) -> None:
    """After a use: the answers about that one counter are no longer current."""
    _bump(_counter_generation_key(organization_id=organization_id, user_id=user_id, feature=feature))


def organization_cache_forget(*, organization_id: int) -> None:
    """After a refresh: the organization's grants and every answer for it and its members."""
    _bump(_organization_generation_key(organization_id))
