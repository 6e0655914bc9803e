"""API keys for machines: created for one organization, shown once, stored hashed.

A key reads `plt_<prefix>_<secret>`. The prefix is stored in clear (unique, indexed)
so a presented key is found with one lookup and people can tell keys apart; the
secret part is only ever stored as the SHA-256 of the whole key.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiKey, Organization
from accounts.services.api_key_cache import api_key_cache_forget, api_key_cached_get
from accounts.services.organizations import organization_require_admin
from common.use_memory import UseMemory

KEY_NAMESPACE = "plt"
# last_used_at is a hint for people, not an audit trail: writing it at most once a
# minute keeps a busy key from turning every request into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Scopes are names the consuming APIs check (e.g. "usage:write"); any such name is
# accepted so a new API can introduce its scope without touching this module.
SCOPE_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]*(:[a-z0-9_.-]+)?$")
MAX_SCOPES = 20


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    secret: str  # the full key; never stored, shown to the creator once


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_parse_prefix(raw_key: str) -> str | None:
    """The prefix part of a presented key, or None if it is not shaped like one of ours."""
    # The secret is URL-safe base64 and may itself contain "_": split off two parts only.
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_NAMESPACE or not parts[1] or not parts[2]:
        return None
    return parts[1]


def api_key_create(
    *,
    organization: Organization,
    name: str,
    created_by,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
) -> CreatedApiKey:
    """Create a key for `organization`; `created_by` must be one of its admins.

    Keys act for the whole organization, so only its admins may create or revoke them.
    """
    organization_require_admin(organization=organization, actor=created_by)
    prefix = secrets.token_hex(4)
    raw_key = f"{KEY_NAMESPACE}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        organization=organization,
        name=name,
        prefix=prefix,
        key_hash=api_key_hash(raw_key),
        scopes=sorted(set(scopes or [])),
        created_by=created_by,
        expires_at=expires_at,
    )
    return CreatedApiKey(api_key=api_key, secret=raw_key)


def api_key_revoke(*, api_key: ApiKey, actor=None) -> bool:
    """Revoke a key; False if it was already revoked (the first revocation time is kept).

    `actor` is the person revoking it in the product and must be an admin of the key's
    organization; None is staff acting from the Django admin.
    """
    if actor is not None:
        organization_require_admin(organization=api_key.organization, actor=actor)
    with transaction.atomic():
        updated = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        api_key.refresh_from_db(fields=["revoked_at"])
        # Every web process reads the key from the cache: from the commit on, none serves the old row.
        api_key_cache_forget(prefix=api_key.prefix)
    return bool(updated)


def api_key_authenticate(*, raw_key: str, cache_read: Callable[[list[str]], dict] | None = None) -> ApiKey | None:
    """The active key matching `raw_key`, or None (unknown, revoked or expired).

    The row comes from the cache (`accounts.services.api_key_cache`: one round trip, never
    older than the last change to the key); its organization is a deferred instance.
    `cache_read`, if given, makes that one read (see `api_key_cached_get`).
    """
    prefix = api_key_parse_prefix(raw_key)
    if prefix is None:
        return None
    api_key = api_key_cached_get(prefix=prefix, cache_read=cache_read)
    if api_key is None or not hmac.compare_digest(api_key.key_hash, api_key_hash(raw_key)):
        return None
    now = timezone.now()
    if api_key.revoked_at is not None or (api_key.expires_at is not None and api_key.expires_at <= now):
        return None
    api_key_touch(api_key=api_key, now=now)
    return api_key


# Keyed by (id, prefix): a test database that hands out an id again does not inherit the memory.
_uses = UseMemory(resolution=LAST_USED_RESOLUTION)


def api_key_touch(*, api_key: ApiKey, now: datetime) -> None:
    """Record use, at most once per LAST_USED_RESOLUTION per process (conditional UPDATE, no read)."""
    if not _uses.due((api_key.pk, api_key.prefix), now):
        return
    ApiKey.objects.filter(pk=api_key.pk).exclude(last_used_at__gt=now - LAST_USED_RESOLUTION).update(last_used_at=now)
