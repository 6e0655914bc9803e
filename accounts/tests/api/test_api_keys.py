from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from accounts.authentication import HasApiKey
from accounts.models import ApiKey, Role
from accounts.services.api_keys import api_key_create, api_key_hash, api_key_revoke
from accounts.tests.api.conftest import ME, assert_error_shape, bearer, obtain
from accounts.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

SELF = "/api/v1/auth/api-key/"


def _keys_url(org_id):
    return f"/api/v1/orgs/{org_id}/api-keys/"


@pytest.fixture
def admin():
    return MembershipFactory(role=Role.ADMIN)


@pytest.fixture
def admin_api(admin):
    """Signed in through the token endpoint just now: creating keys needs a recent login."""
    client = APIClient()
    access = obtain(client, admin.user)["access"]
    return bearer(client, access)


def _key_client(raw_key):
    return APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")


def test_create_shows_the_key_once_and_stores_its_hash(admin_api, admin):
    expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    response = admin_api.post(
        _keys_url(admin.organization_id),
        {"name": "SDK", "scopes": ["usage:write", "access:read"], "expires_at": expires.isoformat()},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    key = ApiKey.objects.get()
    assert body["key"].startswith(f"plt_{key.prefix}_")
    assert key.key_hash == api_key_hash(body["key"])
    assert body["key"] not in key.key_hash
    assert (body["name"], body["prefix"], body["scopes"]) == ("SDK", key.prefix, ["access:read", "usage:write"])
    assert key.expires_at == expires
    assert body["organization_id"] == admin.organization_id
    assert body["created_by"] == admin.user.email

    listing = admin_api.get(_keys_url(admin.organization_id)).json()["results"]
    assert [k["prefix"] for k in listing] == [key.prefix]
    assert "key" not in listing[0]


def test_buyer_may_list_but_not_create_or_revoke(admin):
    buyer = MembershipFactory(organization=admin.organization, role=Role.BUYER)
    created = api_key_create(organization=admin.organization, name="ci", created_by=admin.user)
    client = APIClient()
    client.force_authenticate(buyer.user)

    assert client.get(_keys_url(admin.organization_id)).status_code == 200
    assert_error_shape(client.post(_keys_url(admin.organization_id), {"name": "x"}, format="json"), status=403)
    revoke = client.post(f"{_keys_url(admin.organization_id)}{created.api_key.pk}/revoke/")
    assert_error_shape(revoke, status=403, code="organization_admin_required")
    assert ApiKey.objects.count() == 1
    created.api_key.refresh_from_db()
    assert created.api_key.revoked_at is None


def test_member_of_org_a_gets_404_for_org_b_keys(admin_api, admin):
    other = MembershipFactory(role=Role.ADMIN)
    created = api_key_create(organization=other.organization, name="theirs", created_by=other.user)

    assert_error_shape(admin_api.get(_keys_url(other.organization_id)), status=404, code="not_found")
    assert_error_shape(admin_api.post(_keys_url(other.organization_id), {"name": "x"}, format="json"), status=404)
    assert_error_shape(admin_api.post(f"{_keys_url(other.organization_id)}{created.api_key.pk}/revoke/"), status=404)
    # Their key id through my own organization is not found either.
    assert_error_shape(admin_api.post(f"{_keys_url(admin.organization_id)}{created.api_key.pk}/revoke/"), status=404)
    assert ApiKey.objects.count() == 1
    created.api_key.refresh_from_db()
    assert created.api_key.revoked_at is None


def test_revoke(admin_api, admin):
    created = api_key_create(organization=admin.organization, name="old", created_by=admin.user)

    response = admin_api.post(f"{_keys_url(admin.organization_id)}{created.api_key.pk}/revoke/")

    assert response.status_code == 204
    created.api_key.refresh_from_db()
    assert created.api_key.revoked_at is not None
    assert_error_shape(_key_client(created.secret).get(SELF), status=401)


def test_api_key_authenticates_as_the_organization(admin):
    created = api_key_create(organization=admin.organization, name="sdk", created_by=admin.user, scopes=["usage:read"])

    response = _key_client(created.secret).get(SELF)

    assert response.status_code == 200
    assert response.json() == {
        "prefix": created.api_key.prefix,
        "name": "sdk",
        "scopes": ["usage:read"],
        "organization_id": admin.organization_id,
        "organization_name": admin.organization.name,
        "expires_at": None,
    }
    created.api_key.refresh_from_db()
    assert created.api_key.last_used_at is not None


def test_last_used_is_written_at_most_once_a_minute(admin, monkeypatch, django_assert_num_queries):
    created = api_key_create(organization=admin.organization, name="sdk", created_by=admin.user)
    client = _key_client(created.secret)
    client.get(SELF)
    created.api_key.refresh_from_db()
    first = created.api_key.last_used_at

    # The key comes from the cache and its use was recorded: no query at all. The answer
    # still names the organization, whose name is read from the database (one query).
    with django_assert_num_queries(1):
        assert client.get(SELF).json()["organization_name"] == admin.organization.name
    created.api_key.refresh_from_db()
    assert created.api_key.last_used_at == first

    later = first + timedelta(minutes=1, seconds=1)
    monkeypatch.setattr("accounts.services.api_keys.timezone.now", lambda: later)
    client.get(SELF)
    created.api_key.refresh_from_db()
    assert created.api_key.last_used_at == later


def test_revoked_expired_and_unknown_keys_get_401(admin):
    revoked = api_key_create(organization=admin.organization, name="r", created_by=admin.user)
    api_key_revoke(api_key=revoked.api_key)
    expired = api_key_create(organization=admin.organization, name="e", created_by=admin.user)
    ApiKey.objects.filter(pk=expired.api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    valid = api_key_create(organization=admin.organization, name="v", created_by=admin.user)
    wrong_secret = valid.secret[:-4] + ("aaaa" if not valid.secret.endswith("aaaa") else "bbbb")

    for raw in [revoked.secret, expired.secret, wrong_secret, "plt_nope_nope", "garbage"]:
        assert_error_shape(_key_client(raw).get(SELF), status=401, code="authentication_failed")


def test_api_key_cannot_act_as_a_person(admin):
    created = api_key_create(organization=admin.organization, name="sdk", created_by=admin.user)
    client = _key_client(created.secret)

    assert_error_shape(client.get(ME), status=403)
    assert_error_shape(client.get(_keys_url(admin.organization_id)), status=403)
    assert_error_shape(client.post(_keys_url(admin.organization_id), {"name": "escalate"}, format="json"), status=403)
    assert ApiKey.objects.count() == 1


def test_people_without_a_key_cannot_use_key_endpoints(admin_api):
    assert_error_shape(admin_api.get(SELF), status=403)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": ""},
        {"name": "x" * 101},
        {"name": "ok", "scopes": "usage:write"},
        {"name": "ok", "scopes": ["Not A Scope!"]},
        {"name": "ok", "scopes": [{"a": 1}]},
        {"name": "ok", "expires_at": "yesterday"},
        {"name": "ok", "expires_at": "2001-01-01T00:00:00Z"},
    ],
)
def test_invalid_create_bodies_are_400(admin_api, admin, payload):
    response = admin_api.post(_keys_url(admin.organization_id), payload, format="json")
    body = assert_error_shape(response, status=400, code="validation_error")
    assert body["errors"]
    assert not ApiKey.objects.exists()


