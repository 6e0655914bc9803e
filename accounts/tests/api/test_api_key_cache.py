"""API keys come from the cache, and the cache never answers with a row older than the last change."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import ApiKey
from accounts.services.api_key_cache import _entry_key, _generation_key, api_key_cached_get
from accounts.services.api_keys import api_key_authenticate, api_key_create, api_key_revoke
from accounts.tests.api.conftest import assert_error_shape
from accounts.tests.api.test_api_keys import SELF, _key_client
from accounts.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def created():
    admin = MembershipFactory(role="admin")
    return api_key_create(organization=admin.organization, name="sdk", created_by=admin.user, scopes=["usage:write"])


def test_a_cached_key_is_authenticated_without_the_database(created, django_assert_num_queries):
    assert api_key_authenticate(raw_key=created.secret) == created.api_key  # loads it, records its use

    with django_assert_num_queries(0):
        api_key = api_key_authenticate(raw_key=created.secret)
        assert (api_key.pk, api_key.organization_id, api_key.scopes) == (
            created.api_key.pk,
            created.api_key.organization_id,
            ["usage:write"],
        )
    # Fields the entry does not hold are read when asked for, as they stand now.
    with django_assert_num_queries(1):
        assert api_key.organization.name == created.api_key.organization.name


def test_a_revoked_key_is_refused_by_the_next_request(created):
    client = _key_client(created.secret)
    assert client.get(SELF).status_code == 200

    api_key_revoke(api_key=created.api_key)

    assert_error_shape(client.get(SELF), status=401, code="authentication_failed")


def test_a_row_read_before_the_revocation_and_stored_after_it_is_never_served(created):
    """The race a delete-after-commit loses: a request read the live row, the key was revoked,
    then that request stored what it had read."""
    prefix = created.api_key.prefix
    assert api_key_cached_get(prefix=prefix).revoked_at is None
    generation_seen = cache.get(_generation_key(prefix))
    live_row = cache.get(_entry_key(prefix))["row"]

    api_key_revoke(api_key=created.api_key)
    cache.set(_entry_key(prefix), {"g": generation_seen, "row": live_row}, 600)  # the late writer

    assert api_key_authenticate(raw_key=created.secret) is None
    assert api_key_cached_get(prefix=prefix).revoked_at == ApiKey.objects.get(pk=created.api_key.pk).revoked_at


def test_a_key_expires_on_time_while_cached(created, monkeypatch):
    expires_at = timezone.now() + timedelta(minutes=5)
    created.api_key.expires_at = expires_at
    created.api_key.save(update_fields=["expires_at"])
    assert api_key_authenticate(raw_key=created.secret) is not None

    monkeypatch.setattr("accounts.services.api_keys.timezone.now", lambda: expires_at)

    assert api_key_authenticate(raw_key=created.secret) is None


def test_keys_deleted_with_their_organization_are_refused(created):
    client = _key_client(created.secret)
    assert client.get(SELF).status_code == 200

    created.api_key.organization.delete()

    assert_error_shape(client.get(SELF), status=401, code="authentication_failed")
    assert not ApiKey.objects.exists()


def test_scopes_changed_on_the_row_are_used_by_the_next_request(created):
    assert api_key_authenticate(raw_key=created.secret).scopes == ["usage:write"]

    created.api_key.scopes = ["usage:read"]
    created.api_key.save(update_fields=["scopes"])

    assert api_key_authenticate(raw_key=created.secret).scopes == ["usage:read"]


def test_a_wrong_secret_with_a_known_prefix_is_refused_even_when_cached(created):
    assert api_key_authenticate(raw_key=created.secret) is not None
    wrong = created.secret[:-4] + ("aaaa" if not created.secret.endswith("aaaa") else "bbbb")

    assert api_key_authenticate(raw_key=wrong) is None


def test_unknown_prefixes_are_not_cached():
    assert api_key_cached_get(prefix="deadbeef") is None
    assert cache.get(_entry_key("deadbeef")) is None
