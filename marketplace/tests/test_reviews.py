"""Reviews and ratings: owners only, one per member, edit and delete, one seller reply, moderation,
and the stored rating exact under concurrency (PostgreSQL, threads)."""

import threading

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test import Client

from accounts.models import Role
from billing.models import Purchase
from marketplace.models import PromptTemplate, Review, ReviewReport
from marketplace.services.reviews import review_create, review_hide
from marketplace.tests.factories import MembershipFactory, PromptTemplateFactory


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def owns(template, organization, status="paid") -> Purchase:
    return Purchase.objects.create(
        organization=organization,
        item_type="prompt_template",
        item_id=template.slug,
        item_name=template.title,
        list_amount=template.price_amount,
        amount=template.price_amount,
        status=status,
    )


def stored(template) -> tuple:
    template.refresh_from_db()
    return (template.rating_count, template.rating_sum, str(template.rating_average))


def from_rows(template) -> tuple:
    rows = Review.objects.visible().filter(template=template).aggregate(n=Count("id"), total=Sum("rating"))
    return (rows["n"], rows["total"] or 0)


def stars_from_rows(template) -> dict[int, int]:
    """The visible reviews' stars counted from the rows, to compare with the stored per-star counts."""
    counts = dict(Review.objects.visible().filter(template=template).values_list("rating").annotate(n=Count("id")))
    return {stars: counts.get(stars, 0) for stars in range(1, 6)}


@pytest.mark.django_db
def test_an_owner_reviews_once_and_the_page_shows_the_summary():
    template = PromptTemplateFactory(published=True, slug="rated")
    buyer = MembershipFactory(role=Role.BUYER, user__profile__display_name="Dana")
    owns(template, buyer.organization)
    client = signed_in(buyer)
    assert 'id="review-form"' in client.get("/marketplace/rated/").content.decode()

    response = client.post("/marketplace/rated/reviews/", {"rating": "4", "text": "Saved me an hour."})
    assert response["Location"] == "/marketplace/rated/#reviews"
    assert stored(template) == (1, 4, "4.00")
    page = Client().get("/marketplace/rated/").content.decode()
    assert '<strong data-average="4.00">4.00</strong> out of 5 · 1 review</p>' in page
    assert '<tr data-stars="4"><th>4 ★</th><td><progress max="100" value="100">100%</progress></td>' in page
    assert '<p class="review-text">Saved me an hour.</p>' in page
    assert "Dana ·" in page

    again = client.post("/marketplace/rated/reviews/", {"rating": "1", "text": "Twice"}, follow=True)
    assert "You have already reviewed this template: edit your review instead." in again.content.decode()
    assert 'id="review-form"' not in again.content.decode()
    assert (Review.objects.count(), stored(template)) == (1, (1, 4, "4.00"))


@pytest.mark.django_db
def test_only_owners_review_and_the_seller_does_not_review_its_own():
    template = PromptTemplateFactory(published=True, slug="unowned")
    stranger = MembershipFactory()
    page = signed_in(stranger).post("/marketplace/unowned/reviews/", {"rating": "5"}, follow=True).content.decode()
    assert "Only an organization that owns this template can review it." in page
    refunded = MembershipFactory()
    owns(template, refunded.organization, status="refunded")
    signed_in(refunded).post("/marketplace/unowned/reviews/", {"rating": "5"})
    seller = MembershipFactory(organization=template.seller, role=Role.SELLER)
    assert 'id="review-form"' not in signed_in(seller).get("/marketplace/unowned/").content.decode()
    signed_in(seller).post("/marketplace/unowned/reviews/", {"rating": "5"})
    assert Client().post("/marketplace/unowned/reviews/", {"rating": "5"}).status_code == 302  # to log in
    assert (Review.objects.count(), stored(template)) == (0, (0, 0, "0.00"))


@pytest.mark.django_db
def test_bad_stars_are_refused_and_nothing_is_saved():
    template = PromptTemplateFactory(published=True, slug="stars")
    buyer = MembershipFactory()
    owns(template, buyer.organization)
    for rating in ("0", "6", "four", ""):
        page = signed_in(buyer).post("/marketplace/stars/reviews/", {"rating": rating}, follow=True).content.decode()
        assert "Give 1 to 5 stars." in page
    assert (Review.objects.count(), stored(template)) == (0, (0, 0, "0.00"))


