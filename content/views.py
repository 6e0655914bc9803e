"""Learning pages: the index, a course, a lesson, a quiz. Thin: selectors say what is open and at what price.

Signed in, a page speaks for one of the user's organizations (?org=<id>, else their
primary one), the customer who owns purchases; signed out, for the browser session's
anonymous purchases. Locked items offer a Buy form that posts to billing's purchase page,
which prices the item again on its side and comes back here.
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from billing.anonymous import anonymous_buyer_id
from billing.selectors import Viewer, billing_organizations_for, viewer_for
from common.events import event_source
from content.exceptions import (
    ChatNotEntitled,
    ChatQuotaExceeded,
    InvalidAnswers,
    ItemLocked,
    PostingRateLimited,
    PostingRefused,
    TutorUnavailable,
)
from content.models import Comment, Conversation, Course, Difficulty, Lesson, Like, Post, Quiz, QuizAttempt, Tier
from content.selectors import (
    SearchFilters,
    SearchType,
    article_access,
    article_entries_for,
    badges_for,
    content_search,
    course_list_published,
    course_outline,
    course_progress,
    course_progress_list,
    lesson_navigation,
    lesson_related,
    lessons_recommended,
    progress_continue,
    progress_for,
    progress_list,
    quiz_access,
    quiz_attempt_results,
    quiz_best_attempt,
    quiz_entries_for,
    search_filter_choices,
)
from content.services import (
    chat_answer_stream,
    chat_ask,
    chat_owner_id,
    chat_question_record,
    comment_create,
    content_search_record,
    conversation_create,
    conversation_delete,
    conversation_rename,
    like_set,
    post_create,
    post_delete,
    post_edit,
    quiz_attempt_submit,
    report_create,
)


def _viewer(request) -> Viewer:
    # Read only: a visitor gets an anonymous buyer id when they buy, not when they look.
    return viewer_for(
        user=request.user,
        anonymous_session_id=anonymous_buyer_id(request.session),
        organization_id=request.GET.get("org"),
    )


def _page(request, template: str, viewer: Viewer, **context):
    # The switcher shows only for members of several organizations: ask for the plans only then.
    several = len(viewer.organizations) > 1
    organizations = billing_organizations_for(user=request.user) if several else []
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
        continue_lesson=progress_continue(user=request.user),
        recommended=lessons_recommended(user=request.user),
        courses=list(course_list_published()),
        articles=article_entries_for(viewer=viewer),
        quizzes=quiz_entries_for(viewer=viewer),
    )


def course_detail(request, slug: str):
    course = get_object_or_404(Course.objects.published(), slug=slug)
    viewer = _viewer(request)
    outline = course_outline(course=course)
    return _page(
        request, "content/course_detail.html", viewer,
        outline=outline, progress=course_progress(user=request.user, outline=outline),
    )


def lesson_detail(request, slug: str):
    lesson = get_object_or_404(
        Lesson.objects.published().select_related("principle__chapter__course").defer("search_vector"), slug=slug
    )
    viewer = _viewer(request)
    access = article_access(viewer=viewer, article=lesson)
    return _page(
        request,
        "content/lesson_detail.html",
        viewer,
        lesson=lesson,
        access=access,
        tags=list(lesson.tags.all()),
        navigation=lesson_navigation(lesson=lesson),
        related=lesson_related(lesson=lesson),
        progress=progress_for(user=request.user, lesson=lesson) if access.is_open else None,
    )


SEARCH_PAGE_SIZE = 10


def search_filters_from(params) -> SearchFilters:
    """Filters from a query string; unknown values are ignored rather than refused."""
    principle = params.get("principle", "")
    return SearchFilters(
        type=params.get("type", "") if params.get("type", "") in SearchType.__members__.values() else "",
        course=params.get("course", "")[:64],
        principle=int(principle) if principle.isdigit() else None,
        difficulty=params.get("difficulty", "") if params.get("difficulty", "") in Difficulty.values else "",
        tier=params.get("tier", "") if params.get("tier", "") in Tier.values else "",
    )


def search(request):
    query = request.GET.get("q", "").strip()[:200]
    filters = search_filters_from(request.GET)
    hits = content_search(query=query, filters=filters) if query else []
    page = Paginator(hits, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    if query and page.number == 1:
        content_search_record(source=event_source(request), query=query, filters=filters, results=len(hits))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "content/search.html",
        {
            "query": query, "filters": filters, "page": page, "count": len(hits),
            "choices": search_filter_choices(), "page_query": params.urlencode(),
        },
    )


# --- The AI tutor ------------------------------------------------------------------------


def _conversations(request):
    if request.user.is_authenticated:
        return Conversation.objects.filter(user=request.user)
    owner = chat_owner_id(request.session)
    if not owner:
        return Conversation.objects.none()
    return Conversation.objects.filter(user__isnull=True, anonymous_owner=owner)


def _tutor_page(request, *, conversation=None, error: str = "", status: int = 200, draft: str = ""):
    conversations = list(_conversations(request)[:50])
    messages_ = list(conversation.messages.all()) if conversation else []
    return render(
        request,
        "content/tutor.html",
        {"conversations": conversations, "conversation": conversation, "chat": messages_, "error": error,
         "draft": draft},
        status=status,
    )


def _ask(request, conversation):
    viewer = _viewer(request)
    question = request.POST.get("content", "")
    try:
        chat_ask(
            conversation=conversation,
            user=request.user if request.user.is_authenticated else None,
            organization=viewer.organization,
            viewer=viewer,
            question=question,
        )
    except (ChatQuotaExceeded, ChatNotEntitled, TutorUnavailable) as error:
        conversation.refresh_from_db()
        keep = question if not isinstance(error, TutorUnavailable) else ""
        return _tutor_page(request, conversation=conversation, error=str(error.detail), status=error.status_code,
                           draft=keep)
    except ValidationError as error:
        return _tutor_page(request, conversation=conversation, error=" ".join(_messages_of(error.detail)), status=400)
    return redirect(reverse("content:tutor_conversation", args=[conversation.pk]))


def _messages_of(detail) -> list[str]:
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _messages_of(value)]
    if isinstance(detail, list):
        return [m for value in detail for m in _messages_of(value)]
    return [str(detail)]


def tutor(request):
    """The tutor's home: your conversations, and a new question (which starts a conversation)."""
    if request.method != "POST":
        return _tutor_page(request)
    if request.user.is_authenticated:
        conversation = conversation_create(user=request.user)
    else:
        conversation = conversation_create(anonymous_owner=chat_owner_id(request.session, create=True))
    return _ask(request, conversation)


