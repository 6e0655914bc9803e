"""Writes: storing buffered events in bulk, pruning old ones, rolling them up by day.

Every function is idempotent: events carry a unique uuid (a batch stored twice is
stored once), a day's rollup is rebuilt by replacing its rows, pruning deletes what is
older than the retention whichever run gets there first.
"""

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, Max, Q, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.selectors.organizations import organization_id_primary
from analytics.models import FUNNEL_EVENT_STEPS, DailyRollup, Event, StepVisitor
from common.events import EVENT_NAMES, STALE_BATCH_SECONDS, EventSource, buffer, event_payload, events_buffer

logger = logging.getLogger(__name__)

FLUSH_BATCH = 1000
# One flush stores at most this many batches, so a task stays short; the next one goes on.
FLUSH_MAX_BATCHES = 200


def _event_from_payload(raw: str | dict) -> Event | None:
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
        occurred_at = parse_datetime(data["at"])
        if data["name"] not in EVENT_NAMES or occurred_at is None:
            raise ValueError(data["name"])
        return Event(
            uuid=uuid.UUID(data["uuid"]),
            name=data["name"],
            occurred_at=occurred_at,
            organization_id=data.get("organization_id"),
            user_id=data.get("user_id"),
            anonymous_id=data.get("anonymous_id") or "",
            path=data.get("path") or "",
            item_type=data.get("item_type") or "",
            item_id=data.get("item_id") or "",
            properties=data.get("properties") or {},
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        logger.error("analytics: a malformed buffered event was dropped: %r", raw)
        return None


def events_store(*, payloads: list) -> int:
    """Insert the events of one batch; ones already stored (same uuid) are skipped. Returns how many were given.

    The funnel's last time per step and visitor (`StepVisitor`) moves with them in the same
    transaction (a batch stored again moves nothing: the latest time stays the latest).
    """
    events = [e for e in (_event_from_payload(p) for p in payloads) if e is not None]
    with transaction.atomic():
        Event.objects.bulk_create(events, batch_size=FLUSH_BATCH, ignore_conflicts=True)
        step_visitors_add(events=events)
    return len(events)


STEP_VISITORS_CHUNK = 500


def step_visitors_add(*, events) -> None:
    """Move each (funnel step, visitor)'s last time to the latest of these events (upserts, sorted, chunked)."""
    latest: dict[tuple[str, str], datetime] = {}
    for event in events:
        visitor = event.visitor
        if event.name in FUNNEL_EVENT_STEPS and visitor:
            key = (event.name, visitor)
            if key not in latest or event.occurred_at > latest[key]:
                latest[key] = event.occurred_at
    if not latest:
        return
    table = connection.ops.quote_name(StepVisitor._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    rows = sorted(latest.items())  # one order for every flush: concurrent ones cannot deadlock
    with connection.cursor() as cursor:
        for n in range(0, len(rows), STEP_VISITORS_CHUNK):
            chunk = rows[n : n + STEP_VISITORS_CHUNK]
            cursor.execute(
                f"INSERT INTO {table} (name, visitor, last_at) VALUES "  # noqa: S608 (placeholders only)
                + ", ".join(["(%s, %s, %s)"] * len(chunk))
                + f" ON CONFLICT (name, visitor) DO UPDATE SET last_at = CASE WHEN excluded.last_at > {table}.last_at"
                f" THEN excluded.last_at ELSE {table}.last_at END",
                [value for (name, visitor), at in chunk for value in (name, visitor, adapt(at))],
            )


def step_visitors_computed(*, apps=None) -> dict[tuple[str, str], datetime]:
    """{(step, visitor): last time} from the stored events (what `StepVisitor` should hold)."""
    event_model = apps.get_model("analytics", "Event") if apps is not None else Event
    visitor = Case(
        When(user_id__isnull=False, then=Concat(Value("u"), Cast("user_id", CharField()))),
        default=Concat(Value("a"), "anonymous_id"),
        output_field=CharField(),
    )
    return {
        (name, key): at
        for name, key, at in event_model.objects.filter(name__in=FUNNEL_EVENT_STEPS)
        .filter(Q(user_id__isnull=False) | ~Q(anonymous_id=""))
        .annotate(key=visitor)
        .values_list("name", "key")
        .annotate(last=Max("occurred_at"))
        .order_by()
        .iterator(chunk_size=10_000)
    }


def step_visitors_rebuild(*, apps=None) -> int:
    """Recompute `StepVisitor` from the stored events (the migration's backfill, bench data, a repair)."""
    model = apps.get_model("analytics", "StepVisitor") if apps is not None else StepVisitor
    with transaction.atomic():
        computed = step_visitors_computed(apps=apps)
        model.objects.all().delete()
        model.objects.bulk_create(
            (model(name=name, visitor=visitor, last_at=at) for (name, visitor), at in computed.items()),
            batch_size=5000,
        )
    return len(computed)


def events_flush(*, stale_after: float = STALE_BATCH_SECONDS, max_batches: int = FLUSH_MAX_BATCHES) -> int:
    """Move buffered events into the table; returns how many batches' events were stored.

    Batches a dead worker left in flight (older than `stale_after` seconds) are stored
    first. Each batch is claimed atomically, stored, then acknowledged: a worker killed
    between storing and acknowledging leaves the batch to the next flush, which stores
    nothing twice (unique uuid).
    """
    source = buffer()
    stored = 0
    for batch_id, items in source.stale_batches(older_than=stale_after):
        stored += events_store(payloads=items)
        source.ack(batch_id)
    for _ in range(max_batches):
        batch_id, items = source.claim(limit=FLUSH_BATCH)
        if not items:
            break
        stored += events_store(payloads=items)
        source.ack(batch_id)
    return stored


MAX_CLICKS = 20


@dataclass(frozen=True)
class Click:
    """A click on an element marked `data-track="<target>"`, as the page's click script reports it."""

    target: str  # the element's data-track name, e.g. "buy"
    path: str = ""  # the page it was on
    item_type: str = ""  # data-track-item-type, e.g. "prompt_template"
    item_id: str = ""  # data-track-item-id, e.g. its slug


def clicks_record(*, source: EventSource, clicks: list[Click]) -> int:
    """Buffer one `click` event per click (a batch the page sent), for the visitor of the request.

    The visitor is the request's user and visitor cookie, never what the page says; their
    organization is the one that speaks for them by default. Returns how many were buffered
    (0 when the buffer is down: the clicks are lost and counted, the page is not told).
    """
    organization_id = organization_id_primary(user_id=source.user_id)
    payloads = [
        event_payload(
            "click",
            organization_id=organization_id,
            user_id=source.user_id,
            anonymous_id=source.anonymous_id,
            path=click.path,
            item_type=click.item_type,
            item_id=click.item_id,
            properties={"target": click.target},
        )
        for click in clicks[:MAX_CLICKS]
    ]
    return events_buffer(payloads)


def events_prune(*, now: datetime | None = None, batch_size: int = 10_000, max_batches: int = 100) -> int:
    """Delete raw events older than ANALYTICS_EVENT_RETENTION_DAYS, in batches; rollups stay."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ANALYTICS_EVENT_RETENTION_DAYS)
    deleted = 0
    for _ in range(max_batches):
        ids = list(
            Event.objects.filter(occurred_at__lt=cutoff)
            .order_by("occurred_at")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            break
        deleted += Event.objects.filter(id__in=ids).delete()[0]
    return deleted


def rollups_build(*, day: date) -> int:
    """Replace the rollup rows of one UTC day with counts from the raw events; returns the row count."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    rows = (
        Event.objects.filter(occurred_at__gte=start, occurred_at__lt=start + timedelta(days=1))
        .values_list("name", "item_type", "item_id")
        .annotate(
            events=Count("id"),
            users=Count("user_id", distinct=True),
            anonymous=Count("anonymous_id", distinct=True, filter=Q(user_id__isnull=True) & ~Q(anonymous_id="")),
        )
        .order_by()
    )
    rollups = [
        DailyRollup(day=day, name=name, item_type=item_type, item_id=item_id, events=events, visitors=users + anonymous)
        for name, item_type, item_id, events, users, anonymous in rows
    ]
    with transaction.atomic():
        DailyRollup.objects.filter(day=day).delete()
        DailyRollup.objects.bulk_create(rollups, batch_size=1000)
    return len(rollups)


def rollups_refresh(*, today: date | None = None, days: int = 3) -> int:
    """Roll up today and the days before it (late events land in those), `days` in all besides today."""
    today = today or timezone.now().astimezone(UTC).date()
    return sum(rollups_build(day=today - timedelta(days=n)) for n in range(days + 1))
