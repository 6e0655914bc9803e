"""Celery tasks: thin, idempotent wrappers around content services."""

from celery import shared_task

from content import services

RETRY = {
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(name="content.tasks.achievements_award", **RETRY)
def achievements_award_task(*, user_id: int) -> list[str]:
    """Award what the user has earned; running it again awards nothing new."""
    return [achievement.code for achievement in services.achievements_award(user_id=user_id)]


@shared_task(name="content.tasks.achievement_email", **RETRY)
def achievement_email_task(*, achievement_id: int) -> bool:
    return services.achievement_email_send(achievement_id=achievement_id)