def test_has_api_key_enforces_required_scopes(admin):
    class UsageWrite(APIView):
        permission_classes = [HasApiKey]
        required_scopes = ("usage:write",)

        def get(self, request):
            return Response({"organization": request.auth.organization_id})

    allowed = api_key_create(organization=admin.organization, name="w", created_by=admin.user, scopes=["usage:write"])
    lacking = api_key_create(organization=admin.organization, name="r", created_by=admin.user, scopes=["usage:read"])
    factory = APIRequestFactory()

    ok = UsageWrite.as_view()(factory.get("/", HTTP_AUTHORIZATION=f"Api-Key {allowed.secret}"))
    refused = UsageWrite.as_view()(factory.get("/", HTTP_AUTHORIZATION=f"Api-Key {lacking.secret}"))

    assert (ok.status_code, ok.data) == (200, {"organization": admin.organization_id})
    assert refused.status_code == 403


@pytest.mark.django_db
def test_every_new_key_authenticates_whatever_its_secret_contains():
    # Secrets are URL-safe base64, so many contain "_" or "-": each must still work.
    membership = MembershipFactory()
    secrets_seen = []
    for number in range(40):
        created = api_key_create(organization=membership.organization, name=f"sdk {number}", created_by=membership.user)
        secrets_seen.append(created.secret)
        response = APIClient().get("/api/v1/auth/api-key/", HTTP_AUTHORIZATION=f"Api-Key {created.secret}")
        assert response.status_code == 200, created.secret
    assert any(secret.count("_") > 2 for secret in secrets_seen)
