"""Writes of learning content: quiz attempts, progress, conversations, community.

Each service takes keyword-only arguments, checks the rules, and writes inside one
transaction; work that must follow the commit (awarding achievements, emails) goes
through `transaction.on_commit`.
"""

import logging
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from accounts.models import Organization
from accounts.selectors.organizations import organization_id_primary
from billing.exceptions import NotEntitled, QuotaExceeded
from billing.plans import Feature
from billing.selectors import Viewer, access_check
from billing.services.usage import usage_release, usage_track
from common.ai import AIError, Message, Reply, ai_stream
from common.events import EventSource, track
from content.achievements import ACHIEVEMENTS, BY_CODE
from content.exceptions import (
    ChatNotEntitled,
    ChatQuotaExceeded,
    InvalidAnswers,
    ItemLocked,
    PostingRateLimited,
    PostingRefused,
    TutorUnavailable,
)
from content.models import (
    Achievement,
    ChatMessage,
    ChatRole,
    Comment,
    Conversation,
    Lesson,
    Like,
    Post,
    PostingSuspension,
    Progress,
    Quiz,
    QuizAttempt,
    Report,
)
from content.selectors import SearchFilters, article_access, quiz_access
from content.tutor import lesson_retriever

logger = logging.getLogger(__name__)

# --- Quizzes ------------------------------------------------------------------------------


def quiz_attempt_submit(*, quiz: Quiz, user, viewer: Viewer, answers: Mapping) -> QuizAttempt:
    """Grade the answers on the server and keep the attempt.

    `answers` maps a question id to the index of the chosen answer (a missing or None
    answer counts as wrong). The quiz must be open to the viewer (owned); an unknown
    question or an index outside the answers refuses the whole attempt and stores nothing.
    """
    if not quiz_access(viewer=viewer, quiz=quiz).is_open:
        raise ItemLocked()
    questions = list(quiz.questions.all())
    if not questions:
        raise InvalidAnswers("This quiz has no questions yet.")
    by_id = {str(question.pk): question for question in questions}
    chosen: dict[str, int] = {}
    for key, value in answers.items():
        question = by_id.get(str(key))
        if question is None:
            raise InvalidAnswers(f"Question {key} is not part of this quiz.")
        if value is None or value == "":
            continue
        try:
            index = int(value)
        except (TypeError, ValueError):
            raise InvalidAnswers(f"Question {key}: answer with a number.") from None
        if isinstance(value, bool) or not 0 <= index < len(question.choices):
            raise InvalidAnswers(f"Question {key}: choose an answer from 0 to {len(question.choices) - 1}.")
        chosen[str(question.pk)] = index
    score = sum(1 for question in questions if chosen.get(str(question.pk)) == question.correct_index)
    with transaction.atomic():
        attempt = QuizAttempt.objects.create(quiz=quiz, user=user, answers=chosen, score=score, total=len(questions))
        _achievements_check_after_commit(user_id=user.pk)
    return attempt


# --- Search ---------------------------------------------------------------------------------


def content_search_record(*, source: EventSource, query: str, filters: SearchFilters, results: int) -> None:
    """One `search` event for a search someone made (its first page: turning pages is the same search)."""
    track(
        "search",
        source=source,
        organization_id=organization_id_primary(user_id=source.user_id),
        item_type="content",
        properties={
            "query": query[:200],
            "results": results,
            **{name: value for name, value in vars(filters).items() if value not in ("", None)},
        },
    )


# --- Progress -----------------------------------------------------------------------------

# A device reports the seconds since its last write; more than this in one write is not reading.
PROGRESS_MAX_SECONDS_PER_WRITE = 3600


@dataclass(frozen=True)
class ProgressWrite:
    progress: Progress
    newly_completed: bool


def _progress_merge_sql() -> str:
    """One upsert that merges a device's report: the row is created or moved, never read first.

    PostgreSQL and SQLite (3.35+) both take INSERT … ON CONFLICT DO UPDATE … RETURNING;
    SQLite spells GREATEST as the two-argument MAX. The table name comes from the model and
    every value is a parameter.
    """
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    return f"""
INSERT INTO {Progress._meta.db_table} AS p
  (user_id, lesson_id, percent, position, seconds_spent, started_at, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (user_id, lesson_id) DO UPDATE SET
  percent = {greatest}(p.percent, EXCLUDED.percent),
  position = {greatest}(p.position, EXCLUDED.position),
  seconds_spent = p.seconds_spent + EXCLUDED.seconds_spent,
  updated_at = EXCLUDED.updated_at
RETURNING id, user_id, lesson_id, percent, position, seconds_spent, started_at, completed_at, updated_at
"""  # noqa: S608


