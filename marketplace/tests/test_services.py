"""Publishing rules and rendering with a buyer's values."""

import pytest
from rest_framework.exceptions import ValidationError

from accounts.models import Role
from marketplace.models import PromptTemplate
from marketplace.services.templates import SellerRequired, prompt_template_publish, prompt_template_render
from marketplace.tests.factories import MembershipFactory, PromptTemplateFactory

pytestmark = pytest.mark.django_db


def as_strings(detail) -> dict:
    return {field: [str(message) for message in messages] for field, messages in detail.items()}


def unchanged(template) -> tuple:
    row = PromptTemplate.objects.get(pk=template.pk)
    return (row.status, row.published_at)


@pytest.mark.parametrize("role", [Role.SELLER, Role.ADMIN])
def test_a_seller_or_admin_of_the_selling_organization_publishes(role):
    template = PromptTemplateFactory()
    member = MembershipFactory(organization=template.seller, role=role)
    published = prompt_template_publish(template=template, actor=member.user)
    row = PromptTemplate.objects.get(pk=template.pk)
    assert (row.status, row.published_at) == ("published", published.published_at)
    assert row.published_at is not None
    # Publishing again keeps the first date.
    assert prompt_template_publish(template=row, actor=member.user).published_at == row.published_at


def test_a_buyer_member_or_an_outsider_cannot_publish_and_nothing_changes():
    template = PromptTemplateFactory()
    buyer = MembershipFactory(organization=template.seller, role=Role.BUYER)
    outsider = MembershipFactory(role=Role.ADMIN)  # admin of another organization
    for actor in (buyer.user, outsider.user):
        with pytest.raises(SellerRequired):
            prompt_template_publish(template=template, actor=actor)
        assert unchanged(template) == ("draft", None)


def test_an_undeclared_placeholder_or_an_unused_variable_blocks_publishing():
    template = PromptTemplateFactory(
        body="Summarise {{topic}} for {{audience}}.",
        variables=[{"name": "topic", "type": "text"}, {"name": "tone", "type": "text", "default": "calm"}],
    )
    seller = MembershipFactory(organization=template.seller, role=Role.SELLER)
    with pytest.raises(ValidationError) as refused:
        prompt_template_publish(template=template, actor=seller.user)
    assert as_strings(refused.value.detail) == {
        "body": ["The placeholder {{audience}} is not a declared variable."],
        "variables": ['Variable "tone" is declared but not used in the body.'],
    }
    assert unchanged(template) == ("draft", None)


def test_malformed_placeholders_and_variable_definitions_block_publishing():
    template = PromptTemplateFactory(
        body="Use {{ bad name }} and {{size}} and {{style}}.",
        variables=[
            {"name": "size", "type": "number", "default": "big"},
            {"name": "style", "type": "choice", "choices": [], "default": None},
            {"name": "when", "type": "date"},
        ],
    )
    seller = MembershipFactory(organization=template.seller, role=Role.SELLER)
    with pytest.raises(ValidationError) as refused:
        prompt_template_publish(template=template, actor=seller.user)
    assert as_strings(refused.value.detail) == {
        "body": ["Malformed placeholder {{ bad name }}: use letters, digits and underscores."],
        "variables": [
            'The default of "size" is invalid: Enter a number, like 3 or 2.5.',
            'Choice variable "style" needs a list of choices.',
            'Variable "when" has an unknown type "date" (text, number or choice).',
        ],
    }
    assert unchanged(template) == ("draft", None)


def test_render_fills_values_and_applies_defaults():
    template = PromptTemplateFactory.build()
    assert prompt_template_render(template=template, values={"topic": "the launch"}) == (
        "Write a formal email about the launch in 100 words."
    )
    assert prompt_template_render(
        template=template, values={"topic": " pricing ", "tone": "casual", "words": "2.5", "extra": "ignored"}
    ) == ("Write a casual email about pricing in 2.5 words.")


def test_render_keeps_a_value_that_looks_like_a_placeholder_as_typed():
    template = PromptTemplateFactory.build(body="{{topic}} / {{ tone }} / {{words}}")
    assert prompt_template_render(template=template, values={"topic": "{{tone}}"}) == "{{tone}} / formal / 100"


def test_render_rejects_missing_and_malformed_values_per_variable():
    template = PromptTemplateFactory.build()
    with pytest.raises(ValidationError) as refused:
        prompt_template_render(template=template, values={"topic": "  ", "tone": "angry", "words": "ten"})
    assert as_strings(refused.value.detail) == {
        "topic": ["This variable is required."],
        "tone": ["Choose one of: formal, casual."],
        "words": ["Enter a number, like 3 or 2.5."],
    }
    with pytest.raises(ValidationError) as refused:
        prompt_template_render(template=template, values={"topic": "x" * 2001})
    assert as_strings(refused.value.detail) == {"topic": ["Keep it to 2000 characters or fewer."]}
