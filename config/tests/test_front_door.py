"""The front door: a member lands on the organization they used last (or the paying one),
sees it in the header, and the home page shows what it has. Personal organizations are
named after the person and can be renamed."""

from html import unescape

import pytest
from django.test import Client

from accounts.models import Organization, Role
from accounts.tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory
from billing.tests.factories import PurchaseFactory, SubscriptionStateFactory

pytestmark = pytest.mark.django_db


def _sign_in(user) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    return client


def _header_org(html: str) -> str:
    """The option selected in the header's organization switcher."""
    start = html.index('id="id_header_organization"')
    selected = html.index(" selected>", start)
    return unescape(html[selected + len(" selected>") : html.index("</option>", selected)])


@pytest.fixture
def customer():
    """Like the demo customer: a personal workspace on Free and an admin seat in Acme AI on Premium."""
    from accounts.services.users import user_create_defaults

    user = UserFactory(profile__display_name="Casey Jones")
    user_create_defaults(user=user)
    acme = OrganizationFactory(name="Acme AI")
    MembershipFactory(user=user, organization=acme, role=Role.ADMIN)
    SubscriptionStateFactory(organization=acme)
    return user, acme


def test_first_sign_in_lands_on_the_paying_organization(customer):
    user, acme = customer
    client = _sign_in(user)

    html = client.get("/").content.decode()

    assert _header_org(html) == "Acme AI"
    assert "<h1>Acme AI</h1>" in html
    assert "<h2>Plan: Premium</h2>" in html
    assert "<h1>Billing · Acme AI</h1>" in client.get("/billing/settings/").content.decode()


def test_sign_in_lands_on_the_organization_used_last(customer):
    user, acme = customer
    personal = Organization.objects.get(memberships__user=user, is_personal=True)
    client = _sign_in(user)
    response = client.post(
        "/settings/organizations/switch/", {"organization": personal.pk, "next": f"/learn/?org={acme.pk}"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/learn/"  # the stale ?org= is dropped

    later = _sign_in(user)

    html = later.get("/").content.decode()
    assert _header_org(html) == "Casey's workspace"
    assert "<h2>Plan: Free</h2>" in html


def test_a_page_opened_with_org_speaks_for_it_without_changing_the_current_one(customer):
    user, acme = customer
    personal = Organization.objects.get(memberships__user=user, is_personal=True)
    client = _sign_in(user)

    assert _header_org(client.get(f"/billing/pricing/?org={personal.pk}").content.decode()) == "Casey's workspace"
    assert _header_org(client.get("/").content.decode()) == "Acme AI"


def test_switching_to_an_organization_of_someone_else_is_404_and_changes_nothing(customer):
    user, acme = customer
    stranger_org = MembershipFactory().organization
    client = _sign_in(user)

    assert client.post("/settings/organizations/switch/", {"organization": stranger_org.pk}).status_code == 404
    assert client.get(f"/billing/settings/?org={stranger_org.pk}").status_code == 404
    assert client.get(f"/?org={stranger_org.pk}").status_code == 404
    assert client.get("/?org=x%00").status_code == 400
    assert _header_org(client.get("/").content.decode()) == "Acme AI"


def test_switch_refuses_to_redirect_off_site(customer):
    user, acme = customer
    client = _sign_in(user)
    response = client.post(
        "/settings/organizations/switch/", {"organization": acme.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_home_shows_plan_quotas_purchases_learning_and_templates(customer):
    user, acme = customer
    PurchaseFactory(organization=acme, item_type="article", item_id="prompting-101", item_name="Prompting 101")
    PurchaseFactory(organization=acme, item_type="prompt_template", item_id="cold-email", item_name="Cold email")
    PurchaseFactory(
        organization=acme, item_type="quiz", item_id="rag-basics", item_name="RAG basics", status="refunded"
    )
    client = _sign_in(user)

    html = client.get("/").content.decode()

    learning = html[html.index('id="learning"') : html.index('id="templates"')]
    assert '<a href="/learn/lessons/prompting-101/">Prompting 101</a>' in learning
    assert "RAG basics" not in html  # refunded: no longer owned
    templates = html[html.index('id="templates"') : html.index('id="purchases"')]
    assert '<a href="/marketplace/cold-email/">Cold email</a>' in templates
    purchases = html[html.index('id="purchases"') :]
    assert purchases.count("<li>") == 2


def test_home_for_a_visitor_invites_to_sign_up(client):
    html = client.get("/").content.decode()
    assert "Create a free account" in html
    assert "id_header_organization" not in html


def test_sign_up_names_the_personal_organization_after_the_person(client):
    response = client.post(
        "/accounts/signup/",
        {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "password1": "a-long-enough-Passw0rd",
            "password2": "a-long-enough-Passw0rd",
        },
    )
    assert response.status_code == 302
    organization = Organization.objects.get(memberships__user__email="ada@example.com")
    assert (organization.name, organization.is_personal) == ("Ada's workspace", True)
    assert organization.memberships.get().user.profile.display_name == "Ada Lovelace"


def test_without_a_name_the_workspace_is_named_after_the_address(client):
    client.post(
        "/accounts/signup/",
        {"email": "grace@example.com", "password1": "a-long-enough-Passw0rd", "password2": "a-long-enough-Passw0rd"},
    )
    assert Organization.objects.get(memberships__user__email="grace@example.com").name == "grace's workspace"


def test_an_admin_renames_their_personal_workspace(customer):
    user, _ = customer
    personal = Organization.objects.get(memberships__user=user, is_personal=True)
    client = _sign_in(user)

    response = client.post(f"/settings/organizations/{personal.pk}/rename/", {"name": "  Casey's   lab "})

    assert response.status_code == 302
    personal.refresh_from_db()
    assert personal.name == "Casey's lab"


def test_members_who_are_not_admins_and_strangers_cannot_rename(customer):
    user, acme = customer
    buyer = MembershipFactory(organization=acme, role=Role.BUYER).user
    stranger = MembershipFactory().user

    buyer_client = Client()
    buyer_client.force_login(buyer)
    assert buyer_client.post(f"/settings/organizations/{acme.pk}/rename/", {"name": "Mine"}).status_code == 403
    stranger_client = Client()
    stranger_client.force_login(stranger)
    assert stranger_client.post(f"/settings/organizations/{acme.pk}/rename/", {"name": "Mine"}).status_code == 404
    acme.refresh_from_db()
    assert acme.name == "Acme AI"
