from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import BillingEmail
from billing.services.emails import EmailSendFailed, billing_email_queue, billing_email_send, billing_emails_relay
from billing.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def queue_context(org) -> dict:
    return {"organization_name": org.name, "plan_name": "Premium", "grace_until": "26 Nov 2026"}


def queue(org):
    return billing_email_queue(
        key="payment_failed:in_1:1",
        organization=org,
        recipient=org.email,
        template="payment_failed",
        context=queue_context(org),
    )


def test_a_failed_send_is_logged_then_a_retry_sends_once(settings, mailoutbox):
    org = OrganizationFactory()
    email = queue(org)
    settings.EMAIL_BACKEND = "billing.tests.test_emails.BrokenBackend"
    with pytest.raises(EmailSendFailed):
        billing_email_send(email_id=email.pk)
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == ("failed", 1, "ConnectionRefusedError: SMTP is down")

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    billing_email_send(email_id=email.pk)
    billing_email_send(email_id=email.pk)  # a duplicate task run sends nothing more
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == ("sent", 2, "")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "Your Plateau payment failed"
    assert "You keep access until 26 Nov 2026" in mailoutbox[0].body


def test_the_same_business_key_is_queued_once():
    org = OrganizationFactory()
    assert queue(org) is not None
    assert queue(org) is None
    assert BillingEmail.objects.count() == 1


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP is down")


def test_the_relay_sends_emails_left_pending(mailoutbox):
    org = OrganizationFactory()
    stuck = BillingEmail.objects.create(
        key="subscription_started:sub_1",
        organization=org,
        recipient=org.email,
        template="subscription_started",
        context={"organization_name": org.name, "plan_name": "Premium"},
        created_at=timezone.now() - timedelta(minutes=11),
    )
    fresh = BillingEmail.objects.create(
        key="subscription_started:sub_2",
        organization=org,
        recipient=org.email,
        template="subscription_started",
        context={"organization_name": org.name, "plan_name": "Premium"},
    )
    assert billing_emails_relay() == [stuck.pk]
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert (stuck.status, fresh.status) == ("sent", "pending")
    assert [m.subject for m in mailoutbox] == ["Welcome to Plateau Premium"]


class SlowBackend:
    """An SMTP server that takes a moment to accept a message, so concurrent jobs overlap while sending."""

    sent: list = []

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        import time

        time.sleep(0.2)
        SlowBackend.sent.extend(messages)
        return len(messages)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_same_email_job_run_three_times_at_once_sends_it_once(require_postgres, settings):
    import threading

    from django.db import connection

    org = OrganizationFactory()
    email = BillingEmail.objects.create(
        key="k3", organization=org, recipient=org.email, template="payment_failed", context=queue_context(org)
    )  # written without its job: the three jobs below are the ones racing
    settings.EMAIL_BACKEND = "billing.tests.test_emails.SlowBackend"
    SlowBackend.sent = []
    barrier = threading.Barrier(3)

    def job():
        try:
            barrier.wait()
            billing_email_send(email_id=email.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=job) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(SlowBackend.sent) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 1)


def test_a_claim_left_by_a_dead_worker_is_taken_over_by_the_relay(mailoutbox):
    org = OrganizationFactory()
    email = queue(org)
    BillingEmail.objects.filter(pk=email.pk).update(
        status="sending",
        claimed_at=timezone.now() - timedelta(minutes=6),
        created_at=timezone.now() - timedelta(hours=1),
    )
    assert billing_emails_relay() == [email.pk]
    email.refresh_from_db()
    assert email.status == "sent" and len(mailoutbox) == 1
    # A fresh claim (a worker sending right now) is left alone.
    other = billing_email_queue(
        key="k2",
        organization=org,
        recipient=org.email,
        template="payment_failed",
        context={"organization_name": "x", "plan_name": "Premium", "grace_until": "now"},
    )
    BillingEmail.objects.filter(pk=other.pk).update(
        status="sending", claimed_at=timezone.now(), created_at=timezone.now() - timedelta(hours=1)
    )
    assert billing_emails_relay() == []
