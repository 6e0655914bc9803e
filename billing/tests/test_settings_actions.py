"""The billing settings page's actions on a subscription made through the sandbox."""

import re

import pytest
import stripe
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services.users import user_create_defaults
from billing.models import SubscriptionState
from billing.tests.checkout_helpers import subscribe
from billing.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_client(billing_site):
    membership = MembershipFactory(role=Role.ADMIN)
    assert subscribe(membership) == 303
    billing_site.flush()
    client = Client()
    client.force_login(membership.user)
    return client, membership


def test_invoices_with_download_links_and_renewal_date(admin_client):
    client, membership = admin_client
    state = SubscriptionState.objects.get(organization=membership.organization)
    html = client.get("/billing/settings/").content.decode()
    assert f"Renews on {state.current_period_end:%-d %b %Y}" in html
    assert "$32.00 · paid" in html
    assert html.count("Download PDF") == 1


def test_cancel_at_period_end_then_resume_from_the_page(admin_client):
    client, membership = admin_client
    page = client.post("/billing/subscription/cancel/", follow=True).content.decode()
    assert "Your subscription will end at the close of this period." in page
    assert "Cancels on" in page and "Resume subscription" in page
    assert SubscriptionState.objects.get(organization=membership.organization).cancel_at_period_end is True
    page = client.post("/billing/subscription/resume/", follow=True).content.decode()
    assert "Renews on" in page
    assert SubscriptionState.objects.get(organization=membership.organization).cancel_at_period_end is False


def test_switch_to_yearly_from_the_page_bills_what_the_button_said(admin_client, billing_site):
    client, membership = admin_client
    assert _switch_button(client) == "Switch to $320.00 / year ($288.00 due now)"
    page = client.post("/billing/subscription/change/", {"lookup_key": "premium_yearly"}, follow=True)
    assert "Your plan was changed; the unused time of the old price is credited." in page.content.decode()
    assert SubscriptionState.objects.get(organization=membership.organization).price_lookup_key == "premium_yearly"
    billing_site.flush()
    # The yearly price less the unused month, billed at once as the cycle restarts.
    assert "$288.00 · paid" in client.get("/billing/settings/").content.decode()


def test_members_who_are_not_admins_cannot_cancel(admin_client):
    _, membership = admin_client
    buyer = MembershipFactory(organization=membership.organization, role=Role.BUYER)
    client = Client()
    client.force_login(buyer.user)
    assert "Cancel at period end" not in client.get("/billing/settings/").content.decode()
    assert client.post("/billing/subscription/cancel/").status_code == 403
    assert client.get("/billing/subscription/change/preview/", {"lookup_key": "premium_yearly"}).status_code == 403
    assert SubscriptionState.objects.get(organization=membership.organization).cancel_at_period_end is False


def test_the_switch_button_and_the_api_preview_the_proration(admin_client):
    client, membership = admin_client
    state = SubscriptionState.objects.get(organization=membership.organization)
    # Seconds after subscribing the whole month is still unused (a cent is ~13 minutes of it).
    assert _switch_button(client) == "Switch to $320.00 / year ($288.00 due now)"
    api = APIClient()
    api.force_authenticate(user=membership.user)
    preview = api.get(
        f"/api/v1/subscriptions/{state.stripe_subscription_id}/change-plan/preview/",
        {"customer": membership.organization.pk, "price": "premium_yearly"},
    ).json()
    assert (preview["charge"], preview["currency"]) == (32000, "usd")
    assert (preview["credit"], preview["amount_due"]) == (3200, 28800)


def test_an_admin_cancels_the_chosen_organization_not_their_personal_one(admin_client):
    client, membership = admin_client
    personal = user_create_defaults(user=membership.user)
    org = membership.organization
    response = client.post("/billing/subscription/cancel/", {"org": org.pk})
    assert response["Location"] == f"/billing/settings/?org={org.pk}"
    assert SubscriptionState.objects.get(organization=org).cancel_at_period_end is True
    assert not SubscriptionState.objects.filter(organization=personal).exists()


def test_with_a_discount_on_the_subscription_the_switch_preview_is_what_stripe_then_bills(admin_client, billing_site):
    client, membership = admin_client
    state = SubscriptionState.objects.get(organization=membership.organization)
    coupon = stripe.Coupon.create(percent_off=50, duration="forever")
    stripe.Subscription.modify(state.stripe_subscription_id, discounts=[{"coupon": coupon.id}])

    button = _switch_button(client)
    due = re.search(r"\((\$[\d.,]+) due now\)", button).group(1)
    assert due != "$288.00"  # the catalogue's undiscounted figure
    client.post("/billing/subscription/change/", {"lookup_key": "premium_yearly"})
    billing_site.flush()

    assert f"{due} · paid" in client.get("/billing/settings/").content.decode()


def _switch_button(client) -> str:
    """The switch button's text as the browser shows it once htmx has loaded the preview into it."""
    html = client.get("/billing/settings/").content.decode()
    button = re.search(r'<button type="submit" data-price="premium_yearly">(.*?)</button>', html, re.S).group(1)
    preview_url = re.search(r'hx-get="([^"]+)"', button).group(1).replace("&amp;", "&")
    label = re.sub(r"<span[^>]*></span>", "", button).strip()
    return f"{label} {client.get(preview_url).content.decode()}"
