"""Billing emails: written to the log table first (outbox), then sent by a Celery task."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Organization
from billing.models import BillingEmail, EmailStatus
from common.email import provider_message_id
from common.outbox import outbox_enqueue

SUBJECTS = {
    "welcome": "Welcome to Plateau",
    "quota_warning": "You have used 80% of your {feature_name} quota",
    "subscription_started": "Welcome to Plateau {plan_name}",
    "payment_failed": "Your Plateau payment failed",
    "subscription_cancelled": "Your Plateau subscription is cancelled",
    "payment_receipt": "Your Plateau receipt",
    "purchase_receipt": "Your Plateau purchase",
}


def billing_email_queue(
    *, key: str, organization: Organization | None, recipient: str, template: str, context: dict
) -> BillingEmail | None:
    """Record an email once per business key and send it after commit; None if already queued."""
    email, created = BillingEmail.objects.get_or_create(
        key=key,
        defaults={"organization": organization, "recipient": recipient, "template": template, "context": context},
    )
    if not created:
        return None
    # The email row is the log; the send goes through the outbox, so a broker outage only delays it.
    outbox_enqueue(
        key=f"billing_email:{email.pk}",
        handler="billing.services.emails.billing_email_send",
        kwargs={"email_id": email.pk},
    )
    return email


def welcome_email_queue(*, user, organization: Organization | None) -> BillingEmail | None:
    """The welcome email of a new account, to its address, once per user (a second sign-up signal, a
    double submit or a replay finds the business key taken); sent after the commit like every billing email."""
    profile = getattr(user, "profile", None)
    name = (profile.display_name if profile is not None else "") or user.email.split("@")[0]
    return billing_email_queue(
        key=f"welcome:{user.pk}",
        organization=organization,
        recipient=user.email,
        template="welcome",
        context={"name": name, "organization_name": organization.name if organization else ""},
    )


# A worker that claimed an email and died before finishing leaves it "sending": after this
# long, another run may take it over (the email may then go out twice, never zero times).
CLAIM_STALE_AFTER = timedelta(minutes=5)


def _claimable(now) -> Q:
    return Q(status__in=[EmailStatus.PENDING, EmailStatus.FAILED]) | Q(
        status=EmailStatus.SENDING, claimed_at__lt=now - CLAIM_STALE_AFTER
    )


def billing_emails_relay(*, older_than: timedelta = timedelta(minutes=10), max_attempts: int = 8) -> list[int]:
    """Queue again the emails still unsent some minutes after they were written (lost or failed jobs)."""
    from billing.tasks import billing_email_send_task  # tasks import services: import at call time

    now = timezone.now()
    stuck = list(
        BillingEmail.objects.filter(
            _claimable(now), created_at__lte=now - older_than, attempts__lt=max_attempts
        ).values_list("pk", flat=True)[:500]
    )
    for email_id in stuck:
        billing_email_send_task.delay(email_id=email_id)
    return stuck


def billing_email_send(*, email_id: int) -> BillingEmail:
    """Send one logged email, once, however many jobs ask for it.

    The job first claims the email with one conditional UPDATE (pending or failed, or a
    stale claim, to "sending"); a duplicate job finds it claimed or sent and does nothing.
    Only the claimant sends. A failure is logged and re-raised for retry.
    """
    now = timezone.now()
    claimed = BillingEmail.objects.filter(_claimable(now), pk=email_id).update(
        status=EmailStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    email = BillingEmail.objects.get(pk=email_id)
    if not claimed:
        return email
    context = {**email.context, "site_url": settings.SITE_URL}
    try:
        message = EmailMultiAlternatives(
            subject=SUBJECTS[email.template].format(**context),
            body=render_to_string(f"billing/email/{email.template}.txt", context),
            to=[email.recipient],
        )
        message.attach_alternative(render_to_string(f"billing/email/{email.template}.html", context), "text/html")
        message.send()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        BillingEmail.objects.filter(pk=email.pk).update(status=EmailStatus.FAILED, last_error=error)
        raise EmailSendFailed(error) from exc
    BillingEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.SENT, sent_at=timezone.now(), last_error="", provider_message_id=provider_message_id(message)
    )
    email.refresh_from_db()
    return email


class EmailSendFailed(Exception):
    """Raised after the failure is logged, so the task retries with backoff."""
