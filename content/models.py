"""Learning content: courses of chapters, principles and lessons; quizzes; what billing sells.

- A `Course` has `Chapter`s, a chapter has `Principle`s, a principle has `Lesson`s, each
  level in an explicit `order` (editable inline in the admin).
- A `Lesson` (kind "lesson" or "tutorial") is free (anyone reads it) or premium. A premium
  lesson is what billing calls an *article*: bought once for its `price_amount`, and
  Premium subscribers get some a cycle from their plan. A lesson without a principle is a
  standalone article (the first slice's articles are such lessons).
- A `Quiz` is always bought once, for its `price_amount`; it may belong to a chapter. Its
  `Question`s and their answers show to owners only, and the right answers only after an
  attempt is submitted.

Billing knows these items only through the resolvers registered in `ContentConfig.ready`
(`content.selectors.article_for_sale` / `quiz_for_sale`): the item id billing stores on a
Purchase is the item's **slug**, so a slug is fixed once created (read-only in the admin)
or the purchases of the item would point at nothing. Who owns what is billing's record
(`billing.selectors.purchased_item_ids`), and what a viewer would pay comes from
`billing.services.purchases.purchase_quote`; `content.selectors` combines them into the
lock state the pages show.

Bodies are Markdown; the sanitized HTML is rendered on save (`content.markdown`) into a
`*_html` column, so a page never renders Markdown. Courses, lessons and quizzes are
searchable through `common.search` (their weighted document is kept current on save).
Prices are integer minor units with an ISO currency code, as everywhere.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from common.search import SearchIndexed, search_indexes
from content.markdown import markdown_to_html

# billing.models.Purchase.item_id is 64 characters long: a slug must fit in it.
SLUG_MAX_LENGTH = 64
CURRENCY_PATTERN = r"^[a-z]{3}$"


class PublishedQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class Tier(models.TextChoices):
    FREE = "free", "Free"
    PREMIUM = "premium", "Premium"


class Difficulty(models.TextChoices):
    BEGINNER = "beginner", "Beginner"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"


class LessonKind(models.TextChoices):
    LESSON = "lesson", "Lesson"
    TUTORIAL = "tutorial", "Tutorial"  # step by step, with prompt and code blocks


class Course(SearchIndexed):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True)
    summary = models.TextField(blank=True)
    description = models.TextField(blank=True, help_text="Markdown.")
    description_html = models.TextField(blank=True, editable=False)
    difficulty = models.CharField(max_length=16, choices=Difficulty.choices, default=Difficulty.BEGINNER)
    order = models.PositiveIntegerField(default=0)
    is_published = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    SEARCH_FIELDS = {"title": "A", "summary": "B", "description": "C"}
    objects = PublishedQuerySet.as_manager()

    class Meta:
        ordering = ["order", "id"]
        indexes = search_indexes("content_course")

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.description_html = markdown_to_html(self.description)
        super().save(*args, **kwargs)


class Chapter(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="chapters")
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self):
        return self.title


class Principle(models.Model):
    """One idea a chapter teaches; its lessons practise it."""

    chapter = models.ForeignKey(Chapter, on_delete=models.CASCADE, related_name="principles")
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self):
        return self.title


class Tag(models.Model):
    name = models.CharField(max_length=50)
    slug = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Lesson(SearchIndexed):
    """A lesson or tutorial; a premium one is sold once (billing's item type "article")."""

    principle = models.ForeignKey(
        Principle, on_delete=models.SET_NULL, null=True, blank=True, related_name="lessons",
        help_text="Empty for a standalone article.",
    )
    kind = models.CharField(max_length=16, choices=LessonKind.choices, default=LessonKind.LESSON)
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, help_text="Also the id purchases refer to.")
    summary = models.TextField(blank=True, help_text="Shown to everyone, also while the lesson is locked.")
    body = models.TextField(help_text="Markdown.")
    body_html = models.TextField(blank=True, editable=False)
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.FREE)
    price_amount = models.PositiveIntegerField(
        default=0, help_text="List price of buying it once, in minor units (cents). Required for premium."
    )
    currency = models.CharField(max_length=3, default="usd", help_text="ISO code, lower case.")
    difficulty = models.CharField(max_length=16, choices=Difficulty.choices, default=Difficulty.BEGINNER)
    minutes = models.PositiveSmallIntegerField(default=5, help_text="Reading time, in minutes.")
    order = models.PositiveIntegerField(default=0)
    tags = models.ManyToManyField(Tag, blank=True, related_name="lessons")
    is_published = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    SEARCH_FIELDS = {"title": "A", "summary": "B", "body": "C"}
    objects = PublishedQuerySet.as_manager()

    class Meta:
        ordering = ["order", "id"]
        indexes = search_indexes("content_lesson")
        constraints = [
            models.CheckConstraint(
                condition=Q(tier=Tier.FREE) | Q(price_amount__gt=0), name="content_lesson_premium_has_price"
            ),
            models.CheckConstraint(condition=Q(tier__in=Tier.values), name="content_lesson_tier_valid"),
            models.CheckConstraint(condition=Q(currency__regex=CURRENCY_PATTERN), name="content_lesson_currency_iso"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.body_html = markdown_to_html(self.body)
        super().save(*args, **kwargs)

    @property
    def is_premium(self) -> bool:
        return self.tier == Tier.PREMIUM


class Quiz(SearchIndexed):
    chapter = models.ForeignKey(
        Chapter, on_delete=models.SET_NULL, null=True, blank=True, related_name="quizzes",
        help_text="The chapter it tests, if any.",
    )
    order = models.PositiveIntegerField(default=0)
    difficulty = models.CharField(max_length=16, choices=Difficulty.choices, default=Difficulty.BEGINNER)
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, help_text="Also the id purchases refer to.")
    description = models.TextField(blank=True, help_text="Shown to everyone, also while the quiz is locked.")
    price_amount = models.PositiveIntegerField(help_text="List price of buying it once, in minor units (cents).")
    currency = models.CharField(max_length=3, default="usd", help_text="ISO code, lower case.")
    is_published = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    SEARCH_FIELDS = {"title": "A", "description": "B"}
    objects = PublishedQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]
        verbose_name_plural = "quizzes"
        indexes = search_indexes("content_quiz")
        constraints = [
            models.CheckConstraint(condition=Q(price_amount__gt=0), name="content_quiz_has_price"),
            models.CheckConstraint(condition=Q(currency__regex=CURRENCY_PATTERN), name="content_quiz_currency_iso"),
        ]

    def __str__(self):
        return self.title


