"""A newcomer subscribes in the browser against the sandbox and sees their quotas."""

import pytest
from django.test import Client

from billing.services.usage import usage_track
from billing.tests.factories import MembershipFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_subscribe_in_the_browser_and_see_the_quota_meters(billing_site, live_server, page):
    membership = MembershipFactory()
    client = Client()
    client.force_login(membership.user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )

    page.goto(f"{live_server.url}/billing/settings/")
    assert "You are on the Free plan." in page.content()
    page.click("text=See plans")
    page.shot("pricing")
    page.click("button[data-price=premium_monthly]")
    page.fill("#card_number", "4242 4242 4242 4242")
    page.shot("checkout")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/billing/checkout/success/**")
    assert "Thank you!" in page.content()
    billing_site.flush()

    page.goto(f"{live_server.url}/billing/settings/")
    page.shot("premium")
    assert "Plan: Premium" in page.content()
    meter = page.locator(".meter[data-feature=premium_article]").inner_text()
    assert "0 of 3 premium articles used this cycle, resets on" in meter
    # htmx fills in what switching costs, as Stripe previews it.
    switch = page.locator("button[data-price=premium_yearly]")
    switch.locator(".due", has_text="due now").wait_for()
    page.shot("switch-preview")
    assert switch.inner_text().startswith("Switch to $320.00 / year ($28")

    for n in range(3):
        usage_track(
            organization=membership.organization,
            user_id=membership.user.pk,
            feature="premium_article",
            quantity=1,
            idempotency_key=f"read-{n}",
        )
    page.reload()
    page.shot("quota-used")
    assert (
        "3 of 3 premium articles used this cycle" in page.locator(".meter[data-feature=premium_article]").inner_text()
    )
