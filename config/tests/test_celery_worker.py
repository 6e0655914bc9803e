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


def _worker_backends() -> set[int]:
    """The PostgreSQL backends on the test database other than this process's own."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.services
def test_real_worker_keeps_its_database_connection_between_tasks(require_postgres, celery_worker):
    from billing.tasks import refresh_entitlements

    refresh_entitlements.delay(organization_id=-1).get(timeout=30)
    after_first = _worker_backends()
    refresh_entitlements.delay(organization_id=-1).get(timeout=30)

    # The second task ran on the connection the first one opened (Celery's fixup would
    # have closed it after the first task and opened another).
    assert after_first
    assert _worker_backends() == after_first


@pytest.mark.services
def test_real_worker_replaces_a_connection_cut_between_tasks(require_postgres, celery_worker):
    from django.db import connection

    from billing.tasks import refresh_entitlements

    refresh_entitlements.delay(organization_id=-1).get(timeout=30)
    cut = _worker_backends()
    with connection.cursor() as cursor:
        for pid in cut:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    # The health check before the next task finds the connection dead and opens another.
    refresh_entitlements.delay(organization_id=-1).get(timeout=30)
    assert _worker_backends()
    assert not _worker_backends() & cut
