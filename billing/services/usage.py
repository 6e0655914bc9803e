"""Counting usage exactly: one conditional UPDATE per use, plus a ledger row."""

from contextlib import nullcontext
from datetime import datetime
from functools import partial

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Organization
from billing.cache import access_cache_forget
from billing.exceptions import FeatureNotMetered, IdempotencyKeyReused, NotEntitled, QuotaExceeded
from billing.models import UsageCounter, UsageLedgerEntry
from billing.periods import period_bounds
from billing.plans import FEATURES, Feature, FeatureKind
from billing.selectors import Access, access_check, counter_user_id, grant_for
from billing.services.emails import billing_email_queue
from common.events import EventSource, track
from common.outbox import outbox_enqueue

# The "quota nearly used" email goes out when a use crosses this share of the limit.
WARNING_SHARE = 0.8

# The table name comes from the model and every value is a parameter.
_CONSUME_SQL = f"""
UPDATE {UsageCounter._meta.db_table} SET used = used + %s
WHERE organization_id = %s AND feature = %s AND period_start = %s AND {{user_clause}}
  AND ("limit" IS NULL OR used + %s <= "limit")
RETURNING used, "limit"
"""  # noqa: S608

# PostgreSQL, the usual case (the counter exists and the use fits), in one statement and so
# one round trip: the counter goes up and the ledger row is written together or not at all.
# A key already recorded breaks the ledger's unique index, which undoes the whole statement,
# counter included (a concurrent duplicate first waits for the other's row lock on the
# counter, then fails the same way). No row back means no counter for this period yet, no
# room left, or a replay: the transaction below sorts those out.
_TRACK_SQL = f"""
WITH counted AS (
  UPDATE {UsageCounter._meta.db_table} SET used = used + %(quantity)s
  WHERE organization_id = %(organization_id)s AND feature = %(feature)s AND period_start = %(period_start)s
    AND {{user_clause}} AND ("limit" IS NULL OR used + %(quantity)s <= "limit")
  RETURNING used, "limit"
), recorded AS (
  INSERT INTO {UsageLedgerEntry._meta.db_table}
    (organization_id, user_id, feature, quantity, idempotency_key, period_start, created_at)
  SELECT %(organization_id)s, %(user_id)s, %(feature)s, %(quantity)s, %(idempotency_key)s, %(period_start)s, %(now)s
  FROM counted
)
SELECT used, "limit" FROM counted
"""  # noqa: S608


