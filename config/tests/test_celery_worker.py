"""A real Celery worker process on the configured broker runs our tasks against the test database."""

import pytest

from accounts.services.organizations import invitation_create
from accounts.tasks import invitation_send_email_task
from accounts.tests.factories import MembershipFactory


@pytest.mark.services
def test_real_worker_runs_a_task_and_returns_its_result(celery_worker):
    admin = MembershipFactory(organization__is_personal=False)
    invitation, token = invitation_create(
        organization=admin.organization, email="new.member@example.com", role="buyer", actor=admin.user
    )

    sent = invitation_send_email_task.delay(invitation_id=invitation.pk, token=token)
    refused = invitation_send_email_task.delay(invitation_id=invitation.pk, token="not-the-token")

    # The worker read the invitation this test committed, and told a good link from a bad one.
    assert sent.get(timeout=30) is True
    assert refused.get(timeout=30) is False