class Question(models.Model):
    """One multiple-choice question; the right answer and the explanation show after an attempt."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    choices = models.JSONField(default=list, help_text='A list of answers, e.g. ["Yes", "No"].')
    correct_index = models.PositiveSmallIntegerField(help_text="Position of the right answer in choices, from 0.")
    explanation = models.TextField(blank=True, help_text="Why the right answer is right; shown after submitting.")

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["quiz", "order"], name="content_question_order_unique")]

    def __str__(self):
        return self.text[:80]

    def clean(self):
        # A JSON list's length cannot be checked portably in the database: forms check it here.
        choices = self.choices
        if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) and c for c in choices):
            raise ValidationError({"choices": "Give a list of at least two non-empty answers."})
        if self.correct_index is not None and self.correct_index >= len(choices):
            last = len(choices) - 1
            raise ValidationError({"correct_index": f"Must point at one of the answers: 0 to {last}."})


class QuizAttempt(models.Model):
    """One submitted attempt, graded on the server; every attempt is kept, the best one is shown."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts")
    answers = models.JSONField(default=dict, help_text="Question id → the index of the chosen answer.")
    score = models.PositiveSmallIntegerField()
    total = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "quiz", "-score"], name="content_attempt_best")]
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=models.F("total")), name="content_attempt_score_le_total")
        ]

    def __str__(self):
        return f"{self.user_id} · {self.quiz_id}: {self.score}/{self.total}"

    @property
    def is_perfect(self) -> bool:
        return self.total > 0 and self.score == self.total


