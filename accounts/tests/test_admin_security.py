"""Back office for API keys, sessions and login history: read-only lists with revoke actions."""

import pytest

from accounts.models import ApiKey, AuthSession, LoginEvent, Role
from accounts.services.api_keys import api_key_create
from accounts.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("model", "row", "count"),
    [
        # The key created below; the staff member's own browser session and TOTP login.
        ("apikey", '<td class="field-prefix">{prefix}</td>', "1 api key"),
        ("authsession", '<td class="field-kind">Browser session</td>', "1 auth session"),
        ("loginevent", '<td class="field-method">Password + TOTP (web)</td>', "1 login event"),
    ],
)
def test_changelists_render_without_add(staff_client, model, row, count):
    membership = MembershipFactory(role=Role.ADMIN)
    created = api_key_create(organization=membership.organization, name="sdk", created_by=membership.user)

    response = staff_client.get(f"/admin/accounts/{model}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert row.format(prefix=created.api_key.prefix) in html
    assert count in html
    assert staff_client.get(f"/admin/accounts/{model}/add/").status_code == 403


def test_key_hash_is_not_shown(staff_client):
    membership = MembershipFactory(role=Role.ADMIN)
    created = api_key_create(organization=membership.organization, name="sdk", created_by=membership.user)

    html = staff_client.get(f"/admin/accounts/apikey/{created.api_key.pk}/change/").content.decode()

    assert created.api_key.prefix in html
    assert created.api_key.key_hash not in html


def test_revoke_keys_action(staff_client):
    membership = MembershipFactory(role=Role.ADMIN)
    created = api_key_create(organization=membership.organization, name="sdk", created_by=membership.user)

    response = staff_client.post(
        "/admin/accounts/apikey/", {"action": "revoke_keys", "_selected_action": [created.api_key.pk]}, follow=True
    )

    assert "Revoked 1 API key(s)." in response.content.decode()
    assert ApiKey.objects.get().revoked_at is not None


def test_revoke_sessions_action(staff_client):
    customer = UserFactory()
    customer_session = AuthSession.objects.create(user=customer, kind="jwt", family="f" * 32, current_jti="j")

    response = staff_client.post(
        "/admin/accounts/authsession/",
        {"action": "revoke_sessions", "_selected_action": [customer_session.pk]},
        follow=True,
    )

    assert "Revoked 1 session(s)." in response.content.decode()
    customer_session.refresh_from_db()
    assert customer_session.revoked_at is not None


def test_login_events_cannot_be_deleted(staff_client):
    event = LoginEvent.objects.first()
    assert event is not None  # the staff login itself
    assert staff_client.post(f"/admin/accounts/loginevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LoginEvent.objects.filter(pk=event.pk).exists()