def progress_record(
    *,
    user,
    lesson: Lesson,
    viewer: Viewer,
    percent: int,
    position: int = 0,
    seconds: int = 0,
    completed: bool = False,
    now: datetime | None = None,
    source: EventSource | None = None,
) -> ProgressWrite:
    """Merge one device's report into the user's progress on a lesson.

    One statement, never read-then-write: an upsert keeps the maximum of the stored and the
    reported percent and position (a stale device cannot move them back) and adds the
    seconds, and returns the row. A report reaching 100 % on a lesson not yet completed
    then claims the completion with one conditional UPDATE, so exactly one write sees
    `newly_completed` however many devices finish at once. Only lessons open to the viewer
    are recorded.
    The first write and the completing one are `lesson_progress` events (stage "started",
    "completed"), after the commit; other writes, however many devices send them, are not.
    """
    if not article_access(viewer=viewer, article=lesson).is_open:
        raise ItemLocked()
    now = now or timezone.now()
    percent = 100 if completed else max(0, min(100, int(percent)))
    seconds = max(0, min(PROGRESS_MAX_SECONDS_PER_WRITE, int(seconds)))
    # Raw SQL bypasses field adaptation: convert the datetime as the ORM stores it.
    stored_now = connection.ops.adapt_datetimefield_value(now)
    params = [user.pk, lesson.pk, percent, max(0, int(position)), seconds, stored_now, stored_now]
    progress = next(iter(Progress.objects.raw(_progress_merge_sql(), params)))
    newly_completed = False
    if percent == 100 and progress.completed_at is None:
        mine = Progress.objects.filter(pk=progress.pk)
        newly_completed = mine.filter(completed_at__isnull=True).update(completed_at=now) == 1
        # The loser of a race to complete reads the winner's time.
        progress.completed_at = now if newly_completed else mine.values_list("completed_at", flat=True).get()
        if newly_completed:
            _achievements_check_after_commit(user_id=user.pk)
    progress.lesson = lesson
    # Only the write that created the row started it at this call's `now`.
    newly_started = progress.started_at == now
    for stage, happened in (("started", newly_started), ("completed", newly_completed)):
        if happened:
            track(
                "lesson_progress",
                source=source,
                organization_id=viewer.organization.pk if viewer.organization else None,
                user_id=user.pk,
                item_type="lesson",
                item_id=lesson.slug,
                properties={"stage": stage, "percent": progress.percent},
            )
    return ProgressWrite(progress, newly_completed)


# --- The AI tutor -------------------------------------------------------------------------

CHAT_SESSION_FIELD = "content_chat_owner"
TITLE_CHARS = 60


def chat_owner_id(session, *, create: bool = False) -> str:
    """The browser session's id for conversations started signed out (kept in the session's data)."""
    value = session.get(CHAT_SESSION_FIELD, "")
    if not value and create:
        value = secrets.token_urlsafe(24)
        session[CHAT_SESSION_FIELD] = value
    return value


def conversation_create(*, user=None, anonymous_owner: str = "", title: str = "") -> Conversation:
    if user is None and not anonymous_owner:
        raise ValueError("a conversation needs an owner")
    return Conversation.objects.create(
        user=user, anonymous_owner="" if user else anonymous_owner, title=(title.strip() or "New conversation")[:120]
    )


def conversation_rename(*, conversation: Conversation, title: str) -> Conversation:
    title = title.strip()[:120]
    if not title:
        raise ValidationError({"title": "Give the conversation a title."})
    Conversation.objects.filter(pk=conversation.pk).update(title=title)
    conversation.title = title
    return conversation


def conversation_delete(*, conversation: Conversation) -> None:
    """Gone for good, with its messages."""
    conversation.delete()


def conversations_attach_anonymous(*, anonymous_owner: str, user) -> int:
    """A visitor's conversations become the account's when they sign up or sign in; returns how many."""
    if not anonymous_owner:
        return 0
    return Conversation.objects.filter(user__isnull=True, anonymous_owner=anonymous_owner).update(
        user=user, anonymous_owner=""
    )


