"""Beat flushes expired refresh-token records (simplejwt's flushexpiredtokens); live ones stay."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.tasks import tokens_flush_expired_task
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def outstanding(user, *, jti: str, expires_in: timedelta) -> OutstandingToken:
    now = timezone.now()
    return OutstandingToken.objects.create(
        user=user, jti=jti, token=f"token-{jti}", created_at=now - timedelta(days=8), expires_at=now + expires_in
    )


def test_the_beat_job_deletes_expired_token_records_and_keeps_live_ones():
    user = UserFactory()
    expired = outstanding(user, jti="expired", expires_in=-timedelta(minutes=1))
    BlacklistedToken.objects.create(token=expired)  # rotated, then expired: its blacklist row goes too
    outstanding(user, jti="long-expired", expires_in=-timedelta(days=30))
    live = outstanding(user, jti="live", expires_in=timedelta(days=6))
    BlacklistedToken.objects.create(token=live)  # blacklisted but not yet expired: must stay refused

    assert tokens_flush_expired_task.apply().get() == 3  # two tokens and one blacklist entry

    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == ["live"]
    assert list(BlacklistedToken.objects.values_list("token__jti", flat=True)) == ["live"]
    assert tokens_flush_expired_task.apply().get() == 0  # a second run finds nothing


def test_the_job_is_scheduled_in_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["accounts-tokens-flush-expired"]
    assert entry["task"] == tokens_flush_expired_task.name == "accounts.tasks.tokens_flush_expired"
    assert entry["schedule"] == 24 * 3600
