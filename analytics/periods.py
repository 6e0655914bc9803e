"""Report periods: whole UTC days, given as first and last day (both included)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class ReportPeriod:
    first_day: date
    last_day: date  # included

    @property
    def start(self) -> datetime:
        """The first day's midnight, UTC (included)."""
        return datetime.combine(self.first_day, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The midnight after the last day, UTC (excluded), so the period is [start, end)."""
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def is_empty(self) -> bool:
        return self.last_day < self.first_day


def report_period(*, first_day: date | None = None, last_day: date | None = None) -> ReportPeriod:
    """The period staff asked for; by default the last 30 days up to and including today (UTC).

    A missing last day is today; a missing first day is 29 days before the last, so the
    default covers 30 whole days. The caller refuses an empty period (`is_empty`).
    """
    last_day = last_day or timezone.now().astimezone(UTC).date()
    first_day = first_day or last_day - timedelta(days=DEFAULT_DAYS - 1)
    return ReportPeriod(first_day=first_day, last_day=last_day)


GRANULARITIES = ("day", "week", "month")
# "period": the whole period as one bucket (reports).
ALL_GRANULARITIES = (*GRANULARITIES, "period")


@dataclass(frozen=True)
class Bucket:
    """One point of a series: whole UTC days [first_day, last_day], clipped to the report period."""

    first_day: date
    last_day: date  # included

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=UTC)


def buckets(*, period: ReportPeriod, granularity: str) -> list[Bucket]:
    """The period cut into days, ISO weeks (Monday to Sunday) or calendar months, the ends clipped to the period."""
    if granularity not in ALL_GRANULARITIES:
        raise ValueError(f"granularity must be one of {ALL_GRANULARITIES}")
    if granularity == "period":
        return [Bucket(first_day=period.first_day, last_day=period.last_day)]
    result, day = [], period.first_day
    while day <= period.last_day:
        if granularity == "day":
            last = day
        elif granularity == "week":
            last = day + timedelta(days=6 - day.weekday())
        else:
            following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            last = following - timedelta(days=1)
        last = min(last, period.last_day)
        result.append(Bucket(first_day=day, last_day=last))
        day = last + timedelta(days=1)
    return result


def month_start(day: date) -> date:
    return day.replace(day=1)


def months_between(first: date, second: date) -> int:
    """Whole calendar months from the month of `first` to the month of `second`."""
    return (second.year - first.year) * 12 + second.month - first.month
