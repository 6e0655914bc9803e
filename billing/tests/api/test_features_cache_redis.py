"""On Redis, the feature-access cache is shared by every web process and invalidated for all of them."""

import pytest
from django.core.cache import caches

from billing.cache import access_cache_key
from billing.tests.api.test_features_api import CHECK, TRACK, key_client

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def _other_process_cache():
    """A second, independent connection to the cache, as another gunicorn worker holds."""
    return caches.create_connection("default")


def test_a_track_in_one_process_clears_the_answer_every_process_reads(
    require_redis, premium, django_capture_on_commit_callbacks
):
    client = key_client(premium)
    org = premium.organization
    body = {"customer": org.pk, "feature": "premium_article"}
    key = access_cache_key(organization_id=org.pk, user_id=None, feature="premium_article")

    assert client.post(CHECK, body, format="json").json()["remaining"] == 3
    # The answer lives in Redis, where a process that never computed it finds it.
    assert _other_process_cache().get(key) is not None

    with django_capture_on_commit_callbacks(execute=True):
        tracked = client.post(TRACK, {**body, "quantity": 2, "idempotency_key": "r-1"}, format="json")
    assert tracked.json()["remaining"] == 1
    # The old answer may linger, but under generations that are no longer current: nobody serves it.
    other = _other_process_cache()
    stale = other.get(key)
    generations = [f"billing:gen:org:{org.pk}", f"billing:gen:use:{org.pk}:-:premium_article"]
    current = [other.get(name) for name in generations]
    assert stale is not None and stale["g"] != current
    assert client.post(CHECK, body, format="json").json()["remaining"] == 1
