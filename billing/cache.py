"""Cached feature-access answers, and their invalidation when grants or usage change.

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


def access_cache_invalidate(*, organization_id: int, feature: str | None = None, user_id: int | None = None) -> None:
    features = [feature] if feature else [f.value for f in FEATURES]
    if user_id is not None:
        user_ids: list[int | None] = [user_id]
    else:
        # Per-member answers exist for every member, plus the organization-wide one.
        user_ids = [None, *Membership.objects.filter(organization_id=organization_id).values_list("user_id", flat=True)]
    cache.delete_many(
        [access_cache_key(organization_id=organization_id, user_id=u, feature=f) for f in features for u in user_ids]
    )
