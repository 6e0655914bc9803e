"""allauth flows: sign-up with mandatory email verification (and what a new user gets),
password reset, email change."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from accounts.models import Membership, Organization, Profile, Role, User
from accounts.tests.factories import PASSWORD as FACTORY_PASSWORD
from accounts.tests.factories import UserFactory

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
    assert mail.outbox[0].subject == "[Plateau] Please Confirm Your Email Address"
    assert mail.outbox[0].body.startswith("Hello from Plateau!")
    assert "example.com!" not in mail.outbox[0].body
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

    assert not EmailAddress.objects.get(email="new@example.com").verified
    confirm_page = client.get(link)
    assert confirm_page.status_code == 200
    assert "new@example.com" in confirm_page.content.decode()
    assert client.post(link).status_code == 302
    assert EmailAddress.objects.get(email="new@example.com").verified
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


def test_password_reset_sends_a_link_that_sets_a_new_password(client):
    user = UserFactory(email="forgot@example.com")
    response = client.post("/accounts/password/reset/", {"email": "forgot@example.com"})
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["forgot@example.com"]
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body).group(1)

    form_url = client.get(link)["Location"]  # allauth moves the key into the session first
    response = client.post(form_url, {"password1": "brand-new-Passw0rd", "password2": "brand-new-Passw0rd"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-Passw0rd")


def test_email_change_verifies_the_new_address_before_it_replaces_the_old(client):
    user = UserFactory(email="old@example.com")
    client.post("/accounts/login/", {"login": "old@example.com", "password": FACTORY_PASSWORD})
    response = client.post("/accounts/email/", {"action_add": "", "email": "new-address@example.com"})
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["new-address@example.com"]
    user.refresh_from_db()
    assert user.email == "old@example.com"

    link = re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", mail.outbox[-1].body).group(1)
    assert client.post(link).status_code == 302
    user.refresh_from_db()
    assert user.email == "new-address@example.com"
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")) == [
        ("new-address@example.com", True, True)
    ]
