"""GDPR and billing: deleting an account ends the subscriptions nobody is left to use; the export lists purchases.

accounts cannot import billing: billing registers a deletion step and an export section
(billing.account_receivers). These tests go through the page and the API that delete an
account, against the Stripe sandbox.
"""

import pytest
import stripe
from auditlog.models import LogEntry
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import Membership, Organization, Role, User
from accounts.services.users import user_create_defaults
from accounts.tests.factories import PASSWORD, UserFactory
from billing.models import SubscriptionState
from billing.services.subscription_changes import subscription_start_with_card_on_file
from billing.tests.factories import MembershipFactory, OrganizationFactory, PurchaseFactory

pytestmark = pytest.mark.django_db


def subscribed(organization) -> str:
    state = subscription_start_with_card_on_file(
        organization=organization, lookup_key="premium_monthly", payment_method="pm_card_visa"
    )
    assert state.status == "active"
    return state.stripe_subscription_id


def stripe_status(subscription_id: str) -> str:
    return stripe.Subscription.retrieve(subscription_id).status


@pytest.fixture
def person(stripe_sandbox):
    """Pat pays Premium on their personal organization and is the only admin of a paying company with a colleague."""
    call_command("billing_setup")
    user = UserFactory(email="pat@example.com")
    personal = user_create_defaults(user=user)
    company = MembershipFactory(user=user, role=Role.ADMIN, organization__name="Acme").organization
    colleague = MembershipFactory(organization=company, role=Role.BUYER)
    return {
        "user": user,
        "personal": personal,
        "personal_subscription": subscribed(personal),
        "company": company,
        "company_subscription": subscribed(company),
        "colleague": colleague,
    }


def test_deleting_on_the_page_cancels_the_personal_subscription_and_leaves_the_companys(client, person):
    client.force_login(person["user"])
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302

    response = client.post("/settings/data/delete/", {"confirm_email": "pat@example.com"}, follow=True)

    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [
        "Your account and personal data have been deleted.",
        "1 subscription(s) of the organizations only you belonged to were cancelled.",
    ]
    assert stripe_status(person["personal_subscription"]) == "canceled"
    assert not Organization.objects.filter(pk=person["personal"].pk).exists()
    # The company keeps its members, its plan and an admin.
    assert stripe_status(person["company_subscription"]) == "active"
    assert SubscriptionState.objects.get(organization=person["company"]).status == "active"
    person["colleague"].refresh_from_db()
    assert person["colleague"].role == Role.ADMIN
    assert not User.objects.get(pk=person["user"].pk).is_active


def test_the_api_deletion_cancels_the_subscription_of_a_company_only_the_person_belonged_to(stripe_sandbox):
    call_command("billing_setup")
    membership = MembershipFactory(user__email="solo@example.com", role=Role.ADMIN, organization__name="Solo Ltd")
    company = membership.organization
    subscription_id = subscribed(company)
    api = APIClient()
    api.force_authenticate(membership.user)

    body = {"confirm_email": "solo@example.com", "password": PASSWORD}
    response = api.delete("/api/v1/account/", body, format="json")

    assert response.status_code == 204
    assert stripe_status(subscription_id) == "canceled"
    state = SubscriptionState.objects.get(organization=company)
    assert (state.status, state.plan) == ("canceled", "premium")
    assert Organization.objects.filter(pk=company.pk).exists() and not company.memberships.exists()
    audit = LogEntry.objects.get(additional_data__event="gdpr_account_deletion")
    assert audit.additional_data["steps"]["billing"]["subscriptions_cancelled"] == [subscription_id]


def test_when_stripe_cannot_cancel_the_deletion_is_refused_and_nothing_changes(person, settings, client):
    settings.STRIPE_API_BASE = "http://127.0.0.1:1"  # Stripe is down
    user = person["user"]

    api = APIClient()
    api.force_authenticate(user)
    response = api.delete("/api/v1/account/", {"confirm_email": "pat@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["code"]) == (503, "account_deletion_failed")
    assert body["message"].startswith("Your subscription could not be cancelled right now")

    client.force_login(user)
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    page = client.post("/settings/data/delete/", {"confirm_email": "pat@example.com"})
    assert page.status_code == 503
    assert "your account was not deleted" in page.content.decode()

    user.refresh_from_db()
    assert user.is_active and user.email == "pat@example.com"
    assert Membership.objects.filter(user=user).count() == 2
    assert Organization.objects.filter(pk=person["personal"].pk).exists()
    assert SubscriptionState.objects.get(organization=person["personal"]).status == "active"


def test_the_export_lists_the_persons_purchases_with_refunds_and_billing_emails(client):
    user = UserFactory(email="buyer@example.com")
    personal = user_create_defaults(user=user)
    PurchaseFactory(organization=personal, buyer=user, item_id="agents", item_name="Agents quiz", amount=4000)
    PurchaseFactory(
        organization=personal, buyer=user, item_id="evals", item_name="Evals quiz", amount=2500, refunded_amount=500
    )
    PurchaseFactory(organization=OrganizationFactory(), item_id="someone-elses")  # not this person's
    client.force_login(user)

    data = client.get("/settings/data/export/").json()

    purchases = data["billing"]["purchases"]
    assert [(p["item_name"], p["amount"], p["currency"], p["status"]) for p in purchases] == [
        ("Agents quiz", 4000, "usd", "paid"),
        ("Evals quiz", 2500, "usd", "partially_refunded"),
    ]
    assert purchases[1]["refunded_amount"] == 500
    assert [r["amount"] for r in purchases[1]["refunds"]] == [500]
    assert data["billing"]["emails_received"] == []
    api = APIClient()
    api.force_authenticate(user)
    assert api.get("/api/v1/account/export/").json()["billing"]["purchases"] == purchases
