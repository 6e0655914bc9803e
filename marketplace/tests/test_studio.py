"""The seller studio: drafting, previewing, publishing, unpublishing, archiving; who may; the admin's path."""

import pytest
from django.test import Client

from accounts.models import Role
from billing.models import Purchase
from marketplace.models import PromptTemplate
from marketplace.tests.factories import MembershipFactory, OrganizationFactory, PromptTemplateFactory

pytestmark = pytest.mark.django_db

FORM = {
    "title": "Meeting summary",
    "slug": "",
    "description": "Turns raw notes into a summary with decisions and owners.",
    "category": "productivity",
    "tags": "meetings, notes",
    "body": "Summarise {{notes}} in {{bullets}} bullets for a {{audience}} audience.",
    "example_output": "- Launch moves to Friday (Dana)",
    "price": "7.50",
    "visibility": "public",
    "variable_count": "4",
    "var-0-name": "notes",
    "var-0-type": "text",
    "var-1-name": "bullets",
    "var-1-type": "number",
    "var-1-default": "5",
    "var-2-name": "audience",
    "var-2-type": "choice",
    "var-2-choices": "team, executive",
    "var-3-name": "",
}


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def test_a_seller_drafts_previews_publishes_and_the_template_is_on_sale():
    seller = MembershipFactory(role=Role.SELLER, organization__name="Notes & Co")
    client = signed_in(seller)
    assert client.get("/marketplace/studio/").status_code == 200

    preview = client.post("/marketplace/studio/new/", {**FORM, "action": "preview"})
    assert '<pre class="prompt" id="preview-text">Summarise [notes] in 5 bullets for a team audience.</pre>' in (
        preview.content.decode()
    )
    assert PromptTemplate.objects.count() == 0  # a preview saves nothing

    saved = client.post("/marketplace/studio/new/", {**FORM, "action": "save"})
    assert (saved.status_code, saved["Location"]) == (302, "/marketplace/studio/meeting-summary/")
    template = PromptTemplate.objects.get()
    assert (template.seller, template.status, template.price_amount, template.published_at) == (
        seller.organization,
        "draft",
        750,
        None,
    )
    assert template.variables == [
        {"name": "notes", "type": "text", "default": None},
        {"name": "bullets", "type": "number", "default": "5"},
        {"name": "audience", "type": "choice", "default": None, "choices": ["team", "executive"]},
    ]
    assert "Meeting summary" not in Client().get("/marketplace/").content.decode()
    assert Client().get("/marketplace/meeting-summary/").status_code == 404

    published = client.post("/marketplace/studio/meeting-summary/publish/", follow=True).content.decode()
    assert "Published: it is on sale now." in published
    assert '<span class="badge published" id="status">Published</span>' in published
    template.refresh_from_db()
    assert template.status == "published" and template.published_at is not None
    assert "Meeting summary" in Client().get("/marketplace/").content.decode()
    assert "Buy for $7.50" in Client().get("/marketplace/meeting-summary/").content.decode()


def test_publishing_refuses_a_draft_that_breaks_the_rules_and_says_why():
    seller = MembershipFactory(role=Role.SELLER)
    template = PromptTemplateFactory(seller=seller.organization, body="Write about {{topic}} and {{missing}}.")
    page = signed_in(seller).post(f"/marketplace/studio/{template.slug}/publish/", follow=True).content.decode()
    assert "The placeholder {{missing}} is not a declared variable." in page
    assert "Variable &quot;tone&quot; is declared but not used in the body." in page
    template.refresh_from_db()
    assert (template.status, template.published_at) == ("draft", None)


def test_an_edit_that_would_break_a_published_template_is_refused_and_nothing_changes():
    seller = MembershipFactory(role=Role.ADMIN)
    template = PromptTemplateFactory(seller=seller.organization, published=True, slug="launch-email")
    client = signed_in(seller)
    form = {
        **FORM,
        "title": "Renamed",
        "body": "Only {{topic}} now.",
        "slug": "launch-email",
        "variable_count": "1",
        "var-0-name": "topic",
        "var-0-type": "text",
    }
    del form["var-1-name"], form["var-2-name"]
    html = client.post(f"/marketplace/studio/{template.slug}/", {**form, "action": "save"}).content.decode()
    assert html.count("is declared but not used") == 0  # the row-less variables are gone, the body is consistent
    assert PromptTemplate.objects.get(pk=template.pk).title == "Renamed"  # a consistent edit is saved

    form["body"] = "Only {{topic}} and {{extra}}."
    html = client.post(f"/marketplace/studio/{template.slug}/", {**form, "title": "Broken"}).content.decode()
    assert "The placeholder {{extra}} is not a declared variable." in html
    assert PromptTemplate.objects.get(pk=template.pk).title == "Renamed"

    html = client.post(f"/marketplace/studio/{template.slug}/", {**form, "body": "Only {{topic}}.", "slug": "x"})
    assert "The address cannot change once the template has been published." in html.content.decode()
    assert PromptTemplate.objects.get(pk=template.pk).slug == "launch-email"


