"""The catalogue and a template's page: prices, ownership, what a locked page hides, drafts, "Try it"."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from billing.models import Purchase
from marketplace.models import Category, PromptTemplate
from marketplace.tests.factories import MembershipFactory, OrganizationFactory, PromptTemplateFactory

pytestmark = pytest.mark.django_db


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def paid(template, organization) -> Purchase:
    return Purchase.objects.create(
        organization=organization,
        item_type="prompt_template",
        item_id=template.slug,
        item_name=template.title,
        list_amount=template.price_amount,
        amount=template.price_amount,
        status="paid",
    )


def test_the_catalogue_lists_published_templates_with_prices_and_filters_by_category():
    seller = OrganizationFactory(name="Prompt Forge")
    PromptTemplateFactory(published=True, seller=seller, title="Launch email", slug="launch", price_amount=900)
    PromptTemplateFactory(published=True, seller=seller, title="SQL explainer", slug="sql", category=Category.CODING)
    PromptTemplateFactory(seller=seller, title="Secret draft", slug="secret")
    html = Client().get("/marketplace/").content.decode()
    assert (html.count('class="card template-card"'), "Secret draft" in html) == (2, False)
    assert '<a href="/marketplace/launch/">Launch email</a>' in html
    assert "Writing · by Prompt Forge" in html
    assert '<p class="price" data-price="900">$9.00</p>' in html

    coding = Client().get("/marketplace/?category=coding").content.decode()
    assert (coding.count('class="card template-card"'), "SQL explainer" in coding) == (1, True)
    assert '<strong class="current" aria-current="page">Coding</strong>' in coding
    unknown = Client().get("/marketplace/?category=nonsense").content.decode()
    assert unknown.count('class="card template-card"') == 2


def test_owned_templates_carry_a_badge_and_the_seller_owns_its_own():
    seller = MembershipFactory(role=Role.SELLER)
    PromptTemplateFactory(published=True, seller=seller.organization, slug="own")
    bought = PromptTemplateFactory(published=True, slug="bought")
    PromptTemplateFactory(published=True, slug="other")
    paid(bought, seller.organization)
    html = signed_in(seller).get("/marketplace/").content.decode()
    owned = [slug for slug in ("own", "bought", "other") if _card(html, slug).count("badge owned")]
    assert owned == ["own", "bought"]


def _card(html: str, slug: str) -> str:
    return html.split(f'id="template-{slug}"')[1].split("</article>")[0]


def test_ownership_and_prices_cost_the_same_queries_for_two_or_twelve_templates():
    buyer = MembershipFactory()
    client = signed_in(buyer)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/marketplace/").status_code == 200
        return len(captured)

    paid(PromptTemplateFactory(published=True), buyer.organization)
    PromptTemplateFactory(published=True)  # one owned (not priced), one priced
    queries()  # billing caches the organization's grants on the first quote
    few = queries()
    for _ in range(10):
        PromptTemplateFactory(published=True)
    assert queries() == few


def test_a_locked_page_shows_description_example_and_variables_but_not_the_prompt():
    template = PromptTemplateFactory(published=True, body="SECRET {{topic}} {{tone}} {{words}}", price_amount=1900)
    for client in (Client(), signed_in(MembershipFactory())):
        html = client.get(f"/marketplace/{template.slug}/").content.decode()
        assert "SECRET" not in html
        assert 'id="try-it"' not in html
        assert "Writes a short email." in html
        assert "Dear team, the launch moves to Friday." in html
        assert "<tr><td><code>tone</code></td>\n      <td>choice: formal, casual</td>" in html
        assert f'<input type="hidden" name="item_id" value="{template.slug}">' in html
        assert f'<input type="hidden" name="next" value="/marketplace/{template.slug}/">' in html
        assert '<input type="hidden" name="item_type" value="prompt_template">' in html
        assert "Buy for $19.00" in html
        # Trying it is refused too: rendering would reveal the prompt.
        assert client.post(f"/marketplace/{template.slug}/try/", {"topic": "x"}).status_code == 403


def test_drafts_are_404_except_to_members_of_the_selling_organization():
    draft = PromptTemplateFactory(body="DRAFT {{topic}} {{tone}} {{words}}")
    path = f"/marketplace/{draft.slug}/"
    assert Client().get(path).status_code == 404
    assert signed_in(MembershipFactory(role=Role.ADMIN)).get(path).status_code == 404
    assert Client().post(f"{path}try/", {"topic": "x"}).status_code == 404
    assert Client().get("/marketplace/no-such-template/").status_code == 404

    colleague = MembershipFactory(organization=draft.seller, role=Role.BUYER)
    html = signed_in(colleague).get(path).content.decode()
    assert '<span class="badge draft">Draft</span>' in html
    assert "DRAFT {{topic}} {{tone}} {{words}}" in html


def test_try_it_shows_field_errors_and_htmx_gets_only_the_form():
    seller = MembershipFactory(role=Role.SELLER)
    template = PromptTemplateFactory(published=True, seller=seller.organization)
    client = signed_in(seller)
    url = f"/marketplace/{template.slug}/try/"
    partial = client.post(url, {"topic": "", "tone": "angry", "words": "ten"}, headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert (partial.status_code, html.lstrip().startswith('<section class="card" id="try-it">')) == (200, True)
    assert "<html" not in html
    assert '<ul class="errorlist" id="errors-topic"><li>This variable is required.</li></ul>' in html
    assert '<ul class="errorlist" id="errors-tone"><li>Choose one of: formal, casual.</li></ul>' in html
    assert '<ul class="errorlist" id="errors-words"><li>Enter a number, like 3 or 2.5.</li></ul>' in html
    assert 'id="rendered"' not in html
    # The typed values stay in the form.
    assert 'name="words" value="ten"' in html

    full = client.post(url, {"topic": "pricing", "tone": "casual", "words": ""}).content.decode()
    assert "<html" in full
    assert '<pre class="prompt" id="rendered">Write a casual email about pricing in 100 words.</pre>' in full


def test_the_library_lists_what_the_organization_bought_and_nothing_of_others():
    buyer = MembershipFactory()
    kept = PromptTemplateFactory(published=True, title="Kept one", slug="kept-one")
    paid(kept, buyer.organization)
    retired = PromptTemplateFactory(published=True, title="Retired one", slug="retired-one")
    paid(retired, buyer.organization)
    PromptTemplate.objects.filter(pk=retired.pk).update(status="archived")
    PromptTemplateFactory(published=True, title="Not bought", slug="not-bought")
    html = signed_in(buyer).get("/marketplace/library/").content.decode()
    assert ('id="library-kept-one"' in html, 'id="library-retired-one"' in html) == (True, True)
    assert "no longer on sale, still yours" in html and "Not bought" not in html
    stranger = MembershipFactory()
    assert 'id="empty-library"' in signed_in(stranger).get("/marketplace/library/").content.decode()
    assert signed_in(stranger).get(f"/marketplace/library/?org={buyer.organization.pk}").status_code == 404
    assert Client().get("/marketplace/library/").status_code == 302
