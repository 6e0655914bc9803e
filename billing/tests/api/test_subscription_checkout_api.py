"""POST /api/v1/subscriptions/: the Checkout URL for a price, through the Subscribe button's own service."""

import pytest
import stripe
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services.api_keys import api_key_create
from billing.models import SubscriptionCheckout
from billing.tests.checkout_helpers import pay_hosted_checkout
from billing.tests.factories import MembershipFactory, SubscriptionStateFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/subscriptions/"


def client_for(user):
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def subscription_sessions() -> list:
    return [s for s in stripe.checkout.Session.list(limit=100).auto_paging_iter() if s.mode == "subscription"]


def assert_error(response, *, status: int, code: str) -> dict:
    body = response.json()
    assert response.status_code == status and (body["status"], body["code"]) == (status, code), body
    assert set(body) == {"status", "code", "message", "errors", "request_id"}
    return body


@pytest.fixture
def admin(stripe_sandbox):
    call_command("billing_setup")
    return MembershipFactory(role=Role.ADMIN)


def test_an_admin_gets_the_checkout_url_and_asking_twice_answers_the_same_one(admin):
    org = admin.organization
    api = client_for(admin.user)

    first = api.post(URL, {"customer": org.pk, "price": "premium_monthly"}, format="json")
    second = api.post(URL, {"customer": org.pk, "price": "premium_monthly"}, format="json")

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert (first.json()["customer"], first.json()["price"]) == (org.pk, "premium_monthly")
    [session] = subscription_sessions()
    assert session.url == first.json()["checkout_url"] and session.status == "open"
    assert (
        session.success_url
        == f"http://testserver/billing/checkout/success/?org={org.pk}&session_id={{CHECKOUT_SESSION_ID}}"
    )
    assert SubscriptionCheckout.objects.get(organization=org).stripe_checkout_session_id == session.id
    # The URL is a real Checkout: paying it subscribes.
    assert pay_hosted_checkout(first.json()["checkout_url"], card="4242424242424242", email=admin.user.email) == 303


def test_another_price_closes_the_open_checkout_first(admin):
    org = admin.organization
    api = client_for(admin.user)
    monthly = api.post(URL, {"customer": org.pk, "price": "premium_monthly"}, format="json").json()["checkout_url"]
    yearly = api.post(URL, {"customer": org.pk, "price": "premium_yearly"}, format="json").json()["checkout_url"]

    assert yearly != monthly
    assert sorted(s.status for s in subscription_sessions()) == ["expired", "open"]
    assert pay_hosted_checkout(monthly, card="4242424242424242", email=admin.user.email) != 303
    assert list(SubscriptionCheckout.objects.filter(organization=org).values_list("lookup_key", "status")) == [
        ("premium_yearly", "open"),
        ("premium_monthly", "expired"),
    ]


def test_only_admins_of_the_organization_and_never_api_keys(admin):
    org = admin.organization
    body = {"customer": org.pk, "price": "premium_monthly"}
    buyer = MembershipFactory(organization=org, role=Role.BUYER)
    assert_error(client_for(buyer.user).post(URL, body, format="json"), status=403, code="permission_denied")
    stranger = MembershipFactory(role=Role.ADMIN)
    assert_error(client_for(stranger.user).post(URL, body, format="json"), status=404, code="not_found")
    key = api_key_create(organization=org, name="sdk", created_by=admin.user)
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Api-Key {key.secret}")
    assert_error(machine.post(URL, body, format="json"), status=403, code="permission_denied")
    assert_error(APIClient().post(URL, body, format="json"), status=401, code="not_authenticated")
    assert subscription_sessions() == [] and not SubscriptionCheckout.objects.exists()


def test_an_organization_already_subscribed_is_refused(stripe_sandbox):
    state = SubscriptionStateFactory()
    admin = MembershipFactory(organization=state.organization, role=Role.ADMIN)
    response = client_for(admin.user).post(
        URL, {"customer": state.organization.pk, "price": "premium_yearly"}, format="json"
    )
    assert_error(response, status=409, code="already_subscribed")
    assert subscription_sessions() == [] and not SubscriptionCheckout.objects.exists()


def test_unknown_prices_and_fields_are_400_and_open_nothing(admin):
    api = client_for(admin.user)
    org = admin.organization
    unknown = assert_error(
        api.post(URL, {"customer": org.pk, "price": "gold"}, format="json"), status=400, code="validation_error"
    )
    assert [e["field"] for e in unknown["errors"]] == ["price"]
    extra = assert_error(
        api.post(URL, {"customer": org.pk, "price": "premium_monthly", "trial_days": 30}, format="json"),
        status=400,
        code="validation_error",
    )
    assert extra["errors"] == [{"field": "trial_days", "message": "This field is not accepted here."}]
    assert subscription_sessions() == []
