"""Writes of learning content: quiz attempts, progress, conversations, community.

Each service takes keyword-only arguments, checks the rules, and writes inside one
transaction; work that must follow the commit (awarding achievements, emails) goes
through `transaction.on_commit`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from billing.selectors import Viewer
from content.exceptions import InvalidAnswers, ItemLocked
from content.models import Lesson, Progress, Quiz, QuizAttempt
from content.selectors import article_access, quiz_access

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
    return attempt


# --- Progress -----------------------------------------------------------------------------

# A device reports the seconds since its last write; more than this in one write is not reading.
PROGRESS_MAX_SECONDS_PER_WRITE = 3600


@dataclass(frozen=True)
class ProgressWrite:
    progress: Progress
    newly_completed: bool


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
) -> ProgressWrite:
    """Merge one device's report into the user's progress on a lesson.

    Conditional UPDATEs, never read-then-write: percent and position keep the maximum of
    what is stored and what is reported (a stale device cannot move them back), seconds
    add up, and the completion time is set by the first write that reaches 100 % (exactly
    one write sees `newly_completed`). Only lessons open to the viewer are recorded.
    """
    if not article_access(viewer=viewer, article=lesson).is_open:
        raise ItemLocked()
    now = now or timezone.now()
    percent = 100 if completed else max(0, min(100, int(percent)))
    seconds = max(0, min(PROGRESS_MAX_SECONDS_PER_WRITE, int(seconds)))
    with transaction.atomic():
        Progress.objects.bulk_create(
            [Progress(user=user, lesson=lesson, started_at=now, updated_at=now)], ignore_conflicts=True
        )
        mine = Progress.objects.filter(user=user, lesson=lesson)
        mine.update(
            percent=Greatest(F("percent"), Value(percent)),
            position=Greatest(F("position"), Value(max(0, int(position)))),
            seconds_spent=F("seconds_spent") + seconds,
            updated_at=now,
        )
        newly_completed = percent == 100 and mine.filter(completed_at__isnull=True).update(completed_at=now) == 1
        progress = mine.get()
        progress.lesson = lesson
    return ProgressWrite(progress, newly_completed)
