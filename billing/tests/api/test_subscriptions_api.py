"""Subscriptions and invoices APIs against a subscription made through the sandbox."""

import pytest
from django.contrib import admin as django_admin
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import RequestFactory
from rest_framework.exceptions import PermissionDenied
from rest_framework.test import APIClient

from accounts.models import Role
from billing.models import SubscriptionState
from billing.services.subscription_changes import subscription_cancel
from billing.tests.checkout_helpers import subscribe
from billing.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(user):
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def subscribed(billing_site):
    membership = MembershipFactory(role=Role.ADMIN)
    assert subscribe(membership) == 303
    billing_site.flush()
    return membership


def test_list_retrieve_and_invoices(subscribed):
    org = subscribed.organization
    client = client_for(subscribed.user)
    [subscription] = client.get("/api/v1/subscriptions/", {"customer": org.pk}).json()["results"]
    assert (subscription["status"], subscription["plan"], subscription["price_lookup_key"]) == (
        "active",
        "premium",
        "premium_monthly",
    )
    state = SubscriptionState.objects.get(organization=org)
    assert (subscription["current_period_start"], subscription["current_period_end"]) == (
        state.current_period_start.isoformat().replace("+00:00", "Z"),
        state.current_period_end.isoformat().replace("+00:00", "Z"),
    )
    assert subscription["cancel_at_period_end"] is False
    detail = client.get(f"/api/v1/subscriptions/{subscription['id']}/", {"customer": org.pk}).json()
    assert detail == subscription
    assert client.get(f"/api/v1/customers/{org.pk}/").json()["subscriptions"] == [subscription]
    [invoice] = client.get("/api/v1/invoices/", {"customer": org.pk}).json()["results"]
    assert (invoice["amount_paid"], invoice["currency"], invoice["status"]) == (3200, "usd", "paid")
    assert invoice["invoice_pdf"]


def test_cancel_at_period_end_then_resume(subscribed):
    org = subscribed.organization
    client = client_for(subscribed.user)
    [subscription] = client.get("/api/v1/subscriptions/", {"customer": org.pk}).json()["results"]
    url = f"/api/v1/subscriptions/{subscription['id']}"
    cancelled = client.post(f"{url}/cancel/?customer={org.pk}", {}, format="json").json()
    assert (cancelled["status"], cancelled["cancel_at_period_end"]) == ("active", True)
    assert SubscriptionState.objects.get(organization=org).cancel_at_period_end is True
    resumed = client.post(f"{url}/resume/?customer={org.pk}", {}, format="json").json()
    assert resumed["cancel_at_period_end"] is False
    assert SubscriptionState.objects.get(organization=org).cancel_at_period_end is False


def test_change_to_yearly(subscribed):
    org = subscribed.organization
    client = client_for(subscribed.user)
    [subscription] = client.get("/api/v1/subscriptions/", {"customer": org.pk}).json()["results"]
    changed = client.post(
        f"/api/v1/subscriptions/{subscription['id']}/change-plan/?customer={org.pk}",
        {"price": "premium_yearly"},
        format="json",
    ).json()
    assert changed["price_lookup_key"] == "premium_yearly"
    assert SubscriptionState.objects.get(organization=org).price_lookup_key == "premium_yearly"


def test_members_who_are_not_admins_cannot_cancel_and_nobody_cancels_at_once(subscribed):
    org = subscribed.organization
    buyer = MembershipFactory(organization=org, role=Role.BUYER)
    [subscription] = client_for(buyer.user).get("/api/v1/subscriptions/", {"customer": org.pk}).json()["results"]
    url = f"/api/v1/subscriptions/{subscription['id']}/cancel/?customer={org.pk}"
    assert client_for(buyer.user).post(url, {}, format="json").status_code == 403
    assert client_for(subscribed.user).post(url, {"at_period_end": False}, format="json").status_code == 403
    assert SubscriptionState.objects.get(organization=org).cancel_at_period_end is False


def test_another_organizations_subscriptions_and_invoices_are_404(subscribed):
    org = subscribed.organization
    stranger = client_for(MembershipFactory().user)
    [subscription] = client_for(subscribed.user).get("/api/v1/subscriptions/", {"customer": org.pk}).json()["results"]
    assert stranger.get("/api/v1/subscriptions/", {"customer": org.pk}).status_code == 404
    assert stranger.get("/api/v1/invoices/", {"customer": org.pk}).status_code == 404
    cancel = f"/api/v1/subscriptions/{subscription['id']}/cancel/?customer={org.pk}"
    assert stranger.post(cancel, {}, format="json").status_code == 404
    assert SubscriptionState.objects.get(organization=org).cancel_at_period_end is False


def test_staff_cancel_at_once_from_the_admin_and_the_plan_ends_now(subscribed):
    org = subscribed.organization
    staff = MembershipFactory(user__is_staff=True, user__is_superuser=True).user
    request = RequestFactory().post("/admin/billing/subscriptionstate/")
    request.user = staff
    request._messages = CookieStorage(request)
    state_admin = django_admin.site._registry[SubscriptionState]

    state_admin.cancel_now(request, SubscriptionState.objects.filter(organization=org))

    state = SubscriptionState.objects.get(organization=org)
    assert state.status == "canceled"
    assert [str(m) for m in request._messages] == ["Cancelled 1 subscription(s) at once."]
    access = client_for(subscribed.user).post(
        "/api/v1/features/check-access/", {"customer": org.pk, "feature": "premium_article"}, format="json"
    )
    assert access.json()["allowed"] is False


def test_the_cancel_at_once_rule_is_the_services_whoever_calls_it(subscribed):
    org = subscribed.organization
    state = SubscriptionState.objects.get(organization=org)
    with pytest.raises(PermissionDenied):
        subscription_cancel(
            organization=org, subscription_id=state.stripe_subscription_id, at_period_end=False, actor=subscribed.user
        )
    with pytest.raises(PermissionDenied):
        subscription_cancel(organization=org, subscription_id=state.stripe_subscription_id, at_period_end=False)
    assert SubscriptionState.objects.get(organization=org).status == "active"