def _track_in_one_statement(
    *,
    organization_id: int,
    counter_user: int | None,
    user_id: int | None,
    feature: str,
    period_start: datetime,
    quantity: int,
    idempotency_key: str,
    now: datetime,
) -> tuple[int, int | None] | None:
    """(used, limit) when the use was counted and recorded; None when the slower path must decide."""
    sql = _TRACK_SQL.format(user_clause="user_id IS NULL" if counter_user is None else "user_id = %(counter_user)s")
    params = {
        "quantity": quantity,
        "organization_id": organization_id,
        "feature": feature,
        "period_start": period_start,
        "counter_user": counter_user,
        "user_id": user_id,
        "idempotency_key": idempotency_key,
        "now": now,
    }
    # Inside a caller's transaction a savepoint keeps a duplicate key's error from breaking it;
    # on its own the statement is its own transaction.
    with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _consume(
    *, organization_id: int, user_id: int | None, feature: str, period_start: datetime, quantity: int
) -> tuple[int, int | None] | None:
    """Add `quantity` if it fits under the limit, in one statement; (used, limit) or None if refused."""
    sql = _CONSUME_SQL.format(user_clause="user_id IS NULL" if user_id is None else "user_id = %s")
    # Raw SQL bypasses field adaptation: convert the datetime as the ORM stores it.
    stored_start = connection.ops.adapt_datetimefield_value(period_start)
    params = [quantity, organization_id, feature, stored_start, *([] if user_id is None else [user_id]), quantity]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def usage_track(
    *,
    organization: Organization,
    user_id: int | None,
    feature: str,
    quantity: int,
    idempotency_key: str,
    now: datetime | None = None,
    source: EventSource | None = None,
    prefetched: dict | None = None,
) -> Access:
    """Record `quantity` uses of a metered feature and return the new balance.

    Raises NotEntitled when the plan lacks the feature and QuotaExceeded when the use
    does not fit in what is left (nothing is recorded then). A retry with an
    idempotency key already recorded returns the current balance without counting again;
    the same key with another feature, quantity or member is IdempotencyKeyReused (409).
    The period rolls over lazily: the first use in a new period creates its counter.
    A counted use is a `feature_usage` event (action "use"), after the commit; a replay or a
    refused use is not. `prefetched`: cache values the request's authentication read ahead
    (common.cache_prefetch), used for the grant if they are the ones needed.
    """
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    now = now or timezone.now()
    definition = FEATURES[Feature(feature)]
    if definition.kind != FeatureKind.METERED:
        raise FeatureNotMetered()
    counter_user = counter_user_id(feature=feature, user_id=user_id)
    grant = grant_for(organization_id=organization.pk, feature=feature, prefetched=prefetched)
    if grant is None or grant.limit == 0:
        raise NotEntitled()
    start, end = period_bounds(period=grant.period, now=now, cycle_start=grant.cycle_start, cycle_end=grant.cycle_end)
    consume = partial(
        _consume,
        organization_id=organization.pk,
        user_id=counter_user,
        feature=feature,
        period_start=start,
        quantity=quantity,
    )
    row = None
    if connection.vendor == "postgresql":
        try:
            row = _track_in_one_statement(
                organization_id=organization.pk,
                counter_user=counter_user,
                user_id=user_id,
                feature=feature,
                period_start=start,
                quantity=quantity,
                idempotency_key=idempotency_key,
                now=now,
            )
        except IntegrityError:
            row = None  # a replay: answered below, where the ledger's unique index refuses it again
    if row is None:
        try:
            with transaction.atomic():
                # The key is claimed first: a concurrent duplicate waits on the unique index,
                # then fails here and is answered as a replay.
                UsageLedgerEntry.objects.create(
                    organization=organization,
                    user_id=user_id,
                    feature=feature,
                    quantity=quantity,
                    idempotency_key=idempotency_key,
                    period_start=start,
                    created_at=now,
                )
                row = consume()
                if row is None:
                    # First use in this period (lazy rollover) or really over the limit.
                    UsageCounter.objects.bulk_create(
                        [
                            UsageCounter(
                                organization=organization,
                                user_id=counter_user,
                                feature=feature,
                                period_start=start,
                                period_end=end,
                                limit=grant.limit,
                            )
                        ],
                        ignore_conflicts=True,
                    )
                    row = consume()
                if row is None:
                    raise QuotaExceeded()
        except IntegrityError:
            entry = UsageLedgerEntry.objects.get(organization=organization, idempotency_key=idempotency_key)
            # A retry repeats the request exactly; the same key on another request is the client's bug, and
            # answering it with the first request's balance would hide a use that was never counted.
            if (entry.feature, entry.quantity, entry.user_id) != (feature, quantity, user_id):
                raise IdempotencyKeyReused() from None
            return _balance_after_replay(entry=entry)

    used, limit = row
    org_id = organization.pk
    # Now, for reads later in this transaction, and after the commit, for reads that began before it
    # (committed already when no transaction is open: the one statement was its own).
    access_cache_forget(organization_id=org_id, user_id=counter_user, feature=feature)
    if connection.in_atomic_block:
        transaction.on_commit(
            lambda: access_cache_forget(organization_id=org_id, user_id=counter_user, feature=feature)
        )
    if limit and used - quantity < limit * WARNING_SHARE <= used:
        # The use is recorded either way; the warning follows through the outbox, once per counter period.
        outbox_enqueue(
            key=f"quota_warning:{org_id}:{counter_user or '-'}:{feature}:{start.isoformat()}",
            handler="billing.services.usage.quota_warning_notify",
            kwargs={
                "organization_id": org_id,
                "user_id": counter_user,
                "feature": feature,
                "period_start": start.isoformat(),
            },
        )
    track(
        "feature_usage",
        source=source,
        organization_id=org_id,
        user_id=user_id,
        item_type="feature",
        item_id=feature,
        properties={"action": "use", "quantity": quantity, "used": used, "limit": limit},
    )
    return Access.counted(feature, used=used, limit=limit, resets_at=end)


