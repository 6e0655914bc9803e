from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from djstripe.models import Customer

from billing.services.entitlements import entitlements_refresh
from billing.services.usage import usage_track
from billing.tests.factories import MembershipFactory, SubscriptionStateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def premium_member():
    now = datetime.now(tz=UTC)
    state = SubscriptionStateFactory(
        current_period_start=now - timedelta(days=2),
        current_period_end=now + timedelta(days=28),
    )
    membership = MembershipFactory(organization=state.organization)
    entitlements_refresh(organization=state.organization)
    return membership


def test_pricing_lists_the_catalogue(client):
    html = client.get("/billing/pricing/").content.decode()
    assert "$32.00</strong> / month" in html
    assert "$320.00</strong> / year" in html
    assert "Contact sales" in html
    assert "2 free quizzes each billing cycle (worth up to $50 each)" in html
    assert "20% off up to 3 more quizzes a month" in html
    assert "5 AI tutor chats a day per member" in html


def test_usage_meters_say_how_much_is_left_and_when_it_resets(client, premium_member):
    org = premium_member.organization
    for n in range(2):
        usage_track(organization=org, user_id=None, feature="premium_article", quantity=1, idempotency_key=f"p{n}")
    client.force_login(premium_member.user)
    html = client.get("/billing/settings/").content.decode()
    resets = org.subscription_state.current_period_end
    assert f"2 of 3 premium articles used this cycle, resets on {resets:%-d %b}" in html
    assert f"0 of 2 quizzes used this cycle, resets on {resets:%-d %b}" in html
    assert "Plan: Premium" in html
    assert "past-due-banner" not in html


def test_past_due_in_grace_shows_the_banner(client, premium_member):
    state = premium_member.organization.subscription_state
    state.status = "past_due"
    state.grace_until = datetime.now(tz=UTC) + timedelta(days=2)
    state.save()
    client.force_login(premium_member.user)
    html = client.get("/billing/settings/").content.decode()
    assert "Your last payment failed. You keep Premium until" in html


def test_free_member_sees_the_daily_chat_meter(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    usage_track(
        organization=membership.organization,
        user_id=membership.user.pk,
        feature="ai_chat",
        quantity=1,
        idempotency_key="c",
    )
    html = client.get("/billing/settings/").content.decode()
    assert "1 of 5 chats used today" in html
    assert "You are on the Free plan." in html


def test_settings_of_another_organization_is_404(client, premium_member):
    stranger = MembershipFactory()
    client.force_login(stranger.user)
    assert client.get(f"/billing/settings/?org={premium_member.organization.pk}").status_code == 404


def test_checkout_start_redirects_to_stripe_and_creates_one_customer(client, stripe_sandbox):
    call_command("billing_setup")
    membership = MembershipFactory()
    client.force_login(membership.user)
    first = client.post("/billing/checkout/", {"lookup_key": "premium_yearly"})
    second = client.post("/billing/checkout/", {"lookup_key": "premium_yearly"})
    assert first.status_code == second.status_code == 302
    assert first["Location"].startswith(stripe_sandbox.url + "/c/pay/")
    assert Customer.objects.filter(subscriber=membership.organization).count() == 1


def test_checkout_for_an_unknown_price_goes_back_to_pricing(client, stripe_sandbox):
    membership = MembershipFactory()
    client.force_login(membership.user)
    response = client.post("/billing/checkout/", {"lookup_key": "premium_forever"}, follow=True)
    assert response.redirect_chain == [(f"/billing/pricing/?org={membership.organization.pk}", 302)]
    assert "No such price in the catalogue." in response.content.decode()
    assert not Customer.objects.exists()


def test_subscribed_organization_cannot_check_out_again(client, premium_member, stripe_sandbox):
    client.force_login(premium_member.user)
    response = client.post("/billing/checkout/", {"lookup_key": "premium_monthly"}, follow=True)
    assert response.redirect_chain == [(f"/billing/pricing/?org={premium_member.organization.pk}", 302)]
    assert "already has a subscription" in response.content.decode()
    assert not Customer.objects.exists()


def test_checkout_cancel_page(client):
    client.force_login(MembershipFactory().user)
    assert "Nothing was charged." in client.get("/billing/checkout/cancel/").content.decode()


def test_a_free_organization_keeps_its_chats_after_starting_checkout(client, stripe_sandbox):
    call_command("billing_setup")
    membership = MembershipFactory()
    client.force_login(membership.user)
    client.post("/billing/checkout/", {"lookup_key": "premium_monthly"})
    chat = usage_track(
        organization=membership.organization,
        user_id=membership.user.pk,
        feature="ai_chat",
        quantity=1,
        idempotency_key="c",
    )
    assert (chat.used, chat.limit) == (1, 5)
