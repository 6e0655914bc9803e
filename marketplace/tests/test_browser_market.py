"""In the browser, both sides of the market: a seller drafts, previews, publishes and finds the template
in search; a buyer searches with a typo, filters by rating, buys in the sandbox's Checkout, finds it in
the library, renders and reviews it; the seller sees the sale, the review and the balance. At 390 px wide."""

import pytest
from django.conf import settings

from accounts.models import Role
from accounts.tests.factories import PASSWORD
from billing.tests.factories import PurchaseFactory
from marketplace.models import PromptTemplate, Review
from marketplace.services.reviews import review_create
from marketplace.tests.factories import MembershipFactory, PromptTemplateFactory
from marketplace.tests.test_ledger import settle

ARTIFACTS = settings.BASE_DIR / "artifacts" / "screenshots"


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


def fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_seller_publishes_buyer_finds_buys_uses_reviews_and_seller_sees_it(billing_site, live_server, page, chromium):
    base = live_server.url
    seller = MembershipFactory(role=Role.SELLER, organization__name="Notes & Co", user__email="seller@notes.test")

    # The seller drafts, previews and publishes.
    log_in(page, base, "seller@notes.test")
    page.goto(f"{base}/marketplace/studio/")
    page.click("#new-template")
    page.fill("#id_title", "Standup notes digest")
    page.fill("#id_description", "Turns a standup transcript into a digest of blockers and owners.")
    page.select_option("#id_category", "productivity")
    page.fill("#id_tags", "meetings, standup")
    page.fill("#id_body", "Digest {{transcript}} into {{bullets}} bullets, blockers first.")
    page.fill("#id_price", "6.00")
    page.fill("input[name=var-0-name]", "transcript")
    page.fill("input[name=var-1-name]", "bullets")
    page.select_option("select[name=var-1-type]", "number")
    page.fill("input[name=var-1-default]", "5")
    page.click("#preview-button")
    assert page.locator("#preview-text").inner_text() == "Digest [transcript] into 5 bullets, blockers first."
    page.shot("seller-preview")
    page.click("#save")
    page.click("#publish")
    assert page.locator("#status").inner_text() == "Published"
    page.shot("seller-published")
    page.goto(f"{base}/marketplace/?q=standup+digest")
    assert page.locator("#template-standup-notes-digest").is_visible()

    # Another owner already rated it 5; a poorly rated rival also matches the words.
    template = PromptTemplate.objects.get(slug="standup-notes-digest")
    rival = PromptTemplateFactory(published=True, title="Standup notes lite", slug="standup-lite", tags="standup")
    for target, stars in ((template, 5), (rival, 2)):
        early = MembershipFactory()
        settle(
            PurchaseFactory(
                organization=early.organization,
                item_type="prompt_template",
                item_id=target.slug,
                amount=target.price_amount,
                status="pending",
                paid_at=None,
            )
        )
        review_create(template=target, organization=early.organization, author=early.user, rating=stars, text="ok")

    # The buyer, on a phone-sized screen, searches with a typo and filters by rating.
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    phone.set_default_timeout(15_000)
    phone.shot = page.shot
    buyer = MembershipFactory(role=Role.BUYER, user__email="buyer@acme.test")
    log_in(phone, base, "buyer@acme.test")
    phone.goto(f"{base}/marketplace/")
    phone.fill("#id_q", "standp notes")
    phone.click(".search-row button")
    assert phone.locator("#template-standup-lite").is_visible()
    phone.click("#browse-form summary")
    phone.select_option("#id_min_rating", "4")
    phone.click("#browse-form details button[type=submit]")
    assert phone.locator("#template-standup-notes-digest").is_visible()
    assert phone.locator("#template-standup-lite").count() == 0
    assert "min_rating=4" in phone.url and "q=standp+notes" in phone.url  # a link to share
    assert fits(phone, 390)

    # Buys it in Checkout, finds it in the library, renders and reviews it.
    phone.click("#template-standup-notes-digest h2 a")
    phone.click("#buy button")
    phone.shot("buyer-checkout")  # a known customer: Checkout asks for the card only
    phone.fill("#card_number", "4242 4242 4242 4242")
    phone.click("button[type=submit]")
    phone.wait_for_url(f"{base}/marketplace/standup-notes-digest/**")
    billing_site.flush()
    phone.goto(f"{base}/marketplace/library/")
    phone.click("#library-standup-notes-digest h2 a")
    phone.fill("#var-transcript", "Dana is blocked on the API key")
    phone.click("#try-it button[type=submit]")
    phone.locator("#rendered").wait_for()
    assert (
        phone.locator("#rendered").inner_text()
        == "Digest Dana is blocked on the API key into 5 bullets, blockers first."
    )
    phone.select_option("#review-rating", "4")
    phone.fill("#review-text", "Our standups got shorter.")
    phone.click("#review-form button[type=submit]")
    assert "Our standups got shorter." in phone.locator("#reviews").inner_text()
    assert phone.locator("#rating-summary strong").first.inner_text() == "4.50"
    assert fits(phone, 390)
    context.close()

    # The seller sees the sale, the review and the balance (2 × $6.00 − 20 %).
    page.goto(f"{base}/marketplace/studio/dashboard/")
    assert page.locator("#sales-total").inner_text() == "2"
    assert page.locator("#balance-usd").inner_text() == "$9.60"
    assert "Our standups got shorter." in page.locator("#recent-reviews").inner_text()
    page.locator("#sales-chart").wait_for()
    assert page.evaluate("typeof window.Chart") == "function"
    page.shot("seller-dashboard")
    assert Review.objects.filter(template=template, author=buyer.user).get().rating == 4
    assert seller.organization.pk == template.seller_id


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_marketplace_page_fits_a_390_px_screen(live_server, chromium):
    seller = MembershipFactory(role=Role.SELLER, user__email="narrow@seller.test")
    template = PromptTemplateFactory(
        published=True, seller=seller.organization, slug="a-rather-long-template-address", title="A " + "long " * 12
    )
    buyer = MembershipFactory()
    settle(
        PurchaseFactory(
            organization=buyer.organization,
            item_type="prompt_template",
            item_id=template.slug,
            amount=template.price_amount,
            status="pending",
            paid_at=None,
        )
    )
    review_create(template=template, organization=buyer.organization, author=buyer.user, rating=4, text="Fine " * 40)
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    phone.set_default_timeout(15_000)
    base = live_server.url
    public = ["/marketplace/", f"/marketplace/{template.slug}/", "/marketplace/?q=long&min_rating=3"]
    for path in public:
        phone.goto(base + path)
        assert fits(phone, 390), path
    log_in(phone, base, "narrow@seller.test")
    for path in [
        *public,
        "/marketplace/library/",
        "/marketplace/studio/",
        f"/marketplace/studio/{template.slug}/",
        "/marketplace/studio/new/",
        "/marketplace/studio/dashboard/",
    ]:
        phone.goto(base + path)
        assert fits(phone, 390), path
    phone.screenshot(path=str(ARTIFACTS / "narrow-dashboard.png"), full_page=True)
    context.close()
