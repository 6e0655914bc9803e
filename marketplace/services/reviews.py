"""Reviews and ratings: only owners review, once per member and template; the seller replies once;
staff hide reviews (moderation). The template's rating count and sum move in the same
transaction as the review, by one conditional UPDATE, so they stay exact under concurrent
reviews and edits and pages read them without aggregating reviews.
"""

from django.db import IntegrityError, transaction
from django.db.models import Case, ExpressionWrapper, F, FloatField, Value, When
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError

from accounts.models import Membership, Organization, User
from billing.selectors import purchased_item_ids
from marketplace.cache import catalogue_changed
from marketplace.models import PromptTemplate, Review, ReviewReport
from marketplace.selectors import ITEM_TYPE, PUBLISHER_ROLES

MAX_TEXT = 4000


class AlreadyReviewed(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "already_reviewed"
    default_detail = "You have already reviewed this template: edit your review instead."


class OwnersOnly(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "owners_only"
    default_detail = "Only an organization that owns this template can review it."


class AlreadyReplied(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "already_replied"
    default_detail = "The seller has already replied to this review."


def _checked(*, rating: object, text: str) -> tuple[int, str]:
    errors = {}
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        errors["rating"] = ["Give 1 to 5 stars."]
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        errors["text"] = [f"Keep it to {MAX_TEXT} characters or fewer."]
    if errors:
        raise ValidationError(errors)
    return rating, text


def _rating_move(*, template_id: int, added: int | None = None, removed: int | None = None) -> None:
    """A visible rating of `added` stars counts and one of `removed` stars no longer does: the
    template's rating count, sum, per-star counts and stored average move in one UPDATE."""
    count = (added is not None) - (removed is not None)
    new_count, new_sum = F("rating_count") + count, F("rating_sum") + (added or 0) - (removed or 0)
    # Float division (SQLite divides integers as integers); the column rounds it to two places.
    average = ExpressionWrapper(Cast(new_sum, FloatField()) / new_count, output_field=FloatField())
    stars = {}
    if added is not None:
        stars[f"rating_count_{added}"] = F(f"rating_count_{added}") + 1
    if removed is not None:
        name = f"rating_count_{removed}"
        stars[name] = (stars[name] if name in stars else F(name)) - 1
    PromptTemplate.objects.filter(pk=template_id).update(
        rating_count=new_count,
        rating_sum=new_sum,
        rating_average=Case(When(rating_count=-count, then=Value(0.0)), default=average, output_field=FloatField()),
        **stars,
    )
    catalogue_changed()  # the rating filter and sort read these columns


def review_may_write(*, template: PromptTemplate, organization: Organization | None, author: User) -> bool:
    """Whether `author`, for `organization`, may review the template: a member of an organization
    that owns it and does not sell it."""
    if organization is None or not author.is_authenticated or organization.pk == template.seller_id:
        return False
    if not Membership.objects.filter(organization=organization, user_id=author.pk).exists():
        return False
    return template.slug in purchased_item_ids(item_type=ITEM_TYPE, organization_id=organization.pk)


def review_create(
    *, template: PromptTemplate, organization: Organization, author: User, rating: int, text: str = ""
) -> Review:
    rating, text = _checked(rating=rating, text=text)
    if not review_may_write(template=template, organization=organization, author=author):
        raise OwnersOnly()
    try:
        with transaction.atomic():
            review = Review.objects.create(
                template=template, organization=organization, author=author, rating=rating, text=text
            )
            _rating_move(template_id=template.pk, added=rating)
    except IntegrityError as error:
        raise AlreadyReviewed() from error
    return review


def _lock_own(*, review: Review, actor: User) -> Review:
    locked = Review.objects.select_for_update().get(pk=review.pk)
    if locked.author_id != actor.pk:
        raise PermissionDenied("Only its author can change a review.")
    return locked


def review_update(*, review: Review, actor: User, rating: int, text: str = "") -> Review:
    """The author changes stars or words; the template's rating moves by the difference."""
    rating, text = _checked(rating=rating, text=text)
    with transaction.atomic():
        locked = _lock_own(review=review, actor=actor)
        if not locked.is_hidden:
            _rating_move(template_id=locked.template_id, added=rating, removed=locked.rating)
        locked.rating, locked.text, locked.updated_at = rating, text, timezone.now()
        locked.save(update_fields=["rating", "text", "updated_at"])
    return locked


def review_delete(*, review: Review, actor: User) -> None:
    with transaction.atomic():
        locked = _lock_own(review=review, actor=actor)
        if not locked.is_hidden:
            _rating_move(template_id=locked.template_id, removed=locked.rating)
        locked.delete()


def review_reply(*, review: Review, actor: User, text: str) -> Review:
    """A seller or admin of the selling organization answers, once."""
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise ValidationError({"text": [f"Write a reply of 1 to {MAX_TEXT} characters."]})
    template = review.template
    if not Membership.objects.filter(organization_id=template.seller_id, user_id=actor.pk, role__in=PUBLISHER_ROLES):
        raise PermissionDenied("Only sellers and admins of the selling organization can reply.")
    replied = Review.objects.filter(pk=review.pk, seller_reply="").update(
        seller_reply=text, seller_replied_at=timezone.now(), seller_replied_by=actor
    )
    if not replied:
        raise AlreadyReplied()
    review.refresh_from_db()
    return review


def review_report(*, review: Review, reporter: User, reason: str) -> ReviewReport:
    """Flag a review for the moderators; a second report by the same person changes nothing."""
    reason = (reason or "").strip()[:500] or "No reason given."
    report, _ = ReviewReport.objects.get_or_create(review=review, reporter=reporter, defaults={"reason": reason})
    return report


def review_hide(*, review: Review, actor: User, reason: str) -> Review:
    """Staff moderation: the review disappears from pages and from the rating; reports are resolved."""
    if not actor.is_staff:
        raise PermissionDenied("Only staff moderate reviews.")
    with transaction.atomic():
        locked = Review.objects.select_for_update().get(pk=review.pk)
        if locked.is_hidden:
            return locked
        _rating_move(template_id=locked.template_id, removed=locked.rating)
        locked.hidden_at, locked.hidden_reason = timezone.now(), (reason or "")[:500]
        locked.save(update_fields=["hidden_at", "hidden_reason"])
        ReviewReport.objects.filter(review=locked, resolved_at__isnull=True).update(resolved_at=timezone.now())
    return locked


def review_unhide(*, review: Review, actor: User) -> Review:
    if not actor.is_staff:
        raise PermissionDenied("Only staff moderate reviews.")
    with transaction.atomic():
        locked = Review.objects.select_for_update().get(pk=review.pk)
        if not locked.is_hidden:
            return locked
        _rating_move(template_id=locked.template_id, added=locked.rating)
        locked.hidden_at, locked.hidden_reason = None, ""
        locked.save(update_fields=["hidden_at", "hidden_reason"])
    return locked
