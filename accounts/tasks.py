from celery import shared_task

from accounts.services.organizations import invitation_send_email
from accounts.services.tokens import tokens_flush_expired


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, retry_jitter=True, max_retries=5)
def invitation_send_email_task(*, invitation_id: int, token: str) -> bool:
    return invitation_send_email(invitation_id=invitation_id, token=token)


@shared_task(name="accounts.tasks.tokens_flush_expired", acks_late=True)
def tokens_flush_expired_task() -> int:
    """Beat, daily: expired refresh-token records leave the blacklist tables (idempotent)."""
    return tokens_flush_expired()
