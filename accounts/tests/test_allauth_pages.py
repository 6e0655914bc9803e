"""allauth's pages render inside the site's layout (templates/base.html)."""

import pytest

from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.totp import login_with_totp, totp_activate

pytestmark = pytest.mark.django_db

SITE_HEADER = '<header class="site-header">'


@pytest.mark.parametrize(
    "url",
    ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/accounts/confirm-email/"],
)
def test_entrance_pages_use_site_layout(client, url):
    response = client.get(url)
    assert response.status_code == 200
    templates = [t.name for t in response.templates]
    assert "base.html" in templates and "allauth/layouts/base.html" in templates
    assert SITE_HEADER in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/email/",
        "/accounts/password/change/",
        "/accounts/2fa/",
        "/accounts/2fa/totp/activate/",
        "/settings/profile/",
        "/settings/organizations/",
        "/settings/data/",
    ],
)
def test_account_pages_use_site_layout_with_settings_links(client, url):
    # A real login, then allauth's reauthentication step that its sensitive pages (MFA setup) ask for.
    user = UserFactory()
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert SITE_HEADER in html
    for link in ['href="/settings/profile/"', 'href="/settings/organizations/"', 'href="/settings/data/"']:
        assert link in html


def test_recovery_codes_page_renders_in_site_layout(client):
    user = UserFactory()
    secret = totp_activate(user)
    login_with_totp(client, user=user, password=PASSWORD, secret=secret)
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    response = client.get("/accounts/2fa/recovery-codes/generate/")
    assert response.status_code == 200
    assert SITE_HEADER in response.content.decode()