def _chat_usage_key(question: ChatMessage) -> str:
    """The usage ledger's key for the chat a question spent: its release finds it again."""
    return f"content-chat:{question.conversation_id}:{question.pk}"


def _chat_count(*, user, organization: Organization | None, anonymous_owner: str, question: ChatMessage,
                now: datetime):
    """Count one chat against the quota, or refuse it (nothing counted then).

    Members: billing's usage service, feature `ai_chat` per member (Free: 5 a day;
    Premium: unlimited). Visitors: CONTENT_CHAT_ANONYMOUS_DAILY questions a day per
    browser, counted from their stored questions (before this one).
    """
    if user is not None:
        if organization is None:
            raise ChatNotEntitled()
        try:
            usage_track(
                organization=organization, user_id=user.pk, feature=Feature.AI_CHAT.value, quantity=1,
                idempotency_key=_chat_usage_key(question), now=now,
            )
        except NotEntitled:
            raise ChatNotEntitled() from None
        except QuotaExceeded:
            access = access_check(
                organization_id=organization.pk, user_id=user.pk, feature=Feature.AI_CHAT.value, now=now, cached=False
            )
            raise ChatQuotaExceeded(_quota_message(limit=access.limit, resets_at=access.resets_at, now=now)) from None
        return
    limit = settings.CONTENT_CHAT_ANONYMOUS_DAILY
    day_start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    asked = ChatMessage.objects.filter(
        conversation__anonymous_owner=anonymous_owner, role=ChatRole.USER, created_at__gte=day_start
    ).exclude(pk=question.pk).count()
    if asked >= limit:
        resets_at = day_start + timedelta(days=1)
        raise ChatQuotaExceeded(
            f"Visitors get {limit} questions a day; more at {resets_at:%Y-%m-%d %H:%M} UTC. "
            "Sign up free for 5 chats a day, or go Premium for unlimited chats."
        )