def tutor_conversation(request, pk):
    conversation = get_object_or_404(_conversations(request), pk=pk)
    if request.method == "POST":
        return _ask(request, conversation)
    return _tutor_page(request, conversation=conversation)


def _sse(event: str, payload: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(payload)}\n\n".encode()


@require_POST
def tutor_stream(request, pk=None):
    """Ask and receive the answer as server-sent events (tutor.js); errors before the answer are JSON.

    Events: `start` (the conversation's address), `piece` ({"text"}) as the provider writes,
    then `done`, or `error` ({"message"}) if the provider fails midway (the question stays).
    """
    if pk is None:
        if request.user.is_authenticated:
            conversation = conversation_create(user=request.user)
        else:
            conversation = conversation_create(anonymous_owner=chat_owner_id(request.session, create=True))
    else:
        conversation = get_object_or_404(_conversations(request), pk=pk)
    viewer = _viewer(request)
    try:
        asked = chat_question_record(
            conversation=conversation,
            user=request.user if request.user.is_authenticated else None,
            organization=viewer.organization,
            question=request.POST.get("content", ""),
        )
    except (ChatQuotaExceeded, ChatNotEntitled, ValidationError) as error:
        if pk is None:
            conversation_delete(conversation=conversation)  # nothing was asked in it
        message = str(error.detail) if not isinstance(error, ValidationError) else " ".join(_messages_of(error.detail))
        return JsonResponse({"code": error.default_code, "message": message}, status=error.status_code)
    url = reverse("content:tutor_conversation", args=[conversation.pk])

    def events():
        yield _sse("start", {"url": url})
        try:
            for piece in chat_answer_stream(conversation=conversation, viewer=viewer, question=asked):
                if isinstance(piece, str):
                    yield _sse("piece", {"text": piece})
        except TutorUnavailable as error:
            yield _sse("error", {"message": str(error.detail)})
            return
        yield _sse("done", {"url": url})

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a proxy must pass the pieces on as they come
    return response


