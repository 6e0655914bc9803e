"""Staff reach the admin only through allauth's login and with TOTP."""

import pytest

from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.totp import login_with_totp, totp_activate

pytestmark = pytest.mark.django_db


def test_admin_login_page_sends_to_allauth_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_staff_without_totp_is_sent_to_set_it_up(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    response = client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    assert response.status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    assert client.get("/admin/accounts/user/").status_code == 302


def test_staff_with_totp_logs_in_with_code_and_reaches_admin(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    secret = totp_activate(staff)
    response = client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD, "next": "/admin/"})
    # The password alone does not sign in: allauth asks for the code first.
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert client.get("/admin/")["Location"].startswith("/admin/login/")

    login_with_totp(client, user=staff, password=PASSWORD, secret=secret, next_url="/admin/")
    response = client.get("/admin/")
    assert response.status_code == 200
    assert b"Plateau back office" in response.content


def test_staff_session_without_mfa_step_must_confirm_a_code(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    totp_activate(staff)
    client.force_login(staff)  # a session that never went through the TOTP step
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/reauthenticate/?next=%2Fadmin%2Faccounts%2Fuser%2F"


def test_signed_in_customer_gets_403_not_a_login_loop(client):
    customer = UserFactory()
    client.force_login(customer)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