def usage_release(*, organization: Organization, idempotency_key: str, now: datetime | None = None) -> bool:
    """Give back a recorded use whose work then failed (the AI provider did not answer, say).

    Once per key: marking the ledger row released is a conditional UPDATE (the claim), and
    the counter of the row's period goes down by its quantity in the same transaction, so
    a retried or concurrent release gives nothing back twice and `used` always equals the
    unreleased rows. Returns whether this call released the use (False for an unknown key).
    """
    now = now or timezone.now()
    mine = UsageLedgerEntry.objects.filter(organization=organization, idempotency_key=idempotency_key)
    with transaction.atomic():
        if not mine.filter(released_at__isnull=True).update(released_at=now):
            return False
        entry = mine.get()
        counter_user = counter_user_id(feature=entry.feature, user_id=entry.user_id)
        UsageCounter.objects.filter(
            organization=organization,
            user_id=counter_user,
            feature=entry.feature,
            period_start=entry.period_start,
            used__gte=entry.quantity,
        ).update(used=F("used") - entry.quantity)
        org_id, feature = organization.pk, entry.feature
        access_cache_forget(organization_id=org_id, user_id=counter_user, feature=feature)
        transaction.on_commit(
            lambda: access_cache_forget(organization_id=org_id, user_id=counter_user, feature=feature)
        )
    return True


def feature_access_check(
    *,
    organization: Organization,
    user_id: int | None,
    feature: str,
    quantity: int = 1,
    source: EventSource | None = None,
    prefetched: dict | None = None,
) -> Access:
    """The feature-access API's answer (`access_check`), and a `feature_usage` event (action "check")
    saying whether `quantity` was allowed: how often customers reach for a feature, and hit its limit."""
    access = access_check(organization_id=organization.pk, user_id=user_id, feature=feature, prefetched=prefetched)
    track(
        "feature_usage",
        source=source,
        organization_id=organization.pk,
        user_id=user_id,
        item_type="feature",
        item_id=feature,
        properties={"action": "check", "quantity": quantity, "allowed": access.allows(quantity)},
    )
    return access


def _balance_after_replay(*, entry: UsageLedgerEntry) -> Access:
    """The current balance of the counter a recorded use went to."""
    user_id = entry.user_id if FEATURES[Feature(entry.feature)].per_member else None
    counter = UsageCounter.objects.get(
        organization_id=entry.organization_id, user_id=user_id, feature=entry.feature, period_start=entry.period_start
    )
    return Access.counted(entry.feature, used=counter.used, limit=counter.limit, resets_at=counter.period_end)


def quota_warning_notify(
    *, organization_id: int, user_id: int | None, feature: str, period_start: datetime | str
) -> bool:
    """Send the "quota nearly used" email once per counter period; True if this call claimed it."""
    if isinstance(period_start, str):  # from the outbox's JSON
        period_start = datetime.fromisoformat(period_start)
    counter = (
        UsageCounter.objects.filter(
            organization_id=organization_id, user_id=user_id, feature=feature, period_start=period_start
        )
        .select_related("organization", "user")
        .first()
    )
    if counter is None or counter.limit is None:
        return False
    # The conditional UPDATE is the claim: of two concurrent runs exactly one sends.
    claimed = UsageCounter.objects.filter(pk=counter.pk, warned_at__isnull=True).update(warned_at=timezone.now())
    if not claimed:
        return False
    recipient = counter.user.email if counter.user else counter.organization.email
    billing_email_queue(
        key=f"quota_warning:{counter.pk}",
        organization=counter.organization,
        recipient=recipient,
        template="quota_warning",
        context={
            "organization_name": counter.organization.name,
            "feature_name": FEATURES[Feature(feature)].name,
            "unit": FEATURES[Feature(feature)].unit,
            "used": counter.used,
            "limit": counter.limit,
            "resets_at": counter.period_end.strftime("%-d %b %Y"),
        },
    )
    return True
