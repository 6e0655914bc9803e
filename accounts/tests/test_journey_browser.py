"""The customer journey in headless Chromium: sign up, verify the email, log in, turn on
TOTP, log out, log in with a TOTP code, create an API key and call the API with it.

Every page is screenshotted under artifacts/screenshots/test_sign_up_to_api_key_journey/.
"""

import json
import re
import urllib.error
import urllib.request

import pytest
from django.core import mail

from accounts.models import ApiKey, User
from accounts.tests.totp import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "journey@example.com"
PASSWORD = "journey-Passw0rd-long"


def test_sign_up_to_api_key_journey(live_server, page):
    base = live_server.url

    page.goto(f"{base}/")
    page.shot("home")
    page.get_by_role("link", name="Sign up").first.click()
    page.wait_for_url("**/accounts/signup/")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.shot("signup")
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url("**/accounts/confirm-email/")
    page.shot("verification-sent")

    # The verification email (same process, so the locmem outbox is visible here).
    # ...and the welcome email (billing's, through the outbox), both to the new address.
    assert [m.to for m in mail.outbox] == [[EMAIL], [EMAIL]]
    verification = next(m for m in mail.outbox if "/accounts/confirm-email/" in m.body)
    assert [m.subject for m in mail.outbox if m is not verification] == ["Welcome to Plateau"]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", verification.body).group(0)
    page.goto(link)
    page.shot("confirm-email")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/login/")
    page.shot("login")
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base}/")
    assert page.locator(".who").inner_text() == EMAIL
    page.shot("logged-in")

    # Turn on TOTP: having just signed in, no second password prompt (5-minute reauthentication window).
    page.goto(f"{base}/accounts/2fa/totp/activate/")
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    secret = page.input_value("#authenticator_secret")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    page.shot("totp-activate")
    page.fill("input[name=code]", totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url("**/accounts/2fa/recovery-codes/**")
    page.shot("recovery-codes")
    assert page.get_by_text("Recovery Codes").first.is_visible()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_role("link", name="Log in").is_visible()
    page.shot("logged-out")

    # Log in again: password, then a code. The activation consumed the current window's
    # code (codes are single-use), so use the next window's, which the server accepts.
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.shot("totp-authenticate")
    page.fill("input[name=code]", totp_code(secret, window_offset=1))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base}/")
    assert page.locator(".who").inner_text() == EMAIL
    page.shot("logged-in-with-totp")

    page.goto(f"{base}/accounts/2fa/")
    assert page.get_by_text("Authentication using an authenticator app is active.").is_visible()
    page.shot("two-factor")
    page.goto(f"{base}/settings/profile/")
    page.shot("profile")
    page.goto(f"{base}/settings/organizations/")
    page.shot("organizations")
    page.fill("input[name=name]", "Journey Labs")
    page.get_by_role("button", name="Create organization").click()
    page.wait_for_url(re.compile(r".*/settings/organizations/\d+/$"))
    page.fill("input[name=email]", "teammate@example.com")
    page.select_option("#id_role", "seller")
    page.get_by_role("button", name="Send invitation").click()
    assert page.locator("[data-invitation='teammate@example.com'] td").nth(1).inner_text() == "Seller"
    assert mail.outbox[-1].to == ["teammate@example.com"]
    page.shot("organization-members")
    page.goto(f"{base}/settings/data/")
    page.shot("your-data")

    page.goto(f"{base}/settings/api-keys/")
    page.fill("input[name=name]", "Journey SDK")
    page.shot("api-keys")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("code.secret#new-api-key").inner_text().strip()
    page.shot("api-key-created")
    user = User.objects.get(email=EMAIL)
    assert ApiKey.objects.get(created_by=user).name == "Journey SDK"

    # The key works on the API: /api/v1/auth/api-key/ is the endpoint that answers for a
    # key (/api/v1/auth/me/ answers for people and refuses keys with 403).
    request = urllib.request.Request(f"{base}/api/v1/auth/api-key/", headers={"Authorization": f"Api-Key {key}"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our live server)
        assert response.status == 200
        body = json.loads(response.read())
    personal = user.memberships.get(organization__is_personal=True).organization
    assert (body["name"], body["organization_id"]) == ("Journey SDK", personal.pk)
    assert body["prefix"] in key

    # Without a key, or with a wrong one, the API refuses.
    bad = urllib.request.Request(f"{base}/api/v1/auth/api-key/", headers={"Authorization": "Api-Key pk_wrong"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(bad, timeout=10)  # noqa: S310
    assert refused.value.code == 401
