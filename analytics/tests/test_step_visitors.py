"""The funnel's visitors per step from `StepVisitor` (kept by the event flush) equal a COUNT DISTINCT of raw events."""

import importlib
import random
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from analytics.models import StepVisitor
from analytics.periods import ReportPeriod
from analytics.selectors import _distinct_visitors, _funnel_event_steps, _step_visitors_cover
from analytics.services import events_store, step_visitors_computed, step_visitors_rebuild
from common.events import event_payload

pytestmark = pytest.mark.django_db


def _raw_steps(period: ReportPeriod) -> tuple[int, int, int]:
    from analytics.models import Event

    events = Event.objects.filter(occurred_at__gte=period.start, occurred_at__lt=period.end)
    return tuple(_distinct_visitors(events.filter(name=name)) for name in ("page_view", "signup", "checkout_started"))


def _store_random_events(seed: int, *, days: int = 60) -> None:
    """Batches of random events over the last `days` days, some stored twice and out of order, as flushes do."""
    rng = random.Random(seed)
    now = timezone.now()
    payloads = []
    for _ in range(600):
        signed_in = rng.random() < 0.4
        payloads.append(
            event_payload(
                rng.choice(["page_view", "page_view", "signup", "checkout_started", "search", "click"]),
                user_id=rng.randint(1, 40) if signed_in else None,
                anonymous_id=rng.choice(["", f"v{rng.randint(1, 80)}"]) if not signed_in or rng.random() < 0.5 else "",
                at=now - timedelta(seconds=rng.randint(1, days * 86_400)),
            )
        )
    rng.shuffle(payloads)
    batches = [payloads[n : n + 50] for n in range(0, len(payloads), 50)]
    batches += rng.sample(batches, 4)  # a worker died before acknowledging: stored again
    rng.shuffle(batches)
    for batch in batches:
        events_store(payloads=batch)


def _periods() -> list[ReportPeriod]:
    today = timezone.now().date()
    return [ReportPeriod(first_day=today - timedelta(days=n), last_day=today) for n in (0, 1, 6, 29, 59)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_visitors_per_step_from_the_last_times_equal_a_count_over_raw_events(seed):
    _store_random_events(seed)
    assert step_visitors_computed() == dict(
        ((name, visitor), at) for name, visitor, at in StepVisitor.objects.values_list("name", "visitor", "last_at")
    )
    for period in _periods():
        assert _step_visitors_cover(period)
        assert _funnel_event_steps(period) == _raw_steps(period), period


def test_a_later_event_or_a_pruned_start_falls_back_to_raw_events():
    _store_random_events(4)
    today = timezone.now().date()
    last_week = ReportPeriod(first_day=today - timedelta(days=14), last_day=today - timedelta(days=8))
    assert not _step_visitors_cover(last_week)  # later events would hide earlier ones
    assert _funnel_event_steps(last_week) == _raw_steps(last_week)
    long_ago = ReportPeriod(first_day=today - timedelta(days=400), last_day=today)
    assert not _step_visitors_cover(long_ago)  # past the events' retention: some may be gone
    assert _funnel_event_steps(long_ago) == _raw_steps(long_ago)


def test_the_backfill_migration_and_a_rebuild_recompute_the_table():
    _store_random_events(5)
    kept = step_visitors_computed()
    StepVisitor.objects.all().delete()
    migration = importlib.import_module("analytics.migrations.0003_step_visitors")
    migration.backfill(apps, connection.schema_editor())
    assert {(s.name, s.visitor): s.last_at for s in StepVisitor.objects.all()} == kept
    StepVisitor.objects.filter(pk__in=StepVisitor.objects.values("pk")[:5]).delete()
    assert step_visitors_rebuild() == len(kept)
    assert {(s.name, s.visitor): s.last_at for s in StepVisitor.objects.all()} == kept
