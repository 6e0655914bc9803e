"""Quota periods: where the period containing a moment starts and ends (UTC)."""

import calendar
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
    before the customer has actually been renewed. The plans' quotas are monthly, so a
    longer cycle (yearly) is cut into months counted from its start, as Stripe counts
    billing months: a cycle starting on 31 January has windows starting 28 (or 29)
    February, 31 March, 30 April, ...; the last one ends with the cycle.
    """
    if period == Period.CYCLE and cycle_start and cycle_end:
        return _monthly_window(cycle_start=cycle_start, cycle_end=cycle_end, now=now)
    if period == Period.DAY:
        start = _day_start(now)
        return start, start + timedelta(days=1)
    # Calendar month (also the fallback for a cycle whose bounds are unknown).
    start = _day_start(now).replace(day=1)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


def _add_months(moment: datetime, months: int) -> datetime:
    """`moment` moved by whole months, the day kept or clamped to the month's last day."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def _monthly_window(*, cycle_start: datetime, cycle_end: datetime, now: datetime) -> tuple[datetime, datetime]:
    if _add_months(cycle_start, 1) >= cycle_end:  # a monthly (or shorter) cycle is its own window
        return cycle_start, cycle_end
    # Outside the cycle (renewal not yet synced, or a clock behind): its nearest window applies.
    now = min(max(now, cycle_start), cycle_end - timedelta(microseconds=1))
    months = (now.year - cycle_start.year) * 12 + now.month - cycle_start.month
    months = max(0, months - 1)
    while _add_months(cycle_start, months + 1) <= now:
        months += 1
    start = _add_months(cycle_start, months)
    return start, min(_add_months(cycle_start, months + 1), cycle_end)
