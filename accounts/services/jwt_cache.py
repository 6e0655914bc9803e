"""JWT callers answered from the shared cache, never older than the last change to them.

A request with a person's access token needed two PostgreSQL reads (the token's session
family, to refuse a signed-out device, and the user) on top of the framework's work, so
the JWT-authenticated API ran at less than a third of the framework's floor. Here both
live in one cache entry per session family, under the *user's* generation, the scheme
of `accounts.services.api_key_cache` and billing's access cache: the generation is read
before the database, a change bumps it to a fresh random token now and again after its
commit, and an entry whose generation is not the current one is a miss. A request that
read the session before a sign-out committed therefore stores an answer nobody accepts,
and the first request after the commit, on any web process, reads the revoked session.

What bumps a user's generation: revoking any of their sessions (sign-out, revoke, reuse
of a rotated refresh token, the concurrent-session cap, a password change: all through
`auth_session_revoke`), any save or delete of the user (password, is_active, is_staff,
deletion: `accounts.receivers`) and a session row's deletion.

The entry holds the user's fields but the password: the user a request gets has it
deferred (read from the database if code asks for it), and the entry keeps only the
password's fingerprint that tokens carry (simplejwt's `CHECK_REVOKE_TOKEN`), so a
password change refuses earlier tokens as before and the cache holds no hash. A read is
one round trip, in which the authentication also raises the caller's rate-limit counters.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import AuthSession, User
from common.cache_generations import generation_bump, generation_current

logger = logging.getLogger(__name__)

ENTRY_SECONDS = 600
_USER_FIELDS = tuple(f.attname for f in User._meta.concrete_fields if f.attname != "password")


@dataclass(frozen=True)
class JwtCaller:
    session_id: int
    revoked: bool
    user: User  # password deferred
    password_fingerprint: str


def _entry_key(family: str) -> str:
    return f"accounts:jwt-family:{family}"


def _generation_key(user_id) -> str:
    return f"accounts:user-auth:gen:{user_id}"


def _bump(user_id) -> None:
    generation_bump(_generation_key(user_id))


def user_auth_cache_forget(*, user_id) -> None:
    """The user or one of their sessions changed (or is about to): bump now and after the commit."""
    try:
        _bump(user_id)
    except Exception:  # noqa: BLE001 — the cache is down; the bump after the commit is tried again
        logger.warning("jwt cache: could not bump user %s now", user_id)
    transaction.on_commit(lambda: _bump(user_id), robust=True)


def jwt_cache_keys(*, family: str, user_id) -> list[str]:
    """The keys one read needs (for a caller that reads them together with other work)."""
    return [_entry_key(family), _generation_key(user_id)]


def _generation(values: dict, user_id) -> str:
    return generation_current(values, _generation_key(user_id))


def _caller(row: dict) -> JwtCaller:
    user = User.from_db(DEFAULT_DB_ALIAS, list(_USER_FIELDS), [row["user"][name] for name in _USER_FIELDS])
    return JwtCaller(
        session_id=row["session_id"],
        revoked=row["revoked"],
        user=user,
        password_fingerprint=row["password_fingerprint"],
    )


def _row_from_database(*, family: str, user_id) -> dict | None:
    fields = ["pk", "revoked_at", "user__password", *(f"user__{name}" for name in _USER_FIELDS)]
    found = AuthSession.objects.filter(family=family, user_id=user_id).values(*fields).first()
    if found is None:
        return None
    return {
        "session_id": found["pk"],
        "revoked": found["revoked_at"] is not None,
        "user": {name: found[f"user__{name}"] for name in _USER_FIELDS},
        "password_fingerprint": get_md5_hash_password(found["user__password"]),
    }


def jwt_caller_get(*, family: str, user_id, cache_read: Callable[[list[str]], dict] | None = None) -> JwtCaller | None:
    """The session of token family `family` and its user, as they stand; None if `user_id` has no such session.

    `cache_read` replaces `cache.get_many` for the one read (the authentication passes one
    that also raises the caller's rate-limit counters in the same round trip).
    """
    keys = jwt_cache_keys(family=family, user_id=user_id)
    try:
        values = (cache_read or cache.get_many)(keys)
        generation = _generation(values, user_id)  # taken before the database is read
    except Exception:  # noqa: BLE001 — the cache is down: the database answers (authoritative, slower)
        logger.warning("jwt cache: cache unavailable, reading session family from the database")
        row = _row_from_database(family=family, user_id=user_id)
        return _caller(row) if row is not None else None
    entry = values.get(keys[0])
    if isinstance(entry, dict) and entry.get("g") == generation and str(entry["row"]["user"]["id"]) == str(user_id):
        return _caller(entry["row"])
    row = _row_from_database(family=family, user_id=user_id)
    if row is None:
        return None
    try:
        cache.set(keys[0], {"g": generation, "row": row}, ENTRY_SECONDS)
    except Exception:  # noqa: BLE001 — the answer stands; the next request reads the database again
        logger.warning("jwt cache: could not store session family")
    return _caller(row)
