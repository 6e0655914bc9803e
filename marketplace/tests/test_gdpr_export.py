"""The GDPR export (accounts) includes the person's marketplace reviews and review reports."""

import pytest

from accounts.services.users import user_create_defaults
from accounts.tests.factories import OrganizationFactory, UserFactory
from marketplace.models import Review, ReviewReport
from marketplace.tests.factories import PromptTemplateFactory

pytestmark = pytest.mark.django_db


def test_the_export_has_the_persons_reviews_and_reports(client):
    user = UserFactory(email="reviewer@example.com")
    organization = user_create_defaults(user=user)
    template = PromptTemplateFactory(published=True, slug="cold-email")
    Review.objects.create(
        template=template,
        organization=organization,
        author=user,
        rating=4,
        text="Saved me an hour.",
        seller_reply="Thanks!",
    )
    other = Review.objects.create(
        template=template, organization=OrganizationFactory(), author=UserFactory(), rating=1, text="Not theirs"
    )
    ReviewReport.objects.create(review=other, reporter=user, reason="Spam")
    client.force_login(user)

    data = client.get("/settings/data/export/").json()

    assert [(r["template"], r["rating"], r["text"], r["seller_reply"]) for r in data["marketplace"]["reviews"]] == [
        ("cold-email", 4, "Saved me an hour.", "Thanks!")
    ]
    assert [(r["review"], r["reason"]) for r in data["marketplace"]["review_reports"]] == [(other.pk, "Spam")]
    assert "Not theirs" not in client.get("/settings/data/export/").content.decode()
