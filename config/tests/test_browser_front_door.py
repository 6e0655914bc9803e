"""In headless Chromium: the site at 390 px wide (nothing wider than the screen, on each
main page, signed out and in), with no Content-Security-Policy violation; and staff's
first way into the admin (password, TOTP set-up, recovery codes, the admin).

Screenshots: artifacts/screenshots/<test>/.
"""

import re

import pytest

from accounts.models import Role
from accounts.tests.factories import PASSWORD, MembershipFactory, UserFactory
from accounts.tests.totp import totp_code
from content.tests.factories import LessonFactory
from marketplace.tests.factories import PromptTemplateFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
PUBLIC_PAGES = ["/", "/learn/", "/marketplace/", "/billing/pricing/", "/accounts/login/", "/accounts/signup/"]
MEMBER_PAGES = [
    "/",
    "/learn/",
    "/marketplace/",
    "/billing/pricing/",
    "/billing/settings/",
    "/settings/organizations/",
    "/settings/api-keys/",
    "/settings/profile/",
    "/settings/security/",
    "/settings/data/",
    "/accounts/email/",
]


def _watch_csp(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return violations


def _page_width(page) -> int:
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def _sign_in(page, base, user):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base}/**")


def test_main_pages_fit_a_phone_and_break_no_policy(live_server, page):
    LessonFactory()
    PromptTemplateFactory()
    member = MembershipFactory(role=Role.ADMIN, organization__name="A rather long organization name, Incorporated")
    base = live_server.url
    page.set_viewport_size(PHONE)
    violations = _watch_csp(page)

    too_wide = {}
    for path in PUBLIC_PAGES:
        page.goto(f"{base}{path}")
        page.shot("public" + path.replace("/", "-"))
        if _page_width(page) > PHONE["width"]:
            too_wide[path] = _page_width(page)
    _sign_in(page, base, member.user)
    for path in MEMBER_PAGES:
        page.goto(f"{base}{path}")
        page.shot("member" + path.replace("/", "-"))
        if _page_width(page) > PHONE["width"]:
            too_wide[f"member {path}"] = _page_width(page)

    assert too_wide == {}
    assert violations == []
    # The header names the current organization, on a phone too.
    assert page.locator("#id_header_organization option:checked").inner_text() == member.organization.name


def test_staff_first_login_to_the_admin(live_server, page):
    staff = UserFactory(is_staff=True, is_superuser=True)
    base = live_server.url
    violations = _watch_csp(page)

    page.goto(f"{base}/admin/")
    page.wait_for_url("**/accounts/login/**")
    page.fill("input[name=login]", staff.email)
    page.fill("input[name=password]", PASSWORD)
    page.shot("login")
    page.get_by_role("button", name="Sign In").click()

    # Straight to the set-up: no second password prompt.
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    page.shot("totp-setup")
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]+", secret)
    page.fill("input[name=code]", totp_code(secret))
    page.get_by_role("button", name="Activate").click()

    page.wait_for_url("**/accounts/2fa/recovery-codes/")
    page.shot("recovery-codes")
    assert len(page.locator("#recovery_codes").input_value().split()) == 10
    page.get_by_role("link", name="I have saved them: continue").click()

    # The admin, without another code.
    page.wait_for_url(f"{base}/admin/")
    page.shot("admin")
    assert page.locator("#site-name").inner_text() == "Plateau back office"
    page.goto(f"{base}/admin/accounts/user/{staff.pk}/change/")
    page.shot("admin-user")
    assert page.locator("input[name=email]").input_value() == staff.email
    assert violations == []
