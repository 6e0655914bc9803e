"""Quota periods: days, calendar months, and billing cycles cut into billing months."""

from datetime import UTC, datetime

import pytest

from billing.periods import period_bounds


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


YEAR_FROM_JAN_31 = {"cycle_start": at(2026, 1, 31, 10), "cycle_end": at(2027, 1, 31, 10)}


def test_a_monthly_cycle_is_one_window():
    cycle = {"cycle_start": at(2026, 11, 14), "cycle_end": at(2026, 12, 14)}
    assert period_bounds(period="cycle", now=at(2026, 12, 1), **cycle) == (at(2026, 11, 14), at(2026, 12, 14))


@pytest.mark.parametrize(
    ("now", "window"),
    [
        (at(2026, 1, 31, 10), (at(2026, 1, 31, 10), at(2026, 2, 28, 10))),  # the first instant
        (at(2026, 2, 28, 9, 59), (at(2026, 1, 31, 10), at(2026, 2, 28, 10))),  # February is shorter
        (at(2026, 2, 28, 10), (at(2026, 2, 28, 10), at(2026, 3, 31, 10))),  # then back to the 31st
        (at(2026, 4, 30, 12), (at(2026, 4, 30, 10), at(2026, 5, 31, 10))),
        (at(2027, 1, 30), (at(2026, 12, 31, 10), at(2027, 1, 31, 10))),  # the last one ends with the cycle
        (at(2027, 2, 5), (at(2026, 12, 31, 10), at(2027, 1, 31, 10))),  # renewal not synced yet: still the last
    ],
)
def test_a_yearly_cycle_is_cut_into_billing_months(now, window):
    assert period_bounds(period="cycle", now=now, **YEAR_FROM_JAN_31) == window


def test_days_and_calendar_months():
    assert period_bounds(period="day", now=at(2026, 3, 5, 17)) == (at(2026, 3, 5), at(2026, 3, 6))
    assert period_bounds(period="month", now=at(2026, 12, 5)) == (at(2026, 12, 1), at(2027, 1, 1))
