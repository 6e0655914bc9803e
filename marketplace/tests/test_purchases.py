"""Buying a prompt template through billing: priced from our row, paid in the sandbox's Checkout."""

import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role
from billing.models import ManualDiscount, Purchase
from billing.purchasables import PricedItem, purchasable_resolve
from billing.services.staff import manual_discount_save
from billing.tests.checkout_helpers import pay_hosted_checkout
from marketplace.tests.factories import MembershipFactory, PromptTemplateFactory

BUY = "/billing/purchase/"
CARD = "4242424242424242"


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def buy(client: Client, template):
    path = f"/marketplace/{template.slug}/"
    return client.post(BUY, {"item_type": "prompt_template", "item_id": template.slug, "next": path})


def checkout_total(url: str) -> str:
    """The total the sandbox's hosted Checkout page asks the customer to pay."""
    html = urllib.request.urlopen(url, timeout=10).read().decode()  # the local sandbox
    return html.split("data-testid=total>")[1].split("<")[0]


@pytest.mark.django_db
def test_published_templates_are_priced_from_our_records_and_drafts_are_not_for_sale():
    PromptTemplateFactory(published=True, slug="cold-email", title="Cold email", price_amount=1900)
    draft = PromptTemplateFactory(slug="draft-one")
    assert purchasable_resolve(item_type="prompt_template", item_id="cold-email") == PricedItem(
        item_type="prompt_template", item_id="cold-email", name="Cold email", list_amount=1900, currency="usd"
    )
    assert purchasable_resolve(item_type="prompt_template", item_id=draft.slug) is None
    assert purchasable_resolve(item_type="prompt_template", item_id="no-such-slug") is None

    member = MembershipFactory()
    api = APIClient()
    api.force_authenticate(user=member.user)
    refused = api.post("/api/v1/purchases/", {"item_type": "prompt_template", "item_id": "draft-one"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (404, "not_found")
    assert Purchase.objects.count() == 0


@pytest.mark.django_db
def test_buying_a_draft_from_the_page_is_a_404_and_records_nothing():
    draft = PromptTemplateFactory()
    assert buy(signed_in(MembershipFactory()), draft).status_code == 404
    assert Purchase.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_buyer_pays_the_list_price_in_checkout_then_sees_the_prompt_and_renders_it(billing_site):
    template = PromptTemplateFactory(published=True, title="Launch email", price_amount=1900)
    buyer = MembershipFactory(role=Role.ADMIN)
    client = signed_in(buyer)
    page = client.get(f"/marketplace/{template.slug}/").content.decode()
    assert "Buy for $19.00" in page
    assert template.body not in page

    response = buy(client, template)
    assert response.status_code == 302
    assert response["Location"].startswith(billing_site.url)
    purchase = Purchase.objects.get()
    assert (purchase.item_type, purchase.item_id, purchase.item_name) == (
        "prompt_template",
        template.slug,
        "Launch email",
    )
    assert (purchase.organization, purchase.buyer, purchase.status) == (buyer.organization, buyer.user, "pending")
    assert (purchase.list_amount, purchase.discount_amount, purchase.amount, purchase.currency) == (
        1900,
        0,
        1900,
        "usd",
    )
    assert checkout_total(response["Location"]) == "USD 19.00"

    assert pay_hosted_checkout(response["Location"], card=CARD, email=buyer.user.email) == 303
    billing_site.flush()
    purchase.refresh_from_db()
    assert (purchase.status, purchase.amount) == ("paid", 1900)

    page = client.get(f"/marketplace/{template.slug}/").content.decode()
    assert '<span class="badge owned">Owned</span>' in page
    assert f'<pre class="prompt" id="body">{template.body}</pre>' in page
    assert 'id="try-it"' in page
    assert 'id="buy"' not in page
    rendered = client.post(f"/marketplace/{template.slug}/try/", {"topic": "our launch", "words": "80"})
    assert '<pre class="prompt" id="rendered">Write a formal email about our launch in 80 words.</pre>' in (
        rendered.content.decode()
    )


@pytest.mark.django_db(transaction=True)
def test_a_signed_out_visitor_buys_and_owns_it_in_that_browser(billing_site):
    template = PromptTemplateFactory(published=True, price_amount=500)
    visitor = Client()
    response = buy(visitor, template)
    assert checkout_total(response["Location"]) == "USD 5.00"
    assert pay_hosted_checkout(response["Location"], card=CARD, email="visitor@example.com") == 303
    billing_site.flush()
    purchase = Purchase.objects.get()
    assert (purchase.organization, purchase.status, purchase.amount) == (None, "paid", 500)
    assert 'id="try-it"' in visitor.get(f"/marketplace/{template.slug}/").content.decode()
    # Another browser does not own it.
    assert 'id="buy"' in Client().get(f"/marketplace/{template.slug}/").content.decode()


@pytest.mark.django_db
def test_a_staff_discount_on_prompt_templates_lowers_the_price_shown_and_charged(stripe_sandbox):
    template = PromptTemplateFactory(published=True, price_amount=1900)
    buyer = MembershipFactory(role=Role.ADMIN)
    staff = MembershipFactory(user__is_staff=True)
    manual_discount_save(
        discount=ManualDiscount(
            organization=buyer.organization,
            item_type="prompt_template",
            percent_off=25,
            expires_at=datetime.now(tz=UTC) + timedelta(days=30),
            reason="Partner",
        ),
        actor=staff.user,
    )
    client = signed_in(buyer)
    listing = client.get("/marketplace/").content.decode()
    assert '<p class="price" data-price="1425"><s>$19.00</s>$14.25</p>' in listing
    detail = client.get(f"/marketplace/{template.slug}/").content.decode()
    assert "Buy for $14.25" in detail

    response = buy(client, template)
    purchase = Purchase.objects.get()
    assert (purchase.list_amount, purchase.discount_amount, purchase.amount) == (1900, 475, 1425)
    assert purchase.discount_rule == "manual_discount"
    assert checkout_total(response["Location"]) == "USD 14.25"
    # Others still see the list price.
    assert '<p class="price" data-price="1900">$19.00</p>' in Client().get("/marketplace/").content.decode()


@pytest.mark.django_db
def test_a_member_of_two_organizations_buys_for_the_one_chosen_with_org(stripe_sandbox):
    template = PromptTemplateFactory(published=True, price_amount=2000)
    personal = MembershipFactory(organization__is_personal=True)
    company = MembershipFactory(user=personal.user, role=Role.BUYER)
    manual_discount_save(
        discount=ManualDiscount(
            organization=company.organization,
            item_type="",
            percent_off=10,
            expires_at=datetime.now(tz=UTC) + timedelta(days=30),
            reason="Volume deal",
        ),
        actor=None,
    )
    client = signed_in(personal)
    path = f"/marketplace/{template.slug}/"
    assert "Buy for $20.00" in client.get(path).content.decode()
    html = client.get(f"{path}?org={company.organization.pk}").content.decode()
    assert "Buy for $18.00" in html
    assert f'<input type="hidden" name="org" value="{company.organization.pk}">' in html
    assert f'<input type="hidden" name="next" value="{path}?org={company.organization.pk}">' in html
    assert f'<strong class="org-choice current" aria-current="page" data-org="{company.organization.pk}">' in html

    form = {"item_type": "prompt_template", "item_id": template.slug, "next": path, "org": company.organization.pk}
    assert client.post(BUY, form).status_code == 302
    purchase = Purchase.objects.get()
    assert (purchase.organization, purchase.amount) == (company.organization, 1800)
    Purchase.objects.filter(pk=purchase.pk).update(status="paid")  # as the paid Checkout's webhook does
    assert 'id="try-it"' in client.get(f"{path}?org={company.organization.pk}").content.decode()
    assert 'id="try-it"' not in client.get(path).content.decode()  # the personal organization did not buy it

    stranger = MembershipFactory()
    assert client.get(f"{path}?org={stranger.organization.pk}").status_code == 404
    assert client.get(f"/marketplace/?org={stranger.organization.pk}").status_code == 404


@pytest.mark.django_db
def test_a_seller_organization_cannot_buy_its_own_template_from_the_page_or_the_api(stripe_sandbox):
    template = PromptTemplateFactory(published=True, slug="own-one", price_amount=1900)
    seller_member = MembershipFactory(organization=template.seller, role=Role.SELLER)

    api = APIClient()
    api.force_authenticate(user=seller_member.user)
    refused = api.post("/api/v1/purchases/", {"item_type": "prompt_template", "item_id": "own-one"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "own_item")
    assert refused.json()["message"] == "Your organization sells this item: there is nothing to buy."

    client = signed_in(seller_member)
    response = buy(client, template)
    assert (response.status_code, response["Location"]) == (302, "/marketplace/own-one/")
    page = client.get("/marketplace/own-one/").content.decode()
    assert "Your organization sells this item: there is nothing to buy." in page
    assert Purchase.objects.count() == 0