@require_POST
def tutor_rename(request, pk):
    conversation = get_object_or_404(_conversations(request), pk=pk)
    try:
        conversation_rename(conversation=conversation, title=request.POST.get("title", ""))
    except ValidationError:
        messages.error(request, "Give the conversation a title.")
    return redirect(reverse("content:tutor_conversation", args=[conversation.pk]))


@require_POST
def tutor_delete(request, pk):
    conversation = get_object_or_404(_conversations(request), pk=pk)
    conversation_delete(conversation=conversation)
    messages.success(request, "Conversation deleted.")
    return redirect(reverse("content:tutor"))


# --- Community ----------------------------------------------------------------------------


def _refusal(error) -> str:
    detail = getattr(error, "detail", error)
    return " ".join(_messages_of(detail))


def community(request):
    """Posts, newest first (?lesson=<slug> for one lesson's discussion); members write a new one here."""
    lesson = None
    if request.GET.get("lesson"):
        lesson = get_object_or_404(Lesson.objects.published().only("slug", "title"), slug=request.GET["lesson"])
    error, status = "", 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            post = post_create(author=request.user, title=request.POST.get("title", ""),
                               body=request.POST.get("body", ""), lesson=lesson)
        except (PostingRefused, PostingRateLimited, ValidationError) as refused:
            error, status = _refusal(refused), getattr(refused, "status_code", 400)
        else:
            return redirect(reverse("content:post_detail", args=[post.pk]))
    posts = Post.objects.visible_to(request.user).select_related("author__profile", "lesson").annotate(
        comments_total=Count("comments", filter=Q(comments__is_hidden=False))
    )
    if lesson is not None:
        posts = posts.filter(lesson=lesson)
    page = Paginator(posts.defer("body", "body_html"), 20).get_page(request.GET.get("page"))
    return render(request, "content/community.html",
                  {"page": page, "lesson": lesson, "error": error, "draft": request.POST}, status=status)


def _post_for(request, pk):
    return get_object_or_404(Post.objects.visible_to(request.user).select_related("author__profile", "lesson"), pk=pk)


def post_detail(request, pk: int):
    post = _post_for(request, pk)
    error, status = "", 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        parent = None
        if request.POST.get("parent", "").isdigit():
            parent = Comment.objects.visible_to(request.user).filter(post=post, pk=request.POST["parent"]).first()
        try:
            comment_create(post=post, author=request.user, body=request.POST.get("body", ""), parent=parent)
        except (PostingRefused, PostingRateLimited, ValidationError) as refused:
            error, status = _refusal(refused), getattr(refused, "status_code", 400)
        else:
            return redirect(reverse("content:post_detail", args=[post.pk]) + "#comments")
    comments = list(post.comments.visible_to(request.user).select_related("author__profile"))
    liked_posts, liked_comments = set(), set()
    if request.user.is_authenticated:
        liked = Like.objects.filter(user=request.user).filter(Q(post=post) | Q(comment__post=post))
        for post_id, comment_id in liked.values_list("post_id", "comment_id"):
            (liked_posts.add(post_id) if post_id else liked_comments.add(comment_id))
    threads = [(c, [r for r in comments if r.parent_id == c.pk]) for c in comments if c.parent_id is None]
    return render(
        request, "content/post_detail.html",
        {"post": post, "threads": threads, "error": error, "liked_post": post.pk in liked_posts,
         "liked_comments": liked_comments, "draft": request.POST.get("body", "") if error else ""},
        status=status,
    )


@login_required
def post_edit_view(request, pk: int):
    post = _post_for(request, pk)
    error = ""
    if request.method == "POST":
        try:
            post_edit(post=post, user=request.user, title=request.POST.get("title", ""),
                      body=request.POST.get("body", ""))
        except (PostingRefused, ValidationError) as refused:
            error = _refusal(refused)
        else:
            return redirect(reverse("content:post_detail", args=[post.pk]))
    elif post.author_id != request.user.pk:
        raise Http404("Not your post.")
    return render(request, "content/post_edit.html", {"post": post, "error": error})


