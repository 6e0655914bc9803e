"""Quota periods: where the period containing a moment starts and ends (UTC)."""

from datetime import datetime, timedelta

from billing.plans import Period


def _day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def period_bounds(
    *, period: str, now: datetime, cycle_start: datetime | None = None, cycle_end: datetime | None = None
) -> tuple[datetime, datetime]:
    """(start, end) of the quota period containing `now`; `end` is exclusive and is when it resets.

    A billing cycle is the subscription's current period as last synced from Stripe:
    until the renewal arrives the old cycle still applies, so the quota does not reset
    before the customer has actually been renewed.
    """
    if period == Period.CYCLE and cycle_start and cycle_end:
        return cycle_start, cycle_end
    if period == Period.DAY:
        start = _day_start(now)
        return start, start + timedelta(days=1)
    # Calendar month (also the fallback for a cycle whose bounds are unknown).
    start = _day_start(now).replace(day=1)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end
