from datetime import UTC, datetime

import factory

from accounts.tests.factories import MembershipFactory, OrganizationFactory
from marketplace.models import Category, PromptTemplate, TemplateStatus

__all__ = ["MembershipFactory", "OrganizationFactory", "PromptTemplateFactory"]

PUBLISHED_AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


class PromptTemplateFactory(factory.django.DjangoModelFactory):
    """A draft by default; `PromptTemplateFactory(published=True)` for one on sale."""

    class Meta:
        model = PromptTemplate

    class Params:
        published = factory.Trait(status=TemplateStatus.PUBLISHED, published_at=PUBLISHED_AT)

    seller = factory.SubFactory(OrganizationFactory)
    seller_name = factory.LazyAttribute(lambda o: o.seller.name)
    title = factory.Sequence(lambda n: f"Prompt template {n}")
    slug = factory.Sequence(lambda n: f"prompt-template-{n}")
    description = "Writes a short email."
    category = Category.WRITING
    tags = "email, sales"
    body = "Write a {{tone}} email about {{topic}} in {{words}} words."
    variables = factory.LazyFunction(
        lambda: [
            {"name": "topic", "type": "text"},
            {"name": "tone", "type": "choice", "choices": ["formal", "casual"], "default": "formal"},
            {"name": "words", "type": "number", "default": 100},
        ]
    )
    example_output = "Dear team, the launch moves to Friday."
    price_amount = 1900
