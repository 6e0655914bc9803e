"""On PostgreSQL: N concurrent refreshes of one refresh token yield exactly one new pair."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import AuthSession
from accounts.tests.api.conftest import REFRESH, obtain
from accounts.tests.factories import MembershipFactory

THREADS = 8


@pytest.mark.services
def test_concurrent_refreshes_of_one_token_have_exactly_one_winner(require_postgres, transactional_db, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "1000/minute"},
    }
    user = MembershipFactory().user
    pair = obtain(APIClient(), user)
    barrier = threading.Barrier(THREADS, timeout=30)
    statuses: list[int] = []
    winners: list[dict] = []
    lock = threading.Lock()

    def refresh():
        try:
            barrier.wait()
            response = APIClient().post(REFRESH, {"refresh": pair["refresh"]}, format="json")
            with lock:
                statuses.append(response.status_code)
                if response.status_code == 200:
                    winners.append(response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200] + [401] * (THREADS - 1)
    # The losers lost a race, they did not replay: the winner's session and tokens live on.
    assert AuthSession.objects.get(pk=pair["session_id"]).revoked_at is None
    assert APIClient().post(REFRESH, {"refresh": winners[0]["refresh"]}, format="json").status_code == 200
