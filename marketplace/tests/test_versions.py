"""Every published change is a version (django-reversion); buyers keep the version they bought."""

import pytest
from django.test import Client

from accounts.models import Role
from billing.tests.factories import PurchaseFactory
from marketplace.selectors import prompt_template_versions
from marketplace.services.templates import prompt_template_publish, prompt_template_update
from marketplace.tests.factories import MembershipFactory, PromptTemplateFactory
from marketplace.tests.test_ledger import settle

pytestmark = pytest.mark.django_db


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def test_publishing_and_each_published_edit_keep_a_version_and_drafts_do_not():
    seller = MembershipFactory(role=Role.SELLER)
    template = PromptTemplateFactory(seller=seller.organization, body="V0 {{topic}} {{tone}} {{words}}")
    prompt_template_update(template=template, actor=seller.user, data={"title": "Draft edit"})
    assert prompt_template_versions(template=template) == []

    prompt_template_publish(template=template, actor=seller.user)
    prompt_template_update(template=template, actor=seller.user, data={"body": "V2 {{topic}} {{tone}} {{words}}"})
    versions = prompt_template_versions(template=template)
    assert [(v.number, v.comment, v.fields["body"], v.author) for v in versions] == [
        (2, "Edited while published", "V2 {{topic}} {{tone}} {{words}}", seller.user),
        (1, "Published", "V0 {{topic}} {{tone}} {{words}}", seller.user),
    ]
    html = signed_in(seller).get(f"/marketplace/studio/{template.slug}/").content.decode()
    assert '<li data-version="2">Version 2 · ' in html and "Edited while published" in html


def test_a_buyer_keeps_the_version_bought_and_sees_the_newest():
    seller = MembershipFactory(role=Role.SELLER)
    template = PromptTemplateFactory(
        seller=seller.organization, slug="versioned", body="OLD {{topic}} {{tone}} {{words}}"
    )
    prompt_template_publish(template=template, actor=seller.user)
    early = MembershipFactory()
    settle(
        PurchaseFactory(
            organization=early.organization,
            item_type="prompt_template",
            item_id="versioned",
            amount=1900,
            status="pending",
            paid_at=None,
        )
    )
    prompt_template_update(template=template, actor=seller.user, data={"body": "NEW {{topic}} {{tone}} {{words}}"})
    late = MembershipFactory()
    settle(
        PurchaseFactory(
            organization=late.organization,
            item_type="prompt_template",
            item_id="versioned",
            amount=1900,
            status="pending",
            paid_at=None,
        )
    )

    html = signed_in(early).get("/marketplace/versioned/").content.decode()
    assert '<pre class="prompt" id="body">NEW {{topic}} {{tone}} {{words}}</pre>' in html
    assert "You bought version 1 (" in html
    assert '<pre class="prompt" id="bought-body">OLD {{topic}} {{tone}} {{words}}</pre>' in html
    html = signed_in(late).get("/marketplace/versioned/").content.decode()
    assert '<pre class="prompt" id="body">NEW {{topic}} {{tone}} {{words}}</pre>' in html
    assert 'id="bought-version"' not in html


def test_staff_see_the_history_in_the_admin(staff_client):
    seller = MembershipFactory(role=Role.SELLER)
    template = PromptTemplateFactory(seller=seller.organization, title="Historic")
    prompt_template_publish(template=template, actor=seller.user)
    page = staff_client.get(f"/admin/marketplace/prompttemplate/{template.pk}/history/")
    assert page.status_code == 200
    assert "Published" in page.content.decode()
