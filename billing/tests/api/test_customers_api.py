from datetime import UTC, datetime

import pytest
import stripe
from djstripe.models import Customer as MirroredCustomer
from rest_framework.test import APIClient

from accounts.models import Role
from billing.models import Customer
from billing.tests.factories import MembershipFactory, SubscriptionStateFactory

pytestmark = pytest.mark.django_db
CUSTOMERS = "/api/v1/customers/"


def client_for(user):
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def make_customer(membership, **body):
    response = client_for(membership.user).post(
        CUSTOMERS, {"organization": membership.organization.pk, **body}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_create_makes_one_stripe_customer(stripe_sandbox):
    admin = MembershipFactory(role=Role.ADMIN)
    body = make_customer(admin, email="pay@acme.example")
    assert (body["id"], body["email"], body["status"], body["subscriptions"]) == (
        admin.organization.pk,
        "pay@acme.example",
        "none",
        [],
    )
    assert stripe.Customer.retrieve(body["stripe_customer_id"]).email == "pay@acme.example"
    again = client_for(admin.user).post(CUSTOMERS, {"organization": admin.organization.pk}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "customer_exists")
    assert Customer.objects.count() == 1


def test_update_syncs_to_stripe_and_archive_is_soft(stripe_sandbox):
    admin = MembershipFactory(role=Role.ADMIN)
    body = make_customer(admin)
    url = f"{CUSTOMERS}{admin.organization.pk}/"
    updated = client_for(admin.user).patch(url, {"name": "Acme Learning"}, format="json").json()
    assert updated["name"] == "Acme Learning"
    assert stripe.Customer.retrieve(body["stripe_customer_id"]).name == "Acme Learning"
    archived = client_for(admin.user).post(f"{url}archive/", {}, format="json").json()
    assert (archived["status"], archived["archived_at"] is not None) == ("archived", True)
    assert Customer.objects.filter(organization=admin.organization).exists()
    refused = client_for(admin.user).patch(url, {"name": "Nope"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "customer_archived")


def test_buyers_cannot_change_billing_details(stripe_sandbox):
    admin = MembershipFactory(role=Role.ADMIN)
    make_customer(admin)
    buyer = MembershipFactory(organization=admin.organization, role=Role.BUYER)
    url = f"{CUSTOMERS}{admin.organization.pk}/"
    assert client_for(buyer.user).patch(url, {"name": "Mine"}, format="json").status_code == 403
    assert client_for(buyer.user).get(url).status_code == 200
    assert Customer.objects.get().name == admin.organization.name


def test_other_organizations_customers_are_404_and_not_listed(stripe_sandbox):
    mine, theirs = MembershipFactory(role=Role.ADMIN), MembershipFactory(role=Role.ADMIN)
    make_customer(mine)
    make_customer(theirs)
    client = client_for(mine.user)
    assert [c["id"] for c in client.get(CUSTOMERS).json()["results"]] == [mine.organization.pk]
    assert client.get(f"{CUSTOMERS}{theirs.organization.pk}/").status_code == 404
    assert client.post(f"{CUSTOMERS}{theirs.organization.pk}/archive/", {}, format="json").status_code == 404
    assert client.post(CUSTOMERS, {"organization": theirs.organization.pk}, format="json").status_code == 404
    assert Customer.objects.filter(archived_at__isnull=False).count() == 0


def test_list_filters_and_pagination():
    user = MembershipFactory().user
    rows = []
    for n, (status, day) in enumerate([("active", 1), ("past_due", 5), ("canceled", 9)]):
        state = SubscriptionStateFactory(status=status)
        MembershipFactory(user=user, organization=state.organization)
        rows.append(
            Customer.objects.create(
                organization=state.organization,
                stripe_customer_id=f"cus_f{n}",
                email=f"c{n}@example.com",
                name=f"C{n}",
                created_at=datetime(2026, 11, day, tzinfo=UTC),
            )
        )
    client = client_for(user)

    def ids(**params):
        return [c["stripe_customer_id"] for c in client.get(CUSTOMERS, params).json()["results"]]

    assert ids() == ["cus_f2", "cus_f1", "cus_f0"]
    assert ids(status="past_due") == ["cus_f1"]
    assert ids(email="C0@EXAMPLE.com") == ["cus_f0"]
    assert ids(created_after="2026-11-05", created_before="2026-11-09") == ["cus_f1"]
    page = client.get(CUSTOMERS, {"page_size": 2}).json()
    assert (page["count"], len(page["results"]), page["next"] is not None) == (3, 2, True)
    bad = client.get(CUSTOMERS, {"created_after": "yesterday"})
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (400, "created_after")


def delivered(results):
    """Every delivery accepted by the webhook endpoint (and, Celery being eager here, processed), by event type."""
    assert {r["status"] for r in results} == {"delivered"}, results
    return sorted(r["type"] for r in results)


@pytest.mark.django_db(transaction=True)
def test_customer_webhooks_from_the_sandbox_update_then_archive_the_local_record(billing_site):
    admin = MembershipFactory(role=Role.ADMIN)
    body = make_customer(admin, email="old@acme.example")
    url = f"{CUSTOMERS}{admin.organization.pk}/"
    assert delivered(billing_site.flush()) == ["customer.created"]

    # Our own change goes to Stripe through the gateway; its echo changes nothing here.
    client_for(admin.user).patch(url, {"name": "Acme Learning"}, format="json")
    assert delivered(billing_site.flush()) == ["customer.updated"]
    # A change made in Stripe itself (Dashboard, billing portal) reaches us only as a webhook.
    stripe.Customer.modify(body["stripe_customer_id"], email="ap@acme.example")
    stripe.Customer.modify(body["stripe_customer_id"], email="billing@acme.example", name="Acme Ltd")
    billing_site.deliverer.shuffle = True  # Stripe does not promise order; the latest state wins anyway
    assert delivered(billing_site.flush()) == ["customer.updated", "customer.updated"]

    detail = client_for(admin.user).get(url).json()
    assert (detail["email"], detail["name"], detail["status"]) == ("billing@acme.example", "Acme Ltd", "none")
    assert MirroredCustomer.objects.get(id=body["stripe_customer_id"]).email == "billing@acme.example"

    stripe.Customer.delete(body["stripe_customer_id"])
    assert "customer.deleted" in delivered(billing_site.flush())
    detail = client_for(admin.user).get(url).json()
    assert (detail["status"], detail["archived_at"] is not None) == ("archived", True)
