"""Celery tasks: thin, idempotent wrappers around billing services."""

from datetime import datetime

from celery import shared_task

from accounts.models import Organization
from billing.services import emails, entitlements, reconcile, usage, webhook_intake, webhooks

RETRY = {
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(name="billing.tasks.refresh_entitlements", **RETRY)
def refresh_entitlements(*, organization_id: int) -> None:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is not None:
        entitlements.entitlements_refresh(organization=organization)


@shared_task(name="billing.tasks.subscriptions_reconcile", **RETRY)
def subscriptions_reconcile() -> None:
    reconcile.grace_periods_expire()
    reconcile.staff_grants_expire()
    reconcile.subscriptions_reconcile()


@shared_task(name="billing.tasks.usage_periods_rollover", **RETRY)
def usage_periods_rollover() -> None:
    reconcile.usage_periods_rollover()


@shared_task(name="billing.tasks.quota_warning_send", **RETRY)
def quota_warning_send(*, organization_id: int, user_id: int | None, feature: str, period_start: str) -> None:
    usage.quota_warning_notify(
        organization_id=organization_id,
        user_id=user_id,
        feature=feature,
        period_start=datetime.fromisoformat(period_start),
    )


@shared_task(name="billing.tasks.billing_email_send", **RETRY)
def billing_email_send_task(*, email_id: int) -> None:
    emails.billing_email_send(email_id=email_id)


@shared_task(name="billing.tasks.stripe_event_handle", ignore_result=True, **RETRY)
def stripe_event_handle(*, event_id: str) -> None:
    webhooks.stripe_event_apply(event_id=event_id)


@shared_task(name="billing.tasks.stripe_webhook_process", ignore_result=True, **RETRY)
def stripe_webhook_process(*, trigger_id: int) -> None:
    webhook_intake.webhook_trigger_process(trigger_id=trigger_id)


@shared_task(name="billing.tasks.stripe_webhooks_redrive", **RETRY)
def stripe_webhooks_redrive() -> None:
    webhook_intake.webhook_triggers_redrive()


@shared_task(name="billing.tasks.stripe_webhooks_prune", **RETRY)
def stripe_webhooks_prune() -> None:
    webhook_intake.webhook_triggers_prune()


@shared_task(name="billing.tasks.billing_emails_relay", **RETRY)
def billing_emails_relay() -> None:
    emails.billing_emails_relay()
