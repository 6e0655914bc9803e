"""The seller dashboard's views, unique viewers, "Try it" renders and conversion: marketplace reads
them through common.item_audience, which analytics provides when it loads (marketplace never
imports analytics); with no provider or no tracked page view the page says "not tracked yet"."""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from analytics.selectors import item_audience_from_events
from billing.tests.factories import MembershipFactory, PurchaseFactory
from common import events as tracking
from common import item_audience
from marketplace.tests.factories import PromptTemplateFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "/marketplace/studio/dashboard/"


@pytest.fixture(autouse=True)
def empty_buffer():
    tracking.buffer().clear()
    yield
    tracking.buffer().clear()


@pytest.fixture
def seller():
    template = PromptTemplateFactory(published=True, slug="launch-email", title="Launch email")
    PromptTemplateFactory(published=True, slug="standup-notes", title="Standup notes", seller=template.seller)
    membership = MembershipFactory(organization=template.seller, role=Role.SELLER)
    client = Client()
    client.force_login(membership.user)
    return template, client


def _audience_rows(html: str) -> list[list[str]]:
    """The cells of each template's row in the dashboard's audience table."""
    section = html.split('id="audience"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<tr class="audience"[^>]*>(.*?)</tr>', section, re.S)
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]


def test_without_any_tracked_page_view_the_dashboard_says_not_tracked_yet(seller):
    _, client = seller
    html = client.get(DASHBOARD).content.decode()
    assert "not tracked yet" in html
    assert '<tr class="audience"' not in html


def test_views_unique_viewers_renders_and_conversion_for_the_sellers_templates(
    seller, django_capture_on_commit_callbacks
):
    template, seller_client = seller
    first, second = Client(), Client()
    buyer = MembershipFactory()
    PurchaseFactory(
        organization=buyer.organization,
        item_type="prompt_template",
        item_id=template.slug,
        amount=1900,
        paid_at=timezone.now(),
    )
    signed_in = Client()
    signed_in.force_login(buyer.user)
    with django_capture_on_commit_callbacks(execute=True):
        for client in (first, first, second, signed_in):
            assert client.get(f"/marketplace/{template.slug}/").status_code == 200
        rendered = signed_in.post(f"/marketplace/{template.slug}/try/", {"topic": "the launch"})
        refused = signed_in.post(f"/marketplace/{template.slug}/try/", {"topic": ""})  # required: not rendered
        other = PromptTemplateFactory(published=True, slug="someone-elses")
        assert first.get(f"/marketplace/{other.slug}/").status_code == 200
    assert "Write a formal email about the launch in 100 words." in rendered.content.decode()
    assert "This variable is required." in refused.content.decode()

    html = seller_client.get(DASHBOARD).content.decode()
    assert "not tracked yet" not in html
    assert _audience_rows(html) == [
        ["Launch email", "4", "3", "1", "1", "33.33%"],  # 4 views by 3 visitors, 1 render, 1 purchase
        ["Standup notes", "0", "0", "0", "0", "–"],
    ]

    # Without a provider (analytics not installed), the page does not know: it says so.
    item_audience.item_audience_provider_register(None)
    try:
        assert "not tracked yet" in seller_client.get(DASHBOARD).content.decode()
    finally:
        item_audience.item_audience_provider_register(item_audience_from_events)


def test_the_provider_has_no_figures_for_a_period_without_page_views(seller, django_capture_on_commit_callbacks):
    template, _ = seller
    with django_capture_on_commit_callbacks(execute=True):
        Client().get(f"/marketplace/{template.slug}/")
    today = datetime.now(tz=UTC).date()
    assert item_audience_from_events("prompt_template", [template.slug], today, today) == {
        template.slug: item_audience.ItemAudience(views=1, unique_viewers=1, uses=0)
    }
    assert item_audience_from_events("prompt_template", [template.slug], date_before(today), date_before(today)) is None
    assert item_audience_from_events("lesson", ["x"], today, today) is None


def date_before(day):
    return day.replace(year=day.year - 1)
