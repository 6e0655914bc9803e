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


@pytest.mark.django_db(transaction=True)  # allauth signals the activation on commit, as in production
def test_staff_first_login_to_admin_is_one_short_path(client):
    """Password once, scan and confirm a code once, see the recovery codes, continue: the admin."""
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    from accounts.tests.totp import totp_code

    staff = UserFactory(is_staff=True, is_superuser=True)
    client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD, "next": "/admin/"})
    assert client.get("/admin/")["Location"] == "/accounts/2fa/totp/activate/"

    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200  # no second password prompt right after signing in
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert response["Location"] == "/accounts/2fa/recovery-codes/"

    codes = client.get("/accounts/2fa/recovery-codes/").content.decode()
    assert '<a class="button" href="/admin/">I have saved them: continue</a>' in codes
    response = client.get("/admin/")
    assert response.status_code == 200  # no second code asked for
    assert b"Plateau back office" in response.content
