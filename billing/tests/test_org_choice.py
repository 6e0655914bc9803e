"""The billing pages are about one of the user's organizations, chosen with ?org=<id>."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils.html import escape
from djstripe.models import Customer

from accounts.models import Role
from accounts.services.users import user_create_defaults
from billing.models import SubscriptionState
from billing.services.entitlements import entitlements_refresh
from billing.services.usage import usage_track
from billing.tests.factories import MembershipFactory, SubscriptionStateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    """A company on Premium (its month began two days ago) with one premium article used."""
    now = datetime.now(tz=UTC)
    state = SubscriptionStateFactory(
        organization__name="Acme AI",
        current_period_start=now - timedelta(days=2),
        current_period_end=now + timedelta(days=28),
    )
    entitlements_refresh(organization=state.organization)
    usage_track(
        organization=state.organization, user_id=None, feature="premium_article", quantity=1, idempotency_key="a"
    )
    return state.organization


@pytest.fixture
def customer(acme):
    """Like the demo customer: a personal organization (Free) and admin of Acme AI."""
    membership = MembershipFactory(organization=acme, role=Role.ADMIN)
    personal = user_create_defaults(user=membership.user)
    return membership.user, personal


def test_the_nav_links_to_billing(client, customer):
    client.force_login(customer[0])
    assert '<a href="/billing/settings/">Billing</a>' in client.get("/settings/organizations/").content.decode()


def test_without_a_choice_the_page_shows_the_paying_organization_and_offers_the_others(client, customer, acme):
    """After sign-in a member lands on the organization that pays (or the one they used last)."""
    user, personal = customer
    client.force_login(user)
    html = client.get("/billing/settings/").content.decode()
    assert "<h1>Billing · Acme AI</h1>" in html
    assert f'aria-current="page" data-org="{acme.pk}">Acme AI · Premium</strong>' in html
    link = f'href="/billing/settings/?org={personal.pk}" data-org="{personal.pk}">{escape(personal.name)} · Free</a>'
    assert link in html
    html = client.get(f"/billing/settings/?org={personal.pk}").content.decode()
    assert f"<h1>Billing · {escape(personal.name)}</h1>" in html
    assert "You are on the Free plan." in html


def test_the_chosen_organization_shows_its_plan_meters_and_admin_actions(client, customer, acme):
    client.force_login(customer[0])
    html = client.get(f"/billing/settings/?org={acme.pk}").content.decode()
    assert "<h1>Billing · Acme AI</h1>" in html
    assert "Plan: Premium" in html
    renewal = acme.subscription_state.current_period_end
    assert f"Renews on {renewal:%-d %b %Y}" in html
    assert f"1 of 3 premium articles used this cycle, resets on {renewal:%-d %b}" in html
    assert 'id="cancel"' in html
    assert "Payment method and billing portal" in html
    assert html.count(f'<input type="hidden" name="org" value="{acme.pk}">') == 3  # portal, cancel, switch


def test_a_member_who_is_not_admin_sees_the_plan_without_actions(client, acme):
    buyer = MembershipFactory(organization=acme, role=Role.BUYER)
    client.force_login(buyer.user)
    html = client.get(f"/billing/settings/?org={acme.pk}").content.decode()
    assert "Plan: Premium" in html
    assert "1 of 3 premium articles used this cycle" in html
    assert "Only the organization's admins can change its plan or payment method." in html
    assert 'id="cancel"' not in html
    assert "Payment method and billing portal" not in html


@pytest.mark.parametrize(
    "path",
    [
        "/billing/subscription/cancel/",
        "/billing/subscription/resume/",
        "/billing/subscription/change/",
        "/billing/portal/",
        "/billing/checkout/",
    ],
)
def test_a_buyer_cannot_change_the_organizations_billing(client, acme, path):
    buyer = MembershipFactory(organization=acme, role=Role.BUYER)
    client.force_login(buyer.user)
    before = SubscriptionState.objects.values().get(organization=acme)
    response = client.post(path, {"org": acme.pk, "lookup_key": "premium_yearly"})
    assert response.status_code == 403
    assert SubscriptionState.objects.values().get(organization=acme) == before
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/billing/settings/"),
        ("get", "/billing/pricing/"),
        ("get", "/billing/checkout/success/"),
        ("post", "/billing/subscription/cancel/"),
        ("post", "/billing/portal/"),
        ("post", "/billing/checkout/"),
    ],
)
def test_another_organization_is_404_even_for_an_admin_elsewhere(client, customer, acme, method, path):
    stranger = MembershipFactory(role=Role.ADMIN)
    client.force_login(stranger.user)
    before = SubscriptionState.objects.values().get(organization=acme)
    if method == "get":
        response = client.get(path, {"org": acme.pk})
    else:
        response = client.post(path, {"org": acme.pk, "lookup_key": "premium_monthly"})
    assert response.status_code == 404
    assert SubscriptionState.objects.values().get(organization=acme) == before
    assert not Customer.objects.exists()


def test_pricing_subscribes_the_chosen_organization_if_admin(client, customer, acme):
    user, personal = customer
    client.force_login(user)
    html = client.get(f"/billing/pricing/?org={personal.pk}").content.decode()
    assert f"Plans for {escape(personal.name)}." in html
    assert html.count(f'<input type="hidden" name="org" value="{personal.pk}">') == 2  # monthly, yearly
    buyer = MembershipFactory(organization=acme, role=Role.BUYER)
    client.force_login(buyer.user)
    html = client.get(f"/billing/pricing/?org={acme.pk}").content.decode()
    assert "Plans for Acme AI (ask one of its admins to subscribe)." in html
    assert "data-price=" not in html


def test_checkout_starts_for_the_chosen_organization(client, customer, stripe_sandbox):
    call_command("billing_setup")
    user, _ = customer
    company = MembershipFactory(user=user, organization__name="Beta Labs", role=Role.ADMIN).organization
    client.force_login(user)
    response = client.post("/billing/checkout/", {"org": company.pk, "lookup_key": "premium_monthly"})
    assert response.status_code == 302
    assert response["Location"].startswith(stripe_sandbox.url + "/c/pay/")
    assert list(Customer.objects.values_list("subscriber_id", flat=True)) == [company.pk]
