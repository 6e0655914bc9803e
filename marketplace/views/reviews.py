"""Review forms of a template's page: write, edit, delete, the seller's reply, reporting.

Plain posts that come back to the template's page with a message; the services hold the rules.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException, ValidationError

from marketplace.models import Review
from marketplace.selectors import prompt_template_get_for_viewer
from marketplace.services.reviews import (
    review_create,
    review_delete,
    review_reply,
    review_report,
    review_update,
)
from marketplace.views.catalogue import request_viewer


def _back(request, slug: str):
    org = request.GET.get("org")
    url = reverse("marketplace:detail", args=[slug]) + (f"?org={org}" if org else "")
    return redirect(f"{url}#reviews")


def _rating(request) -> int | None:
    try:
        return int(request.POST.get("rating", ""))
    except ValueError:
        return None


def _say(request, error: APIException) -> None:
    detail = error.detail
    if isinstance(error, ValidationError) and isinstance(detail, dict):
        for items in detail.values():
            for item in items:
                messages.error(request, str(item))
    else:
        messages.error(request, str(detail))


def _review_of(request, slug: str, review_id: int) -> Review:
    template = prompt_template_get_for_viewer(slug=slug, viewer=request_viewer(request))
    return get_object_or_404(Review.objects.select_related("template"), pk=review_id, template=template)


@login_required
@require_POST
def review_write(request, slug: str):
    viewer = request_viewer(request)
    template = prompt_template_get_for_viewer(slug=slug, viewer=viewer)
    try:
        review_create(
            template=template,
            organization=viewer.organization,
            author=request.user,
            rating=_rating(request),
            text=request.POST.get("text", ""),
        )
    except APIException as error:
        _say(request, error)
    else:
        messages.success(request, "Thank you: your review is published.")
    return _back(request, slug)


# What each form on a review does: the service call, and the message once it is done.
REVIEW_CHANGES = {
    "edit": (
        lambda request, review: review_update(
            review=review, actor=request.user, rating=_rating(request), text=request.POST.get("text", "")
        ),
        "Your review is updated.",
    ),
    "delete": (lambda request, review: review_delete(review=review, actor=request.user), "Your review is deleted."),
    "reply": (
        lambda request, review: review_reply(review=review, actor=request.user, text=request.POST.get("text", "")),
        "Your reply is published.",
    ),
    "report": (
        lambda request, review: review_report(
            review=review, reporter=request.user, reason=request.POST.get("reason", "")
        ),
        "Thank you: a moderator will look at this review.",
    ),
}


@login_required
@require_POST
def review_change(request, slug: str, review_id: int, change: str):
    """Edit, delete, reply to or report one review (`change`, fixed by the URL)."""
    review = _review_of(request, slug, review_id)
    write, done = REVIEW_CHANGES[change]
    try:
        write(request, review)
    except APIException as error:
        _say(request, error)
    else:
        messages.success(request, done)
    return _back(request, slug)
