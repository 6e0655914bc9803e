"""Exactness under concurrency, on PostgreSQL: many threads race for the last units of a quota."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from billing.exceptions import QuotaExceeded
from billing.models import UsageCounter, UsageLedgerEntry
from billing.services.entitlements import entitlements_refresh
from billing.services.usage import usage_track
from billing.tests.factories import StaffQuotaGrantFactory, SubscriptionStateFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
THREADS = 60


def race(calls):
    """Run every call at the same moment, each on its own database connection."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except QuotaExceeded as exc:
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def premium_org_with_remaining_17(require_postgres):
    state = SubscriptionStateFactory(
        current_period_start=datetime.now(tz=UTC) - timedelta(days=1),
        current_period_end=datetime.now(tz=UTC) + timedelta(days=29),
    )
    # 3 from the plan + 20 from staff = 23; 6 already used leaves L = 17.
    StaffQuotaGrantFactory(
        organization=state.organization, quantity=20, expires_at=datetime.now(tz=UTC) + timedelta(days=60)
    )
    entitlements_refresh(organization=state.organization)
    usage_track(
        organization=state.organization, user_id=None, feature="premium_article", quantity=6, idempotency_key="warmup"
    )
    return state.organization


def test_sixty_concurrent_uses_at_remaining_17_grant_exactly_17(premium_org_with_remaining_17):
    org = premium_org_with_remaining_17
    calls = [
        (
            lambda n=n: usage_track(
                organization=org, user_id=None, feature="premium_article", quantity=1, idempotency_key=f"c{n}"
            )
        )
        for n in range(THREADS)
    ]
    outcomes = race(calls)
    granted = [o for o in outcomes if not isinstance(o, QuotaExceeded)]
    refused = [o for o in outcomes if isinstance(o, QuotaExceeded)]
    assert (len(granted), len(refused)) == (17, THREADS - 17)
    assert sorted(o.used for o in granted) == list(range(7, 24))
    assert UsageCounter.objects.get(organization=org, feature="premium_article").used == 23
    assert UsageLedgerEntry.objects.filter(organization=org).exclude(idempotency_key="warmup").count() == 17


def test_the_same_key_sent_concurrently_counts_once(premium_org_with_remaining_17):
    org = premium_org_with_remaining_17
    calls = [
        (
            lambda: usage_track(
                organization=org, user_id=None, feature="premium_article", quantity=2, idempotency_key="dup"
            )
        )
        for _ in range(THREADS)
    ]
    outcomes = race(calls)
    assert {(o.used, o.remaining) for o in outcomes} == {(8, 15)}
    assert UsageCounter.objects.get(organization=org, feature="premium_article").used == 8
    assert UsageLedgerEntry.objects.filter(organization=org, idempotency_key="dup").count() == 1
