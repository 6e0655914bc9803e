"""Sign-up: mandatory email verification, and what a new user gets."""

import re

import pytest
from django.core import mail

from accounts.models import Membership, Organization, Profile, Role, User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-Passw0rd"


def _sign_up(client, email="new@example.com"):
    return client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})


def test_sign_up_sends_verification_email_and_creates_profile_and_personal_org(client):
    response = _sign_up(client)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="new@example.com")
    assert Profile.objects.filter(user=user).count() == 1
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.ADMIN
    assert membership.organization.is_personal is True
    assert membership.organization.email == "new@example.com"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.com"]
    assert re.search(r"http://testserver/accounts/confirm-email/[^/\s]+/", mail.outbox[0].body)


def test_login_is_refused_until_email_is_verified_then_allowed(client):
    _sign_up(client)
    link = re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", mail.outbox[0].body).group(1)
    client.post("/accounts/logout/")

    response = client.post("/accounts/login/", {"login": "new@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session
    assert client.get("/settings/profile/").status_code == 302

    assert client.get(link).status_code == 200
    assert client.post(link).status_code == 302
    response = client.post("/accounts/login/", {"login": "new@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/settings/profile/").status_code == 200


def test_signing_up_twice_with_one_address_makes_one_account(client):
    _sign_up(client)
    client.post("/accounts/logout/")
    _sign_up(client)
    assert User.objects.filter(email="new@example.com").count() == 1
    assert Organization.objects.filter(is_personal=True).count() == 1
