import re

import pytest
from django.urls import reverse

from accounts.models import ApiKey, Role
from accounts.services.api_keys import api_key_create, api_key_hash
from accounts.tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db

URL = "/settings/api-keys/"


def _sign_in(client, user):
    """Through the login page: creating keys needs a recent sign-in, which force_login does not record."""
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302


def test_route_name():
    assert reverse("accounts:api_keys") == URL


def test_admin_creates_key_shown_once_and_listed(client):
    membership = MembershipFactory(role=Role.ADMIN)
    _sign_in(client, membership.user)

    response = client.post(URL, {"name": "CI server", "scopes": "usage:read, usage:write", "expires_in_days": "30"})

    assert response.status_code == 200
    html = response.content.decode()
    shown = re.search(r'<code class="secret" id="new-api-key">([^<]+)</code>', html).group(1)
    key = ApiKey.objects.get()
    assert key.organization == membership.organization
    assert key.name == "CI server"
    assert key.scopes == ["usage:read", "usage:write"]
    assert key.expires_at is not None
    assert key.key_hash == api_key_hash(shown)
    assert shown.startswith(f"plt_{key.prefix}_")

    listing = client.get(URL).content.decode()
    assert f"plt_{key.prefix}_" in listing
    assert shown not in listing
    assert 'id="new-api-key"' not in listing


def test_page_has_form_names_the_journey_uses(client):
    membership = MembershipFactory(role=Role.ADMIN)
    _sign_in(client, membership.user)
    html = client.get(URL).content.decode()
    assert 'name="name"' in html
    assert ">Create key</button>" in html


def test_buyer_cannot_create_keys(client):
    membership = MembershipFactory(role=Role.BUYER)
    _sign_in(client, membership.user)

    assert ">Create key</button>" not in client.get(URL).content.decode()
    response = client.post(URL, {"name": "sneaky"})

    assert response.status_code == 403
    assert not ApiKey.objects.exists()


def test_revoke_from_page(client):
    membership = MembershipFactory(role=Role.ADMIN)
    created = api_key_create(organization=membership.organization, name="old", created_by=membership.user)
    _sign_in(client, membership.user)

    response = client.post(f"{URL}{created.api_key.pk}/revoke/", {"organization": membership.organization.pk})

    assert response.status_code == 302
    created.api_key.refresh_from_db()
    assert created.api_key.revoked_at is not None


def test_buyer_cannot_revoke_from_page(client):
    admin = MembershipFactory(role=Role.ADMIN)
    buyer = MembershipFactory(organization=admin.organization, role=Role.BUYER)
    created = api_key_create(organization=admin.organization, name="kept", created_by=admin.user)
    _sign_in(client, buyer.user)

    response = client.post(f"{URL}{created.api_key.pk}/revoke/", {"organization": admin.organization.pk})

    assert response.status_code == 403
    created.api_key.refresh_from_db()
    assert created.api_key.revoked_at is None


def test_cannot_revoke_other_orgs_key(client):
    mine = MembershipFactory(role=Role.ADMIN)
    theirs = MembershipFactory(role=Role.ADMIN)
    created = api_key_create(organization=theirs.organization, name="theirs", created_by=theirs.user)
    _sign_in(client, mine.user)

    assert client.post(f"{URL}{created.api_key.pk}/revoke/").status_code == 404
    assert (
        client.post(f"{URL}{created.api_key.pk}/revoke/", {"organization": theirs.organization.pk}).status_code == 404
    )
    assert client.get(URL, {"organization": theirs.organization.pk}).status_code == 404
    created.api_key.refresh_from_db()
    assert created.api_key.revoked_at is None


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
