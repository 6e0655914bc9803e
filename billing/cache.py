"""Cached grants and feature-access answers, and their invalidation when grants or usage change.

One cache entry per (organization, member, feature) so a check costs one cache read.
Entries are deleted after the commit that changes what they say (a track, a refresh),
and live at most ACCESS_CACHE_SECONDS or until the quota period resets.
"""

from django.core.cache import cache

from accounts.models import Membership
from billing.plans import FEATURES

ACCESS_CACHE_SECONDS = 300


def access_cache_key(*, organization_id: int, user_id: int | None, feature: str) -> str:
    return f"billing:access:{organization_id}:{user_id or '-'}:{feature}"


def grant_cache_key(*, organization_id: int, feature: str) -> str:
    return f"billing:grant:{organization_id}:{feature}"


def access_cache_forget(*, organization_id: int, user_id: int | None, feature: str) -> None:
    """After a use: the one answer it changed."""
    cache.delete(access_cache_key(organization_id=organization_id, user_id=user_id, feature=feature))


def organization_cache_forget(*, organization_id: int) -> None:
    """After a refresh: the organization's grants and every answer for it and its members."""
    features = [f.value for f in FEATURES]
    user_ids = [None, *Membership.objects.filter(organization_id=organization_id).values_list("user_id", flat=True)]
    keys = [grant_cache_key(organization_id=organization_id, feature=f) for f in features]
    keys += [
        access_cache_key(organization_id=organization_id, user_id=u, feature=f) for f in features for u in user_ids
    ]
    cache.delete_many(keys)
