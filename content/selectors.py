"""Reads: published content, what billing may sell, and what a viewer may open or would pay.

Ownership is billing's record (`purchased_item_ids`, one call per item type and page) and
the price is billing's quote (`purchase_quote`, one call per distinct list price and page),
so this module never decides a price or a right on its own.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from django.db.models import Count, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.safestring import SafeString

from billing.models import ItemType
from billing.money import money_display
from billing.plans import Feature
from billing.purchasables import PricedItem
from billing.selectors import Viewer, access_check, grant_for
from billing.services.pricing import Quote
from billing.services.purchases import purchase_quote
from common.search import search_rank, search_snippet
from content.models import (
    Achievement,
    Chapter,
    ChatMessage,
    Comment,
    Conversation,
    Course,
    Difficulty,
    Lesson,
    Like,
    Post,
    Progress,
    Question,
    Quiz,
    QuizAttempt,
    Report,
    Tier,
)

# --- What billing sells ---------------------------------------------------------------


def article_for_sale(*, slug: str) -> PricedItem | None:
    """A published premium lesson (billing's "article"), priced from our record; free or unpublished: not sold."""
    article = Lesson.objects.published().filter(slug=slug, tier=Tier.PREMIUM).first()
    if article is None:
        return None
    return PricedItem(ItemType.ARTICLE.value, article.slug, article.title, article.price_amount, article.currency)


def quiz_for_sale(*, slug: str) -> PricedItem | None:
    """A published quiz, priced from our record; unpublished ones are not sold."""
    quiz = Quiz.objects.published().filter(slug=slug).first()
    if quiz is None:
        return None
    return PricedItem(ItemType.QUIZ.value, quiz.slug, quiz.title, quiz.price_amount, quiz.currency)


# --- Who is looking -------------------------------------------------------------------


class AccessState(StrEnum):
    FREE = "free"  # a free lesson: open to everyone
    OWNED = "owned"  # bought once by this organization or browser session
    LOCKED = "locked"


@dataclass(frozen=True)
class Offer:
    """What unlocking an item costs this viewer now, as billing would charge it."""

    amount: int
    list_amount: int
    currency: str
    rule: str
    note: str = ""  # "Included in your plan (2 of 3 left this cycle)"

    @property
    def is_free(self) -> bool:
        return self.amount == 0

    @property
    def is_discounted(self) -> bool:
        return 0 < self.amount < self.list_amount

    @property
    def amount_display(self) -> str:
        return money_display(amount=self.amount, currency=self.currency)

    @property
    def list_amount_display(self) -> str:
        return money_display(amount=self.list_amount, currency=self.currency)


@dataclass(frozen=True)
class ItemAccess:
    state: AccessState
    reason: str = ""  # why it is locked, in words
    offer: Offer | None = None  # set when locked

    @property
    def is_open(self) -> bool:
        return self.state != AccessState.LOCKED


@dataclass(frozen=True)
class Entry:
    """An item of a list page with the viewer's access to it."""

    item: Lesson | Quiz
    access: ItemAccess


ARTICLE_LOCKED = "A premium lesson: buy it once to read it in full; it stays yours."
QUIZ_LOCKED = "Buy this quiz once to take it; it stays yours."

_PERIOD_WORDS = {"day": "today", "month": "this month", "cycle": "this cycle"}
_RULE_NOTES = {
    "free_quiz": "Included in your plan",
    "premium_article": "Included in your plan",
    "quiz_discount": "Your plan's quiz discount",
    "article_discount": "Your plan's article discount",
    "manual_discount": "Your organization's discount",
}


@dataclass
class _Pricer:
    """Quotes for one viewer and one page, asked once per item type and list price."""

    viewer: Viewer
    _quotes: dict[tuple[str, int], Quote] = field(default_factory=dict, init=False)
    _notes: dict[str, str] = field(default_factory=dict, init=False)

    def offer(self, *, item_type: str, list_amount: int, currency: str) -> Offer:
        key = (item_type, list_amount)
        if key not in self._quotes:
            self._quotes[key] = purchase_quote(
                organization=self.viewer.organization, item_type=item_type, list_amount=list_amount
            )
        quote = self._quotes[key]
        note = self._note(quote)
        return Offer(amount=quote.amount, list_amount=quote.list_amount, currency=currency, rule=quote.rule, note=note)

    def _note(self, quote: Quote) -> str:
        if quote.rule not in self._notes:
            self._notes[quote.rule] = self._note_compute(quote)
        return self._notes[quote.rule]

    def _note_compute(self, quote: Quote) -> str:
        words = _RULE_NOTES.get(quote.rule, "")
        organization = self.viewer.organization
        if not words or quote.consumes is None or organization is None:
            return words
        return f"{words}{_quota_left(organization_id=organization.pk, feature=quote.consumes)}"


def _quota_left(*, organization_id: int, feature: Feature) -> str:
    """What is left of a plan quota, as ' (2 of 3 left this cycle)'; empty when it is unlimited."""
    access = access_check(organization_id=organization_id, user_id=None, feature=feature.value, cached=False)
    if access.unlimited or access.limit is None:
        return ""
    grant = grant_for(organization_id=organization_id, feature=feature.value)
    period = _PERIOD_WORDS.get(grant.period, "") if grant and grant.period else ""
    return f" ({access.remaining} of {access.limit} left{' ' + period if period else ''})"


def _article_access(*, article: Lesson, owned: set[str], pricer: _Pricer) -> ItemAccess:
    if not article.is_premium:
        return ItemAccess(AccessState.FREE)
    if article.slug in owned:
        return ItemAccess(AccessState.OWNED)
    offer = pricer.offer(item_type=ItemType.ARTICLE.value, list_amount=article.price_amount, currency=article.currency)
    return ItemAccess(AccessState.LOCKED, reason=ARTICLE_LOCKED, offer=offer)


def _quiz_access(*, quiz: Quiz, owned: set[str], pricer: _Pricer) -> ItemAccess:
    if quiz.slug in owned:
        return ItemAccess(AccessState.OWNED)
    offer = pricer.offer(item_type=ItemType.QUIZ.value, list_amount=quiz.price_amount, currency=quiz.currency)
    return ItemAccess(AccessState.LOCKED, reason=QUIZ_LOCKED, offer=offer)


# --- Pages ----------------------------------------------------------------------------


def article_list_published() -> QuerySet[Lesson]:
    """Standalone lessons (not in a course): the first slice's articles."""
    return Lesson.objects.published().filter(principle__isnull=True).defer("body", "body_html", "search_vector")


def quiz_list_published() -> QuerySet[Quiz]:
    return Quiz.objects.published()


def article_entries_for(*, viewer: Viewer) -> list[Entry]:
    """Published standalone lessons with the viewer's access to each (one ownership read for all)."""
    articles = list(article_list_published())
    owned = viewer.owned_item_ids(item_type=ItemType.ARTICLE.value)
    pricer = _Pricer(viewer)
    return [Entry(a, _article_access(article=a, owned=owned, pricer=pricer)) for a in articles]


def quiz_entries_for(*, viewer: Viewer) -> list[Entry]:
    """Published quizzes with the viewer's access to each (one ownership read for all)."""
    quizzes = list(quiz_list_published())
    owned = viewer.owned_item_ids(item_type=ItemType.QUIZ.value)
    pricer = _Pricer(viewer)
    return [Entry(q, _quiz_access(quiz=q, owned=owned, pricer=pricer)) for q in quizzes]


def article_access(*, viewer: Viewer, article: Lesson) -> ItemAccess:
    owned = viewer.owned_item_ids(item_type=ItemType.ARTICLE.value) if article.is_premium else set()
    return _article_access(article=article, owned=owned, pricer=_Pricer(viewer))


def quiz_access(*, viewer: Viewer, quiz: Quiz) -> ItemAccess:
    return _quiz_access(quiz=quiz, owned=viewer.owned_item_ids(item_type=ItemType.QUIZ.value), pricer=_Pricer(viewer))


# --- Courses and lessons --------------------------------------------------------------


def course_list_published() -> QuerySet[Course]:
    return Course.objects.published().defer("description", "description_html", "search_vector")


@dataclass(frozen=True)
class Outline:
    """A course as a reader sees it: chapters, their principles and lessons, and the quizzes."""

    course: Course
    chapters: list[Chapter]
    lessons: list[Lesson]  # in reading order (chapter, principle, lesson)


def course_outline(*, course: Course) -> Outline:
    """The course's published lessons and quizzes in reading order (three queries whatever its size)."""
    chapters = list(
        course.chapters.prefetch_related(
            Prefetch(
                "principles__lessons",
                queryset=Lesson.objects.published().defer("body", "body_html", "search_vector"),
            ),
            Prefetch("quizzes", queryset=Quiz.objects.published().order_by("order", "id").defer("search_vector")),
        )
    )
    principles = [principle for chapter in chapters for principle in chapter.principles.all()]
    lessons = [lesson for principle in principles for lesson in principle.lessons.all()]
    return Outline(course=course, chapters=chapters, lessons=lessons)


@dataclass(frozen=True)
class LessonNavigation:
    previous: dict | None
    next: dict | None
    position: int  # 1-based place in the course
    total: int


LESSON_READING_ORDER = (
    "principle__chapter__order",
    "principle__chapter_id",
    "principle__order",
    "principle_id",
    "order",
    "id",
)


def lesson_navigation(*, lesson: Lesson) -> LessonNavigation | None:
    """Previous and next lessons of the lesson's course (one query); None for a standalone lesson."""
    if lesson.principle_id is None:
        return None
    course_id = lesson.principle.chapter.course_id
    ordered = list(
        Lesson.objects.published()
        .filter(principle__chapter__course_id=course_id)
        .order_by(*LESSON_READING_ORDER)
        .values("pk", "slug", "title")
    )
    index = next((i for i, row in enumerate(ordered) if row["pk"] == lesson.pk), None)
    if index is None:
        return None
    return LessonNavigation(
        previous=ordered[index - 1] if index > 0 else None,
        next=ordered[index + 1] if index + 1 < len(ordered) else None,
        position=index + 1,
        total=len(ordered),
    )


RELATED_LIMIT = 4


def lesson_related(*, lesson: Lesson, limit: int = RELATED_LIMIT) -> list[Lesson]:
    """Lessons of the same principle or sharing a tag, then those most often completed by learners who completed it.

    At most two queries whatever the size of the catalogue.
    """
    base = Lesson.objects.published().exclude(pk=lesson.pk).only("slug", "title", "summary", "kind", "tier")
    shared = Q(tags__in=lesson.tags.all())
    if lesson.principle_id:
        shared |= Q(principle_id=lesson.principle_id)
    related = list(base.filter(shared).distinct().order_by("order", "id")[:limit])
    if len(related) < limit:
        completed_here = Progress.objects.filter(lesson=lesson, completed_at__isnull=False).values("user_id")
        also = (
            base.exclude(pk__in=[r.pk for r in related])
            .filter(progress__user_id__in=completed_here, progress__completed_at__isnull=False)
            .annotate(learners=Count("progress"))
            .order_by("-learners", "id")[: limit - len(related)]
        )
        related += list(also)
    return related


# --- Quiz attempts --------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    chosen: int | None
    is_correct: bool

    @property
    def chosen_text(self) -> str:
        choices = self.question.choices
        return choices[self.chosen] if self.chosen is not None and self.chosen < len(choices) else ""

    @property
    def correct_text(self) -> str:
        return self.question.choices[self.question.correct_index]


def quiz_attempt_results(*, attempt: QuizAttempt) -> list[QuestionResult]:
    """Each question of the attempt's quiz with the answer given and whether it was right."""
    results = []
    for question in attempt.quiz.questions.all():
        chosen = attempt.answers.get(str(question.pk))
        results.append(QuestionResult(question, chosen, chosen == question.correct_index))
    return results


def quiz_best_attempt(*, quiz: Quiz, user) -> QuizAttempt | None:
    if not user.is_authenticated:
        return None
    return QuizAttempt.objects.filter(quiz=quiz, user=user).order_by("-score", "created_at", "id").first()


# --- Progress -------------------------------------------------------------------------


def progress_for(*, user, lesson: Lesson) -> Progress | None:
    if not user.is_authenticated:
        return None
    return Progress.objects.filter(user=user, lesson=lesson).first()


@dataclass(frozen=True)
class ChapterProgress:
    chapter: Chapter
    done: int
    total: int

    @property
    def is_completed(self) -> bool:
        return self.total > 0 and self.done == self.total


@dataclass(frozen=True)
class CourseProgress:
    """Completion derived from lesson progress: a chapter is done when all its lessons are."""

    chapters: list[ChapterProgress]
    completed_lesson_ids: frozenset[int]
    percent_by_lesson: dict[int, int]

    @property
    def done(self) -> int:
        return sum(c.done for c in self.chapters)

    @property
    def total(self) -> int:
        return sum(c.total for c in self.chapters)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def is_completed(self) -> bool:
        return self.total > 0 and self.done == self.total


def course_progress(*, user, outline: Outline) -> CourseProgress | None:
    """The user's completion of each chapter of an outline (one query)."""
    if not user.is_authenticated:
        return None
    rows = Progress.objects.filter(user=user, lesson__in=[lesson.pk for lesson in outline.lessons]).values_list(
        "lesson_id", "percent", "completed_at"
    )
    percent_by_lesson = {lesson_id: percent for lesson_id, percent, _ in rows}
    completed = frozenset(lesson_id for lesson_id, _, completed_at in rows if completed_at is not None)
    chapters = []
    for chapter in outline.chapters:
        ids = [lesson.pk for principle in chapter.principles.all() for lesson in principle.lessons.all()]
        chapters.append(ChapterProgress(chapter, sum(1 for i in ids if i in completed), len(ids)))
    return CourseProgress(chapters, completed, percent_by_lesson)


def chapter_lesson_ids(*, chapter_id: int) -> list[int]:
    return list(Lesson.objects.published().filter(principle__chapter_id=chapter_id).values_list("pk", flat=True))


def course_lesson_ids(*, course_id: int) -> list[int]:
    return list(Lesson.objects.published().filter(principle__chapter__course_id=course_id).values_list("pk", flat=True))


def progress_continue(*, user) -> Lesson | None:
    """Where the user left off: the lesson they last read and did not finish, else the one after their last finished."""
    if not user.is_authenticated:
        return None
    last = (
        Progress.objects.filter(user=user, lesson__is_published=True)
        .select_related("lesson__principle__chapter")
        .order_by("-updated_at", "-id")
        .first()
    )
    if last is None:
        return None
    if last.completed_at is None:
        return last.lesson
    navigation = lesson_navigation(lesson=last.lesson)
    if navigation and navigation.next:
        return Lesson.objects.filter(pk=navigation.next["pk"]).only("slug", "title", "summary").first()
    return None


def progress_list(*, user) -> list[Progress]:
    """The user's lessons, most recently read first."""
    return list(
        Progress.objects.filter(user=user, lesson__is_published=True)
        .select_related("lesson")
        .defer("lesson__body", "lesson__body_html", "lesson__search_vector")[:100]
    )


def course_progress_list(*, user) -> list[tuple[Course, int, int]]:
    """Each published course the user started, with (lessons completed, lessons in total) (two queries)."""
    totals = dict(
        Lesson.objects.published()
        .filter(principle__isnull=False)
        .values_list("principle__chapter__course_id")
        .annotate(n=Count("id"))
        .values_list("principle__chapter__course_id", "n")
    )
    done = dict(
        Progress.objects.filter(
            user=user, completed_at__isnull=False, lesson__is_published=True, lesson__principle__isnull=False
        )
        .values_list("lesson__principle__chapter__course_id")
        .annotate(n=Count("id"))
        .values_list("lesson__principle__chapter__course_id", "n")
    )
    started = set(
        Progress.objects.filter(user=user, lesson__principle__isnull=False).values_list(
            "lesson__principle__chapter__course_id", flat=True
        )
    )
    courses = Course.objects.published().filter(pk__in=started).only("slug", "title")
    return [(course, done.get(course.pk, 0), totals.get(course.pk, 0)) for course in courses]


# --- Search -----------------------------------------------------------------------------


class SearchType(StrEnum):
    LESSON = "lesson"
    TUTORIAL = "tutorial"
    QUIZ = "quiz"
    COURSE = "course"


# Enough candidates per kind to fill the pages people read; ranks merge across kinds.
SEARCH_CANDIDATES = 100


@dataclass(frozen=True)
class SearchFilters:
    type: str = ""  # a SearchType, or empty for all
    course: str = ""  # a course slug
    principle: int | None = None
    difficulty: str = ""
    tier: str = ""  # free or premium (lessons; quizzes are always bought)


@dataclass(frozen=True)
class SearchHit:
    type: str
    slug: str
    title: str
    url: str
    rank: float
    difficulty: str
    tier: str
    query: str = field(default="", repr=False)
    text: str = field(default="", repr=False)  # the snippet's source, plain text...
    html: str = field(default="", repr=False)  # ...then HTML whose tags are dropped

    @cached_property
    def snippet(self) -> SafeString:
        """Made when shown (a page shows 10 of up to 300 hits): escaped, matches in <mark>."""
        text = f"{self.text} {strip_tags(self.html)}" if self.html else self.text
        return search_snippet(text=text, query=self.query)


def _lesson_hits(query: str, filters: SearchFilters) -> list[SearchHit]:
    lessons = Lesson.objects.published()
    if filters.type in (SearchType.LESSON, SearchType.TUTORIAL):
        lessons = lessons.filter(kind=filters.type)
    if filters.course:
        lessons = lessons.filter(principle__chapter__course__slug=filters.course)
    if filters.principle:
        lessons = lessons.filter(principle_id=filters.principle)
    if filters.difficulty:
        lessons = lessons.filter(difficulty=filters.difficulty)
    if filters.tier:
        lessons = lessons.filter(tier=filters.tier)
    ranked = search_rank(queryset=lessons.defer("search_vector"), query=query, limit=SEARCH_CANDIDATES)
    return [
        SearchHit(
            lesson.kind, lesson.slug, lesson.title, reverse("content:lesson_detail", args=[lesson.slug]),
            lesson.search_rank, lesson.difficulty, lesson.tier, query=query, text=lesson.summary, html=lesson.body_html,
        )
        for lesson in ranked
    ]


def _quiz_hits(query: str, filters: SearchFilters) -> list[SearchHit]:
    if filters.tier or filters.principle:
        return []  # a quiz is neither free nor premium: always bought once
    quizzes = Quiz.objects.published()
    if filters.course:
        quizzes = quizzes.filter(chapter__course__slug=filters.course)
    if filters.difficulty:
        quizzes = quizzes.filter(difficulty=filters.difficulty)
    ranked = search_rank(queryset=quizzes.defer("search_vector"), query=query, limit=SEARCH_CANDIDATES)
    return [
        SearchHit(
            SearchType.QUIZ, quiz.slug, quiz.title, reverse("content:quiz_detail", args=[quiz.slug]),
            quiz.search_rank, quiz.difficulty, "purchasable", query=query, text=quiz.description,
        )
        for quiz in ranked
    ]


def _course_hits(query: str, filters: SearchFilters) -> list[SearchHit]:
    if filters.tier or filters.principle:
        return []
    courses = Course.objects.published()
    if filters.course:
        courses = courses.filter(slug=filters.course)
    if filters.difficulty:
        courses = courses.filter(difficulty=filters.difficulty)
    ranked = search_rank(queryset=courses.defer("search_vector"), query=query, limit=SEARCH_CANDIDATES)
    return [
        SearchHit(
            SearchType.COURSE, course.slug, course.title, reverse("content:course_detail", args=[course.slug]),
            course.search_rank, course.difficulty, "", query=query, text=f"{course.summary} {course.description}",
        )
        for course in ranked
    ]


def content_search(*, query: str, filters: SearchFilters = SearchFilters()) -> list[SearchHit]:
    """Lessons, tutorials, quizzes and courses matching `query`, best first (common.search's ranking).

    Locked items are found too (their title, summary and a snippet, as on their locked
    page); a page opens them or offers them. At most SEARCH_CANDIDATES of each kind.
    """
    kinds = {
        SearchType.LESSON: _lesson_hits, SearchType.TUTORIAL: _lesson_hits,
        SearchType.QUIZ: _quiz_hits, SearchType.COURSE: _course_hits,
    }
    wanted = [kinds[filters.type]] if filters.type in kinds else [_lesson_hits, _quiz_hits, _course_hits]
    hits = [hit for search in wanted for hit in search(query, filters)]
    order = {kind: i for i, kind in enumerate(SearchType)}
    return sorted(hits, key=lambda hit: (-hit.rank, order[hit.type], hit.slug))


def search_filter_choices() -> dict:
    """What the search page's filters offer (one query)."""
    return {
        "types": [(t.value, t.value.capitalize()) for t in SearchType],
        "courses": list(Course.objects.published().values_list("slug", "title")),
        "difficulties": Difficulty.choices,
        "tiers": Tier.choices,
    }


# --- Achievements -------------------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    code: str
    name: str
    description: str
    awarded_at: object


def badges_for(*, user) -> list[Badge]:
    """The achievements a user earned, in the order earned (one query)."""
    from content.achievements import BY_CODE

    return [
        Badge(a.code, BY_CODE[a.code].name, BY_CODE[a.code].description, a.awarded_at)
        for a in Achievement.objects.filter(user=user)
        if a.code in BY_CODE
    ]


# --- Recommendations ----------------------------------------------------------------------

RECOMMENDED_LIMIT = 4


def lessons_recommended(*, user, limit: int = RECOMMENDED_LIMIT) -> list[Lesson]:
    """"Recommended for you": unread lessons of the courses and tags the user read, then the most completed.

    Three queries whatever the catalogue's size; visitors get the most completed lessons.
    """
    base = Lesson.objects.published().only("slug", "title", "summary", "kind", "tier")
    if not user.is_authenticated:
        return list(base.annotate(done=Count("progress", filter=Q(progress__completed_at__isnull=False)))
                    .order_by("-done", "order", "id")[:limit])
    read = Progress.objects.filter(user=user)
    courses = read.filter(lesson__principle__isnull=False).values("lesson__principle__chapter__course_id")
    tags = Lesson.tags.through.objects.filter(lesson_id__in=read.values("lesson_id")).values("tag_id")
    unread = base.exclude(pk__in=read.values("lesson_id"))
    picked = list(
        unread.filter(Q(principle__chapter__course_id__in=courses) | Q(tags__in=tags))
        .distinct()
        .order_by(*LESSON_READING_ORDER)[:limit]
    )
    if len(picked) < limit:
        popular = (
            unread.exclude(pk__in=[lesson.pk for lesson in picked])
            .annotate(done=Count("progress", filter=Q(progress__completed_at__isnull=False)))
            .order_by("-done", "order", "id")[: limit - len(picked)]
        )
        picked += list(popular)
    return picked


def content_data_for_person(*, user) -> dict:
    """A person's learning and community data for their GDPR export: progress, quiz attempts,
    achievements, AI tutor conversations with every message, posts, comments, likes, reports."""
    conversations = Conversation.objects.filter(user=user).prefetch_related(
        Prefetch("messages", queryset=ChatMessage.objects.order_by("created_at", "id"))
    )
    return {
        "progress": [
            {
                "lesson": p.lesson.slug,
                "lesson_title": p.lesson.title,
                "percent": p.percent,
                "position": p.position,
                "seconds_spent": p.seconds_spent,
                "started_at": p.started_at,
                "completed_at": p.completed_at,
                "updated_at": p.updated_at,
            }
            for p in Progress.objects.filter(user=user).select_related("lesson").order_by("started_at", "id")
        ],
        "quiz_attempts": [
            {"quiz": a.quiz.slug, "answers": a.answers, "score": a.score, "total": a.total, "created_at": a.created_at}
            for a in QuizAttempt.objects.filter(user=user).select_related("quiz").order_by("created_at", "id")
        ],
        "achievements": [
            {"code": a.code, "awarded_at": a.awarded_at} for a in Achievement.objects.filter(user=user).order_by("id")
        ],
        "tutor_conversations": [
            {
                "id": c.pk,
                "title": c.title,
                "created_at": c.created_at,
                "messages": [
                    {"role": m.role, "content": m.content, "citations": m.citations, "created_at": m.created_at}
                    for m in c.messages.all()
                ],
            }
            for c in conversations.order_by("created_at", "id")
        ],
        "posts": [
            {
                "id": p.pk,
                "lesson": p.lesson.slug if p.lesson else None,
                "title": p.title,
                "body": p.body,
                "hidden_by_staff": p.is_hidden,
                "created_at": p.created_at,
                "updated_at": p.updated_at,
            }
            for p in Post.objects.filter(author=user).select_related("lesson").order_by("created_at", "id")
        ],
        "comments": [
            {
                "id": c.pk,
                "post": c.post_id,
                "reply_to": c.parent_id,
                "body": c.body,
                "hidden_by_staff": c.is_hidden,
                "created_at": c.created_at,
                "updated_at": c.updated_at,
            }
            for c in Comment.objects.filter(author=user).order_by("created_at", "id")
        ],
        "likes": [
            {"post": like.post_id, "comment": like.comment_id, "created_at": like.created_at}
            for like in Like.objects.filter(user=user).order_by("created_at", "id")
        ],
        "reports": [
            {"post": r.post_id, "comment": r.comment_id, "reason": r.reason, "created_at": r.created_at}
            for r in Report.objects.filter(reporter=user).order_by("created_at", "id")
        ],
    }


# The models content_data_for_person exports (left out of the GDPR export's generic walk).
CONTENT_EXPORT_COVERS = [
    "content.Progress",
    "content.QuizAttempt",
    "content.Achievement",
    "content.Conversation",
    "content.Post",
    "content.Comment",
    "content.Like",
    "content.Report",
]
