"""Learning pages: the index, an article, a quiz. Thin: selectors say what is open and at what price.

Signed in, a page speaks for one of the user's organizations (?org=<id>, else their
primary one), the customer who owns purchases; signed out, for the browser session's
anonymous purchases. Locked items offer a Buy form that posts to billing's purchase page,
which prices the item again on its side and comes back here.
"""

from django.shortcuts import get_object_or_404, render

from billing.anonymous import anonymous_buyer_id
from billing.selectors import Viewer, billing_organizations_for, viewer_for
from content.models import Article, Quiz
from content.selectors import (
    article_access,
    article_entries_for,
    quiz_access,
    quiz_entries_for,
)


def _viewer(request) -> Viewer:
    # Read only: a visitor gets an anonymous buyer id when they buy, not when they look.
    return viewer_for(
        user=request.user,
        anonymous_session_id=anonymous_buyer_id(request.session),
        organization_id=request.GET.get("org"),
    )


def _page(request, template: str, viewer: Viewer, **context):
    organizations = billing_organizations_for(user=request.user) if request.user.is_authenticated else []
    return render(
        request,
        template,
        {
            "organization": viewer.organization,
            "organizations": organizations,
            # Links to other learning pages stay with the organization the user chose.
            "org_query": f"?org={viewer.organization.pk}" if request.GET.get("org") and viewer.organization else "",
            # Back to this page (and organization) after buying.
            "next_url": request.get_full_path(),
            **context,
        },
    )


def index(request):
    viewer = _viewer(request)
    return _page(
        request,
        "content/index.html",
        viewer,
        articles=article_entries_for(viewer=viewer),
        quizzes=quiz_entries_for(viewer=viewer),
    )


def article_detail(request, slug: str):
    article = get_object_or_404(Article.objects.published(), slug=slug)
    viewer = _viewer(request)
    access = article_access(viewer=viewer, article=article)
    return _page(request, "content/article_detail.html", viewer, article=article, access=access)


def quiz_detail(request, slug: str):
    quiz = get_object_or_404(Quiz.objects.published(), slug=slug)
    viewer = _viewer(request)
    access = quiz_access(viewer=viewer, quiz=quiz)
    # Questions only reach the page of someone who owns the quiz.
    questions = list(quiz.questions.all()) if access.is_open else []
    return _page(request, "content/quiz_detail.html", viewer, quiz=quiz, access=access, questions=questions)
