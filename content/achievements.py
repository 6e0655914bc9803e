"""Achievements, defined once: a code, a name, and a rule over what the learner did (derived, never counted).

`content.services.achievements_award` checks the rules a user has not earned yet and
records each new one once (a unique constraint); it runs in a Celery task after a lesson
is completed or a quiz attempt is committed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, F

from content.models import Lesson, Progress, QuizAttempt


@dataclass(frozen=True)
class AchievementDef:
    code: str
    name: str
    description: str
    earned: Callable[[int], bool]


def _completed(user_id: int):
    return Progress.objects.filter(user_id=user_id, completed_at__isnull=False, lesson__is_published=True)


def _completed_count_at_least(n: int) -> Callable[[int], bool]:
    return lambda user_id: _completed(user_id).count() >= n


def _group_completed(field: str) -> Callable[[int], bool]:
    """Some chapter (or course) whose published lessons the user all completed."""

    def earned(user_id: int) -> bool:
        done = dict(
            _completed(user_id).filter(**{f"lesson__{field}__isnull": False})
            .values_list(f"lesson__{field}").annotate(n=Count("id")).values_list(f"lesson__{field}", "n")
        )
        if not done:
            return False
        totals = (
            Lesson.objects.published().filter(**{f"{field}__in": list(done)})
            .values_list(field).annotate(n=Count("id")).values_list(field, "n")
        )
        return any(done.get(group) == total for group, total in totals)

    return earned


def _perfect_quiz(user_id: int) -> bool:
    return QuizAttempt.objects.filter(user_id=user_id, total__gt=0, score=F("total")).exists()


STREAK_DAYS = 7


def _streak(user_id: int) -> bool:
    """Learned on STREAK_DAYS days in a row (a lesson completed or a quiz attempted that day, UTC)."""
    days = {moment.date() for moment in _completed(user_id).values_list("completed_at", flat=True)}
    attempts = QuizAttempt.objects.filter(user_id=user_id).values_list("created_at", flat=True)
    days |= {moment.date() for moment in attempts}
    return any(all(day + timedelta(days=i) in days for i in range(STREAK_DAYS)) for day in days)


ACHIEVEMENTS: tuple[AchievementDef, ...] = (
    AchievementDef("first_lesson", "First lesson", "Completed your first lesson.", _completed_count_at_least(1)),
    AchievementDef("ten_lessons", "Ten lessons", "Completed ten lessons.", _completed_count_at_least(10)),
    AchievementDef("chapter_completed", "Chapter done", "Completed every lesson of a chapter.",
                   _group_completed("principle__chapter")),
    AchievementDef("course_completed", "Course done", "Completed every lesson of a course.",
                   _group_completed("principle__chapter__course")),
    AchievementDef("perfect_quiz", "Perfect score", "Answered every question of a quiz right.", _perfect_quiz),
    AchievementDef("streak_7", "7-day streak", "Learned something seven days in a row.", _streak),
)
BY_CODE = {definition.code: definition for definition in ACHIEVEMENTS}