def test_unpublish_takes_it_off_sale_but_buyers_keep_it_and_archive_makes_it_read_only():
    seller = MembershipFactory(role=Role.SELLER)
    template = PromptTemplateFactory(seller=seller.organization, published=True, slug="kept")
    buyer = MembershipFactory()
    Purchase.objects.create(
        organization=buyer.organization,
        item_type="prompt_template",
        item_id="kept",
        item_name="Kept",
        list_amount=1900,
        amount=1900,
        status="paid",
    )
    client = signed_in(seller)
    client.post("/marketplace/studio/kept/unpublish/")
    assert PromptTemplate.objects.get(pk=template.pk).status == "draft"
    assert "kept" not in Client().get("/marketplace/").content.decode()
    assert Client().get("/marketplace/kept/").status_code == 404
    assert 'id="try-it"' in signed_in(buyer).get("/marketplace/kept/").content.decode()

    client.post("/marketplace/studio/kept/archive/")
    assert PromptTemplate.objects.get(pk=template.pk).status == "archived"
    page = client.post("/marketplace/studio/kept/publish/", follow=True).content.decode()
    assert "An archived template cannot be published again." in page
    assert PromptTemplate.objects.get(pk=template.pk).status == "archived"
    assert "Archived templates are read-only." in page
    refused = client.post("/marketplace/studio/kept/", {**FORM, "slug": "kept", "action": "save"})
    assert "An archived template cannot be edited." in refused.content.decode()
    assert PromptTemplate.objects.get(pk=template.pk).title == template.title
    assert 'id="try-it"' in signed_in(buyer).get("/marketplace/kept/").content.decode()


def test_a_buyer_member_cannot_publish_and_another_organization_gets_404_on_every_studio_route():
    template = PromptTemplateFactory(slug="secret-draft")
    buyer_member = signed_in(MembershipFactory(organization=template.seller, role=Role.BUYER))
    assert buyer_member.post("/marketplace/studio/secret-draft/publish/").status_code == 403
    assert buyer_member.get("/marketplace/studio/secret-draft/").status_code == 403
    assert buyer_member.get("/marketplace/studio/").status_code == 403
    assert buyer_member.post("/marketplace/studio/new/", FORM).status_code == 403

    stranger = MembershipFactory(role=Role.SELLER)
    client = signed_in(stranger)
    assert client.get("/marketplace/studio/secret-draft/").status_code == 404
    assert client.post("/marketplace/studio/secret-draft/publish/").status_code == 404
    assert client.post("/marketplace/studio/secret-draft/archive/").status_code == 404
    assert client.get(f"/marketplace/studio/?org={template.seller.pk}").status_code == 404
    assert client.get(f"/marketplace/studio/new/?org={template.seller.pk}").status_code == 404
    assert "secret-draft" not in client.get("/marketplace/studio/").content.decode()

    anonymous = Client().get("/marketplace/studio/secret-draft/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    template.refresh_from_db()
    assert template.status == "draft"


def test_the_admin_keeps_the_publishing_rules_on_its_change_form(staff_client):
    seller_org = OrganizationFactory()
    template = PromptTemplateFactory(seller=seller_org, published=True, slug="admin-one", title="Admin one")
    form = {
        "seller": seller_org.pk,
        "title": "Admin one edited",
        "description": template.description,
        "category": template.category,
        "tags": template.tags,
        "body": "Now with {{undeclared}}.",
        "variables": '[{"name": "topic", "type": "text"}]',
        "example_output": "",
        "price_amount": "1900",
        "currency": "usd",
        "visibility": "public",
    }
    response = staff_client.post(f"/admin/marketplace/prompttemplate/{template.pk}/change/", form)
    assert response.status_code == 200
    assert "The placeholder {{undeclared}} is not a declared variable." in response.content.decode()
    assert PromptTemplate.objects.get(pk=template.pk).title == "Admin one"

    form.update(body="Now about {{topic}}.")
    response = staff_client.post(f"/admin/marketplace/prompttemplate/{template.pk}/change/", form)
    assert response.status_code == 302
    assert PromptTemplate.objects.get(pk=template.pk).title == "Admin one edited"


def test_a_free_template_is_taken_at_no_charge():
    seller = MembershipFactory(role=Role.SELLER)
    template = PromptTemplateFactory(seller=seller.organization, published=True, price_amount=0, slug="freebie")
    buyer = MembershipFactory()
    client = signed_in(buyer)
    assert '">Get it free</button>' in client.get("/marketplace/freebie/").content.decode()
    assert '<p class="price" data-price="0">Free</p>' in client.get("/marketplace/").content.decode()
    form = {"item_type": "prompt_template", "item_id": template.slug, "next": "/marketplace/freebie/"}
    response = client.post("/billing/purchase/", form)
    assert response["Location"] == "/marketplace/freebie/"
    purchase = Purchase.objects.get()
    assert (purchase.organization, purchase.amount, purchase.status) == (buyer.organization, 0, "paid")
    assert 'id="try-it"' in client.get("/marketplace/freebie/").content.decode()