@pytest.mark.django_db
def test_the_author_edits_and_deletes_and_nobody_else_can():
    template = PromptTemplateFactory(published=True, slug="edited")
    first, second = MembershipFactory(), MembershipFactory()
    owns(template, first.organization)
    owns(template, second.organization)
    review = review_create(template=template, organization=first.organization, author=first.user, rating=2)
    review_create(template=template, organization=second.organization, author=second.user, rating=5, text="Great")
    assert stored(template) == (2, 7, "3.50")

    signed_in(first).post(f"/marketplace/edited/reviews/{review.pk}/edit/", {"rating": "4", "text": "Better now"})
    assert stored(template) == (2, 9, "4.50")
    assert template.rating_counts == {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}  # the 2 became a 4
    assert Review.objects.get(pk=review.pk).text == "Better now"

    page = signed_in(second).post(f"/marketplace/edited/reviews/{review.pk}/edit/", {"rating": "1"}, follow=True)
    assert "Only its author can change a review." in page.content.decode()
    signed_in(second).post(f"/marketplace/edited/reviews/{review.pk}/delete/")
    assert (Review.objects.get(pk=review.pk).rating, stored(template)) == (4, (2, 9, "4.50"))

    signed_in(first).post(f"/marketplace/edited/reviews/{review.pk}/delete/")
    assert not Review.objects.filter(pk=review.pk).exists()
    assert stored(template) == (1, 5, "5.00")
    assert template.rating_counts == {1: 0, 2: 0, 3: 0, 4: 0, 5: 1}


@pytest.mark.django_db
def test_the_seller_replies_once_and_a_buyer_cannot_reply():
    template = PromptTemplateFactory(published=True, slug="replied")
    buyer = MembershipFactory()
    owns(template, buyer.organization)
    review = review_create(template=template, organization=buyer.organization, author=buyer.user, rating=3)
    signed_in(buyer).post(f"/marketplace/replied/reviews/{review.pk}/reply/", {"text": "I am not the seller"})
    assert Review.objects.get(pk=review.pk).seller_reply == ""

    seller = MembershipFactory(organization=template.seller, role=Role.SELLER)
    client = signed_in(seller)
    assert 'class="reply-form"' in client.get("/marketplace/replied/").content.decode()
    client.post(f"/marketplace/replied/reviews/{review.pk}/reply/", {"text": "Thanks, fixed in v2."})
    again = client.post(f"/marketplace/replied/reviews/{review.pk}/reply/", {"text": "Changed"}, follow=True)
    assert "The seller has already replied to this review." in again.content.decode()
    review.refresh_from_db()
    assert (review.seller_reply, review.seller_replied_by) == ("Thanks, fixed in v2.", seller.user)
    assert (
        f"{template.seller.name} replied:</strong> Thanks, fixed in v2."
        in Client().get("/marketplace/replied/").content.decode()
    )


@pytest.mark.django_db
def test_a_reported_review_hidden_by_staff_leaves_the_page_and_the_rating(staff_client):
    template = PromptTemplateFactory(published=True, slug="moderated")
    kind, rude = MembershipFactory(), MembershipFactory()
    owns(template, kind.organization)
    owns(template, rude.organization)
    review_create(template=template, organization=kind.organization, author=kind.user, rating=5, text="Lovely")
    bad = review_create(template=template, organization=rude.organization, author=rude.user, rating=1, text="Spam!")
    signed_in(kind).post(f"/marketplace/moderated/reviews/{bad.pk}/report/", {"reason": "Spam"})
    assert list(ReviewReport.objects.values_list("reason", "resolved_at")) == [("Spam", None)]

    response = staff_client.post(
        "/admin/marketplace/review/", {"action": "hide", "_selected_action": [bad.pk]}, follow=True
    )
    assert "Hid 1 review(s)." in response.content.decode()
    assert stored(template) == (1, 5, "5.00")
    assert template.rating_counts == {1: 0, 2: 0, 3: 0, 4: 0, 5: 1}
    assert "Spam!" not in Client().get("/marketplace/moderated/").content.decode()
    assert ReviewReport.objects.get().resolved_at is not None

    staff_client.post("/admin/marketplace/review/", {"action": "unhide", "_selected_action": [bad.pk]})
    assert stored(template) == (2, 6, "3.00")
    assert template.rating_counts == stars_from_rows(template) == {1: 1, 2: 0, 3: 0, 4: 0, 5: 1}


@pytest.mark.services
def test_the_stored_rating_stays_exact_under_concurrent_reviews_and_edits(require_postgres, transactional_db):
    template = PromptTemplateFactory(published=True)
    members = [MembershipFactory() for _ in range(8)]
    for member in members:
        owns(template, member.organization)
    barrier = threading.Barrier(len(members), timeout=30)
    errors: list[BaseException] = []

    def write(member, stars: int):
        from marketplace.services.reviews import review_update

        try:
            barrier.wait()
            review = review_create(
                template=template, organization=member.organization, author=member.user, rating=stars
            )
            for step in range(5):  # edits racing the other threads' creates and edits
                review_update(review=review, actor=member.user, rating=(stars + step) % 5 + 1)
            if stars % 3 == 0:
                review_hide(review=review, actor=type(member.user)(is_staff=True), reason="")
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(m, i % 5 + 1)) for i, m in enumerate(members)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    count, total = from_rows(template)
    template = PromptTemplate.objects.get(pk=template.pk)
    assert (template.rating_count, template.rating_sum) == (count, total)
    assert count == len(members) - sum(1 for i in range(len(members)) if (i % 5 + 1) % 3 == 0)
    assert template.rating_average == template.rating_exact
    assert template.rating_counts == stars_from_rows(template)