def _quota_message(*, limit: int | None, resets_at: datetime | None, now: datetime) -> str:
    when = f" They reset at {resets_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if resets_at else ""
    if resets_at:
        hours = max(0, int((resets_at - now).total_seconds() // 3600))
        minutes = max(0, int((resets_at - now).total_seconds() // 60 % 60))
        when += f" (in {hours} h {minutes:02d} min)."
    else:
        when += "."
    return f"You have used your {limit} free AI chats for today.{when} Upgrade to Premium for unlimited chats."


@dataclass(frozen=True)
class ChatTurn:
    question: ChatMessage
    answer: ChatMessage


def chat_question_record(
    *,
    conversation: Conversation,
    user,
    organization: Organization | None,
    question: str,
    now: datetime | None = None,
) -> ChatMessage:
    """Keep the question and count the chat (or refuse it: then nothing is kept), in one transaction."""
    question = question.strip()
    if not question:
        raise ValidationError({"content": "Ask a question."})
    if len(question) > settings.CONTENT_CHAT_MAX_CHARS:
        raise ValidationError({"content": f"Keep a question under {settings.CONTENT_CHAT_MAX_CHARS} characters."})
    now = now or timezone.now()
    with transaction.atomic():
        # Saved first so the usage key names it; a refusal below rolls it back.
        asked = ChatMessage.objects.create(
            conversation=conversation, role=ChatRole.USER, content=question, created_at=now
        )
        _chat_count(
            user=user, organization=organization, anonymous_owner=conversation.anonymous_owner, question=asked,
            now=now,
        )
        fields = {"updated_at": now}
        if conversation.title == "New conversation":
            fields["title"] = question[:TITLE_CHARS]
        Conversation.objects.filter(pk=conversation.pk).update(**fields)
    return asked


def chat_answer_stream(
    *, conversation: Conversation, viewer: Viewer, question: ChatMessage | None = None
) -> Iterator[str | ChatMessage]:
    """The tutor's answer to the conversation so far: text pieces, then the stored answer.

    Runs outside any transaction (the provider may be slow). A provider failure raises
    TutorUnavailable and stores no answer: the question stays, unanswered, and the chat
    that `question` spent is given back to the member's quota (once: billing's release is
    claimed by a conditional UPDATE), so a failure never uses up a chat.
    """
    history = list(conversation.messages.order_by("-created_at", "-id")[: settings.CONTENT_CHAT_HISTORY])[::-1]
    messages = [Message(m.role, m.content) for m in history]
    try:
        for piece in ai_stream(messages=messages, retriever=lesson_retriever(viewer)):
            if isinstance(piece, Reply):
                reply = piece
            else:
                yield piece
    except AIError as error:
        logger.warning("tutor provider failed: %s", error, extra={"conversation": str(conversation.pk)})
        given_back = (
            question is not None
            and conversation.user_id is not None
            and viewer.organization is not None
            and usage_release(organization=viewer.organization, idempotency_key=_chat_usage_key(question))
        )
        counted = " It did not count against your chats." if given_back else ""
        raise TutorUnavailable(f"{error} Your question is kept; send it again later.{counted}") from error
    yield ChatMessage.objects.create(
        conversation=conversation,
        role=ChatRole.ASSISTANT,
        content=reply.text,
        citations=[{"title": s.title, "url": s.url} for s in reply.citations],
        provider=reply.provider,
        created_at=timezone.now(),
    )


def chat_ask(
    *,
    conversation: Conversation,
    user,
    organization: Organization | None,
    viewer: Viewer,
    question: str,
    now: datetime | None = None,
) -> ChatTurn:
    """Ask the tutor and wait for the whole answer (the API; the page streams it).

    The question is stored with its count in one transaction; the provider is called after
    the commit, outside any transaction. If it fails (TutorUnavailable), the question stays
    in the conversation, the chat is given back, and nothing else changes.
    """
    asked = chat_question_record(
        conversation=conversation, user=user, organization=organization, question=question, now=now
    )
    answer = None
    for piece in chat_answer_stream(conversation=conversation, viewer=viewer, question=asked):
        if isinstance(piece, ChatMessage):
            answer = piece
    return ChatTurn(asked, answer)


# --- Achievements ---------------------------------------------------------------------------


def _achievements_check_after_commit(*, user_id: int) -> None:
    from content.tasks import achievements_award_task  # tasks import services: import at call time

    # robust: the lesson or attempt is recorded; a broker hiccup must not turn it into an error.
    transaction.on_commit(lambda: achievements_award_task.delay(user_id=user_id), robust=True)


def achievements_award(*, user_id: int, now: datetime | None = None) -> list[Achievement]:
    """Record every achievement the user has earned and not yet got; returns the new ones.

    Idempotent: the unique (user, code) constraint makes a second run, or a concurrent
    one, award nothing new. Each new achievement's email is sent once, after the commit.
    """
    now = now or timezone.now()
    have = set(Achievement.objects.filter(user_id=user_id).values_list("code", flat=True))
    new = []
    for definition in ACHIEVEMENTS:
        if definition.code in have or not definition.earned(user_id):
            continue
        with transaction.atomic():
            achievement, created = Achievement.objects.get_or_create(
                user_id=user_id, code=definition.code, defaults={"awarded_at": now}
            )
            if created:
                new.append(achievement)
                achievement_id = achievement.pk
                from content.tasks import achievement_email_task

                transaction.on_commit(lambda pk=achievement_id: achievement_email_task.delay(achievement_id=pk),
                                      robust=True)
    return new


def achievement_email_send(*, achievement_id: int) -> bool:
    """Email the learner about a new badge, once: the row is claimed before sending, released if sending fails."""
    claimed = Achievement.objects.filter(pk=achievement_id, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return False
    achievement = Achievement.objects.select_related("user").get(pk=achievement_id)
    definition = BY_CODE.get(achievement.code)
    if definition is None:
        return False
    try:
        send_mail(
            subject=f"[Plateau] New badge: {definition.name}",
            message=(
                f"Well done! You earned the badge “{definition.name}”: {definition.description}\n\n"
                f"See your badges and progress: {settings.SITE_URL}/learn/progress/\n"
            ),
            from_email=None,
            recipient_list=[achievement.user.email],
        )
    except Exception:
        Achievement.objects.filter(pk=achievement_id).update(emailed_at=None)
        raise
    return True


# --- Community ------------------------------------------------------------------------------


def _posting_check(*, user, now: datetime) -> None:
    """Suspended members cannot post; everyone posts at most CONTENT_COMMUNITY_POSTS_PER_HOUR times an hour."""
    suspension = PostingSuspension.objects.filter(user=user).first()
    if suspension is not None and suspension.is_active(now):
        until = f" until {suspension.until.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if suspension.until else ""
        raise PostingRefused(f"Your posting is suspended{until}: {suspension.reason}")
    limit = settings.CONTENT_COMMUNITY_POSTS_PER_HOUR
    since = now - timedelta(hours=1)
    recent = sorted(
        [*Post.objects.filter(author=user, created_at__gte=since).values_list("created_at", flat=True),
         *Comment.objects.filter(author=user, created_at__gte=since).values_list("created_at", flat=True)]
    )
    if len(recent) >= limit:
        retry_at = recent[-limit] + timedelta(hours=1)
        raise PostingRateLimited(
            f"You can post {limit} times an hour; try again at {retry_at.astimezone(UTC):%H:%M} UTC."
        )


def post_create(*, author, title: str, body: str, lesson: Lesson | None = None, now: datetime | None = None) -> Post:
    now = now or timezone.now()
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise ValidationError({"title" if not title else "body": "Write a title and a message."})
    _posting_check(user=author, now=now)
    return Post.objects.create(
        author=author, lesson=lesson, title=title[:200], body=body, created_at=now, updated_at=now
    )


def post_edit(*, post: Post, user, title: str, body: str) -> Post:
    """Authors edit their own posts while the thread is open."""
    if post.author_id != user.pk:
        raise PostingRefused("Only the author can edit this post.")
    if post.is_locked:
        raise PostingRefused("This thread is locked.")
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise ValidationError({"title" if not title else "body": "Write a title and a message."})
    post.title, post.body, post.updated_at = title[:200], body, timezone.now()
    post.save(update_fields=["title", "body", "body_html", "updated_at"])
    return post


def post_delete(*, post: Post, user) -> None:
    """Authors delete their own posts (with the comments); staff may too."""
    if post.author_id != user.pk and not user.is_staff:
        raise PostingRefused("Only the author can delete this post.")
    post.delete()


def comment_create(*, post: Post, author, body: str, parent: Comment | None = None,
                   now: datetime | None = None) -> Comment:
    now = now or timezone.now()
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write a comment."})
    if post.is_locked:
        raise PostingRefused("This thread is locked: no new comments.")
    if parent is not None:
        if parent.post_id != post.pk:
            raise ValidationError({"parent": "Reply to a comment of this post."})
        if parent.parent_id is not None:
            parent = parent.parent  # one level of replies: a reply to a reply joins its thread
    _posting_check(user=author, now=now)
    return Comment.objects.create(post=post, parent=parent, author=author, body=body, created_at=now, updated_at=now)


def comment_delete(*, comment: Comment, user) -> None:
    if comment.author_id != user.pk and not user.is_staff:
        raise PostingRefused("Only the author can delete this comment.")
    comment.delete()


def like_set(*, user, target: Post | Comment, liked: bool) -> int:
    """Like or unlike a post or a comment; returns the new count.

    A like is a row (unique per user and target); the stored count moves by one only when
    a row was really inserted or deleted, in the same transaction, so concurrent likes
    and unlikes leave it equal to the number of rows.
    """
    field = "post" if isinstance(target, Post) else "comment"
    model = type(target)
    with transaction.atomic():
        if liked:
            try:
                with transaction.atomic():
                    Like.objects.create(user=user, **{field: target})
            except IntegrityError:
                changed = 0
            else:
                changed = 1
        else:
            deleted, _ = Like.objects.filter(user=user, **{field: target}).delete()
            changed = -1 if deleted else 0
        if changed:
            model.objects.filter(pk=target.pk).update(like_count=F("like_count") + changed)
    return model.objects.filter(pk=target.pk).values_list("like_count", flat=True).get()


def report_create(*, reporter, target: Post | Comment, reason: str) -> Report:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say what is wrong."})
    field = "post" if isinstance(target, Post) else "comment"
    return Report.objects.create(reporter=reporter, reason=reason[:500], **{field: target})


def moderation_set(*, queryset, is_hidden: bool | None = None, is_locked: bool | None = None) -> int:
    """Staff hide/restore posts or comments, lock/unlock threads (admin actions)."""
    changes = {k: v for k, v in {"is_hidden": is_hidden, "is_locked": is_locked}.items() if v is not None}
    return queryset.update(**changes)
