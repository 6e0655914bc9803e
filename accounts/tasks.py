from celery import shared_task

from accounts.services.organizations import invitation_send_email


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, retry_jitter=True, max_retries=5)
def invitation_send_email_task(*, invitation_id: int, token: str) -> bool:
    return invitation_send_email(invitation_id=invitation_id, token=token)
