"""A seller checks a template through the AI provider (by setting); `local` checks structure only."""

import pytest
from django.test import Client

from accounts.models import Role
from common.tests.fake_openai import fake_openai  # noqa: F401 (the fixture)
from marketplace.models import PromptTemplate
from marketplace.tests.factories import MembershipFactory, PromptTemplateFactory

pytestmark = pytest.mark.django_db


def seller_client(template) -> Client:
    client = Client()
    client.force_login(MembershipFactory(organization=template.seller, role=Role.SELLER).user)
    return client


def test_the_local_provider_checks_the_structure_and_the_result_stays_on_the_draft(settings):
    settings.MARKETPLACE_AI_VALIDATION = True
    template = PromptTemplateFactory(slug="checked", body="About {{topic}} and {{typo}}.")
    client = seller_client(template)
    assert 'id="validate"' in client.get("/marketplace/studio/checked/").content.decode()
    html = client.post("/marketplace/studio/checked/validate/", follow=True).content.decode()
    assert "The placeholder {{typo}} is not a declared variable." in html.split('id="validation-problems"')[1]
    assert '<pre class="prompt" id="validation-advice">The offline provider checks the structure only.</pre>' in html
    template.refresh_from_db()
    assert (template.validation_result["provider"], template.body) == ("local", "About {{topic}} and {{typo}}.")


def test_another_provider_gives_advice_and_a_failure_is_kept_as_an_error(settings, fake_openai):  # noqa: F811
    settings.MARKETPLACE_AI_VALIDATION = True
    fake_openai.reply = "- Say who the email is for."
    template = PromptTemplateFactory(slug="advised")
    client = seller_client(template)
    html = client.post("/marketplace/studio/advised/validate/", follow=True).content.decode()
    assert '<pre class="prompt" id="validation-advice">- Say who the email is for.</pre>' in html
    assert 'id="validation-ok"' in html
    [request] = fake_openai.requests
    assert "Write a {{tone}} email about {{topic}} in {{words}} words." in request["body"]["messages"][-1]["content"]

    fake_openai.status = 500
    html = client.post("/marketplace/studio/advised/validate/", follow=True).content.decode()
    assert 'id="validation-error"' in html
    assert PromptTemplate.objects.get(pk=template.pk).validation_result["advice"] == ""


def test_switched_off_by_default_and_never_for_another_organization(settings):
    template = PromptTemplateFactory(slug="off")
    client = seller_client(template)
    assert 'id="validate"' not in client.get("/marketplace/studio/off/").content.decode()
    page = client.post("/marketplace/studio/off/validate/", follow=True).content.decode()
    assert "Prompt validation is switched off (MARKETPLACE_AI_VALIDATION)." in page
    settings.MARKETPLACE_AI_VALIDATION = True
    stranger = Client()
    stranger.force_login(MembershipFactory(role=Role.SELLER).user)
    assert stranger.post("/marketplace/studio/off/validate/").status_code == 404
    assert PromptTemplate.objects.get(pk=template.pk).validation_result == {}