@login_required
@require_POST
def post_delete_view(request, pk: int):
    post = _post_for(request, pk)
    try:
        post_delete(post=post, user=request.user)
    except PostingRefused as refused:
        messages.error(request, _refusal(refused))
        return redirect(reverse("content:post_detail", args=[post.pk]))
    messages.success(request, "Post deleted.")
    return redirect(reverse("content:community"))


@login_required
@require_POST
def like_toggle(request, kind: str, pk: int):
    """Like or unlike (liked=1/0) a post or a comment, then back to the post."""
    if kind not in ("post", "comment"):
        raise Http404("Nothing to like here.")
    if kind == "post":
        target = _post_for(request, pk)
        post_id = target.pk
    else:
        target = get_object_or_404(Comment.objects.visible_to(request.user).filter(post__in=Post.objects.visible_to(
            request.user)), pk=pk)
        post_id = target.post_id
    like_set(user=request.user, target=target, liked=request.POST.get("liked") == "1")
    return redirect(reverse("content:post_detail", args=[post_id]))


@login_required
@require_POST
def report_view(request, kind: str, pk: int):
    if kind not in ("post", "comment"):
        raise Http404("Nothing to report here.")
    if kind == "post":
        target = _post_for(request, pk)
        post_id = target.pk
    else:
        target = get_object_or_404(Comment.objects.visible_to(request.user), pk=pk)
        post_id = target.post_id
    try:
        report_create(reporter=request.user, target=target, reason=request.POST.get("reason", ""))
    except ValidationError:
        messages.error(request, "Say what is wrong.")
    else:
        messages.success(request, "Thank you: staff will look at it.")
    return redirect(reverse("content:post_detail", args=[post_id]))


@login_required
def progress_page(request):
    return render(
        request,
        "content/progress.html",
        {
            "continue_lesson": progress_continue(user=request.user),
            "badges": badges_for(user=request.user),
            "courses": course_progress_list(user=request.user),
            "lessons": progress_list(user=request.user),
        },
    )


def article_detail(request, slug: str):
    """The first slice's address of an article, which is now a lesson."""
    query = request.META.get("QUERY_STRING", "")
    url = reverse("content:lesson_detail", args=[slug])
    return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)


def quiz_detail(request, slug: str):
    quiz = get_object_or_404(Quiz.objects.published(), slug=slug)
    viewer = _viewer(request)
    access = quiz_access(viewer=viewer, quiz=quiz)
    # Questions only reach the page of someone who owns the quiz; the right answers only after an attempt.
    questions = list(quiz.questions.all()) if access.is_open else []
    best = quiz_best_attempt(quiz=quiz, user=request.user) if access.is_open else None
    return _page(
        request, "content/quiz_detail.html", viewer, quiz=quiz, access=access, questions=questions, best=best
    )


@require_POST
def quiz_attempt_create(request, slug: str):
    quiz = get_object_or_404(Quiz.objects.published(), slug=slug)
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("content:quiz_detail", args=[slug]))
    answers = {key[2:]: value for key, value in request.POST.items() if key.startswith("q-")}
    try:
        attempt = quiz_attempt_submit(quiz=quiz, user=request.user, viewer=_viewer(request), answers=answers)
    except (InvalidAnswers, ItemLocked) as error:
        messages.error(request, str(error.detail))
        return redirect(reverse("content:quiz_detail", args=[slug]))
    return redirect(reverse("content:quiz_attempt_detail", args=[slug, attempt.pk]))


@login_required
def quiz_attempt_detail(request, slug: str, attempt_id: int):
    attempt = get_object_or_404(
        QuizAttempt.objects.select_related("quiz"), pk=attempt_id, quiz__slug=slug, user=request.user
    )
    best = quiz_best_attempt(quiz=attempt.quiz, user=request.user)
    return render(
        request,
        "content/quiz_attempt.html",
        {"attempt": attempt, "quiz": attempt.quiz, "results": quiz_attempt_results(attempt=attempt), "best": best},
    )
