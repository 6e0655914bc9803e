"""With the broker down, a request that starts a job still succeeds, and the job runs once the broker is back.

Found by a hostile review: creating an invitation answered 500 after saving it, and the
email was never sent. Every email and job a request starts goes through the outbox.
"""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import Invitation, Role
from accounts.tests.factories import MembershipFactory
from common.models import OutboxMessage
from common.outbox import BROKER_DOWN_KEY, outbox_relay
from config.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker_down():
    """A broker address where nothing listens: publishing fails at once, as with a stopped Redis."""
    previous = app.conf.broker_url, app.conf.broker_write_url
    app.conf.task_always_eager = False
    app.conf.broker_url = app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    _forget_connections()
    yield
    app.conf.broker_url, app.conf.broker_write_url = previous
    app.conf.task_always_eager = True
    _forget_connections()
    cache.delete(BROKER_DOWN_KEY)


def _forget_connections():
    """Celery keeps its connection and producer pools: new ones pick up the broker address."""
    from kombu import pools

    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()


def test_an_invitation_made_while_the_broker_is_down_is_saved_answered_and_emailed_later(broker_down, mailoutbox):
    admin = MembershipFactory(role=Role.ADMIN)
    api = APIClient()
    api.force_authenticate(admin.user)

    response = api.post(
        f"/api/v1/orgs/{admin.organization.pk}/invitations/",
        {"email": "new@example.com", "role": "buyer"},
        format="json",
    )
    # A second request right after does not wait on the broker again.
    second = api.post(f"/api/v1/orgs/{admin.organization.pk}/invitations/", {"email": "two@example.com"}, format="json")

    assert (response.status_code, second.status_code) == (201, 201)
    assert Invitation.objects.filter(organization=admin.organization).count() == 2
    assert mailoutbox == []
    waiting = OutboxMessage.objects.filter(handler__endswith="invitation_send_email")
    assert [(m.published_at, m.done_at) for m in waiting] == [(None, None), (None, None)]

    # The broker is back: beat's relay publishes what waited, and each email goes out once.
    app.conf.task_always_eager = True
    assert outbox_relay() == 2
    assert sorted(m.to[0] for m in mailoutbox) == ["new@example.com", "two@example.com"]
    assert all(m.done_at is not None and m.kwargs == {} for m in waiting.all())  # the link's token is not kept
    assert outbox_relay() == 0
    assert len(mailoutbox) == 2
