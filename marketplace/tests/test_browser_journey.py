"""In the browser: a visitor buys a prompt template signed out, fills it in, then signs up and keeps it."""

import pytest

from accounts.models import Organization
from billing.models import Purchase
from marketplace.tests.factories import PromptTemplateFactory

EMAIL = "prompt-buyer@example.com"
PASSWORD = "buyer-Passw0rd-long"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_visitor_buys_a_template_tries_it_and_keeps_it_after_signing_up(billing_site, live_server, page):
    template = PromptTemplateFactory(published=True, title="Launch email", slug="launch-email", price_amount=900)
    base = live_server.url

    page.goto(f"{base}/marketplace/")
    page.shot("list")
    page.click("text=Launch email")
    assert "Write a {{tone}} email" not in page.content()  # the prompt is not shown before buying
    page.shot("locked")
    page.click("#buy button")
    page.fill("#email", EMAIL)
    page.fill("#card_number", "4242 4242 4242 4242")
    page.shot("checkout")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/marketplace/{template.slug}/**")
    billing_site.flush()  # checkout.session.completed settles the purchase
    page.reload()
    page.locator("#try-it").wait_for()
    page.shot("owned")

    # A required value left out is refused with its field named (htmx swaps the form in place).
    page.click("#try-it button[type=submit]")
    page.locator("#errors-topic").wait_for()
    page.fill("#var-topic", "our spring launch")
    page.select_option("#var-tone", "casual")
    page.click("#try-it button[type=submit]")
    page.locator("#rendered").wait_for()
    page.shot("rendered")
    assert page.locator("#rendered").inner_text() == "Write a casual email about our spring launch in 100 words."

    # Signing up in the same browser makes the purchase the new account's.
    page.goto(f"{base}/accounts/signup/")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url("**/accounts/confirm-email/")
    purchase = Purchase.objects.get()
    personal = Organization.objects.get(is_personal=True, memberships__user__email=EMAIL)
    assert (purchase.organization, purchase.status, purchase.amount) == (personal, "paid", 900)