class Progress(models.Model):
    """How far a user is in a lesson, merged from every device: never backwards, nothing lost.

    percent and position only grow (the highest a device reported), time spent adds up
    the seconds each write reports, completed_at is set once.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_progress")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    percent = models.PositiveSmallIntegerField(default=0)
    position = models.PositiveIntegerField(default=0, help_text="Where the reader was, as the device reports it.")
    seconds_spent = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "progress"
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "lesson"], name="content_progress_one_per_lesson"),
            models.CheckConstraint(condition=Q(percent__lte=100), name="content_progress_percent_le_100"),
        ]
        indexes = [models.Index(fields=["user", "-updated_at"], name="content_progress_recent")]

    def __str__(self):
        return f"{self.user_id} · {self.lesson_id}: {self.percent}%"

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None


class Conversation(models.Model):
    """A chat with the AI tutor, owned by a user or, signed out, by a browser session's chat id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="conversations"
    )
    anonymous_owner = models.CharField(max_length=64, blank=True, db_index=True, help_text="A signed-out owner.")
    title = models.CharField(max_length=120, default="New conversation")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-created_at"]
        indexes = [models.Index(fields=["user", "-updated_at"], name="content_conversation_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(anonymous_owner=""), name="content_conversation_has_owner"
            )
        ]

    def __str__(self):
        return self.title


class ChatRole(models.TextChoices):
    USER = "user", "Learner"
    ASSISTANT = "assistant", "Tutor"


class ChatMessage(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=ChatRole.choices)
    content = models.TextField()
    citations = models.JSONField(default=list, blank=True, help_text='[{"title": ..., "url": ...}]')
    provider = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="content_message_in_order")]

    def __str__(self):
        return f"{self.role}: {self.content[:60]}"


class Achievement(models.Model):
    """A badge a user earned; the codes and rules are `content.achievements.ACHIEVEMENTS`. Once per user and code."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="achievements")
    code = models.CharField(max_length=32)
    awarded_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["awarded_at", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "code"], name="content_achievement_once")]

    def __str__(self):
        return f"{self.user_id}: {self.code}"


# --- Community ------------------------------------------------------------------------------


class VisibleQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Hidden items show only to their author and to staff."""
        if getattr(user, "is_staff", False):
            return self
        if user is not None and user.is_authenticated:
            return self.filter(Q(is_hidden=False) | Q(author=user))
        return self.filter(is_hidden=False)


class Post(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    lesson = models.ForeignKey(Lesson, on_delete=models.SET_NULL, null=True, blank=True, related_name="posts")
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown.")
    body_html = models.TextField(blank=True, editable=False)
    is_hidden = models.BooleanField(default=False, help_text="Hidden by staff: only the author and staff see it.")
    is_locked = models.BooleanField(default=False, help_text="Locked by staff: no new comments or edits.")
    like_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["lesson", "-created_at"], name="content_post_by_lesson")]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.body_html = markdown_to_html(self.body)
        super().save(*args, **kwargs)


class Comment(models.Model):
    """A comment on a post, or a reply to a top-level comment (one level of replies)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    body = models.TextField()
    body_html = models.TextField(blank=True, editable=False)
    is_hidden = models.BooleanField(default=False)
    like_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.body[:60]

    def save(self, *args, **kwargs):
        self.body_html = markdown_to_html(self.body)
        super().save(*args, **kwargs)


class Like(models.Model):
    """One user's like of a post or of a comment; the counts on posts and comments follow these rows exactly."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, null=True, blank=True, related_name="likes")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="likes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(post__isnull=False, comment__isnull=True) | Q(post__isnull=True, comment__isnull=False),
                name="content_like_one_target",
            ),
            models.UniqueConstraint(fields=["user", "post"], condition=Q(post__isnull=False),
                                    name="content_like_post_once"),
            models.UniqueConstraint(fields=["user", "comment"], condition=Q(comment__isnull=False),
                                    name="content_like_comment_once"),
        ]

    def __str__(self):
        target = f"post {self.post_id}" if self.post_id else f"comment {self.comment_id}"
        return f"{self.user_id} likes {target}"


class Report(models.Model):
    """A member flags a post or a comment for staff."""

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, null=True, blank=True, related_name="reports")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="reports")
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["resolved_at", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(post__isnull=False, comment__isnull=True) | Q(post__isnull=True, comment__isnull=False),
                name="content_report_one_target",
            ),
        ]

    def __str__(self):
        return self.reason[:60]


class PostingSuspension(models.Model):
    """Staff stop a member from posting and commenting, for good or until a time."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posting_suspension")
    reason = models.CharField(max_length=500)
    until = models.DateTimeField(null=True, blank=True, help_text="Empty: until staff lift it.")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.user}: {self.reason[:40]}"

    def is_active(self, now) -> bool:
        return self.until is None or self.until > now
