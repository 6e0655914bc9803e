"""Audit log of staff changes in the admin, the profile page, and the demo seed."""

import pytest
from allauth.account.models import EmailAddress
from auditlog.models import LogEntry
from django.core.management import call_command

from accounts.models import Membership, Organization, Profile, Role, User
from accounts.tests.factories import PASSWORD, MembershipFactory, UserFactory
from accounts.tests.totp import login_with_totp, totp_activate

pytestmark = pytest.mark.django_db


def test_staff_change_in_admin_is_audited_with_actor_and_before_after(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    login_with_totp(client, user=staff, password=PASSWORD, secret=totp_activate(staff))
    membership = MembershipFactory(role=Role.BUYER)

    response = client.post(
        f"/admin/accounts/membership/{membership.pk}/change/",
        {
            "user": membership.user_id,
            "organization": membership.organization_id,
            "role": "seller",
            "created_at_0": "2026-01-01",
            "created_at_1": "10:00:00",
        },
    )

    assert response.status_code == 302, response.content[:3000]
    entry = LogEntry.objects.get_for_object(membership).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == staff
    assert entry.changes["role"] == ["buyer", "seller"]


def test_profile_page_saves_profile(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        "/settings/profile/",
        {
            "display_name": "Ada",
            "company": "Engines Ltd",
            "avatar_url": "https://example.com/ada.png",
            "timezone": "Europe/London",
            "marketing_emails": "on",
        },
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=user)
    assert (profile.display_name, profile.company, profile.avatar_url, profile.timezone) == (
        "Ada",
        "Engines Ltd",
        "https://example.com/ada.png",
        "Europe/London",
    )
    assert profile.marketing_emails is True and profile.product_emails is False


def test_profile_page_rejects_unknown_timezone_and_keeps_the_old_one(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post("/settings/profile/", {"display_name": "X", "timezone": "Mars/Olympus"})
    assert response.status_code == 400
    assert Profile.objects.get(user=user).timezone == "UTC"


def test_seed_demo_is_idempotent_and_prints_credentials(capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    # Other apps' demos add their own people (the marketplace's seller): a second run adds nothing.
    counts = (User.objects.count(), EmailAddress.objects.count(), Organization.objects.count())
    call_command("seed_demo")
    assert capsys.readouterr().out == first
    assert (User.objects.count(), EmailAddress.objects.count(), Organization.objects.count()) == counts
    assert "staff@plateau.test / plateau-demo-2024" in first
    assert "customer@plateau.test / plateau-demo-2024" in first

    staff, customer = User.objects.get(email="staff@plateau.test"), User.objects.get(email="customer@plateau.test")
    assert staff.is_staff and not customer.is_staff
    assert staff.check_password("plateau-demo-2024") and customer.check_password("plateau-demo-2024")
    for user in (staff, customer):
        assert EmailAddress.objects.get(user=user).verified
        assert Organization.objects.filter(is_personal=True, memberships__user=user).count() == 1
    acme = Organization.objects.get(name="Acme AI")
    assert Membership.objects.get(organization=acme).user == customer


def test_viewing_the_profile_page_writes_nothing(client):
    user = UserFactory()
    Profile.objects.filter(user=user).delete()  # an account from before profiles existed
    client.force_login(user)

    page = client.get("/settings/profile/").content.decode()

    assert '<option value="UTC" selected>' in page  # the defaults are shown
    assert not Profile.objects.filter(user=user).exists()
