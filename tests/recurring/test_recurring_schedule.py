"""SPEC §12 run dates: ``start + k × interval``, month ends clamped from the start date's day, never drifting."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.recurrence import Schedule, run_date

D = dt.date


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        pytest.param(
            Schedule(D(2025, 1, 31), "month"),
            [D(2025, 1, 31), D(2025, 2, 28), D(2025, 3, 31), D(2025, 4, 30), D(2025, 5, 31)],
            id="31-jan-monthly",
        ),
        pytest.param(
            Schedule(D(2024, 1, 31), "month"),
            [D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31), D(2024, 4, 30), D(2024, 5, 31)],
            id="31-jan-monthly-leap-year",
        ),
        pytest.param(
            Schedule(D(2024, 2, 29), "year"),
            [D(2024, 2, 29), D(2025, 2, 28), D(2026, 2, 28), D(2027, 2, 28), D(2028, 2, 29)],
            id="29-feb-yearly",
        ),
        pytest.param(
            Schedule(D(2026, 1, 1), "week", 2),
            [D(2026, 1, 1), D(2026, 1, 15), D(2026, 1, 29), D(2026, 2, 12), D(2026, 2, 26)],
            id="every-2-weeks",
        ),
        pytest.param(
            Schedule(D(2025, 11, 30), "month", 3),
            [D(2025, 11, 30), D(2026, 2, 28), D(2026, 5, 30), D(2026, 8, 30), D(2026, 11, 30)],
            id="every-3-months-from-the-30th",
        ),
        pytest.param(
            Schedule(D(2026, 1, 15), "month", end_date=D(2026, 4, 15)),
            [D(2026, 1, 15), D(2026, 2, 15), D(2026, 3, 15), D(2026, 4, 15)],
            id="end-date-inclusive",
        ),
        pytest.param(
            Schedule(D(2026, 1, 15), "month", end_date=D(2026, 4, 14)),
            [D(2026, 1, 15), D(2026, 2, 15), D(2026, 3, 15)],
            id="end-date-the-day-before-a-run",
        ),
        pytest.param(
            Schedule(D(2026, 3, 1), "day", 10, max_runs=3),
            [D(2026, 3, 1), D(2026, 3, 11), D(2026, 3, 21)],
            id="max-runs",
        ),
        pytest.param(
            Schedule(D(2026, 3, 1), "week", end_date=D(2026, 3, 20), max_runs=10),
            [D(2026, 3, 1), D(2026, 3, 8), D(2026, 3, 15)],
            id="end-date-before-max-runs",
        ),
        pytest.param(
            Schedule(D(2026, 3, 1), "week", end_date=D(2026, 12, 31), max_runs=2),
            [D(2026, 3, 1), D(2026, 3, 8)],
            id="max-runs-before-end-date",
        ),
    ],
)
def test_run_dates(schedule, expected):
    assert schedule.upcoming(0, 0, 5) == expected


def test_max_runs_counts_the_invoices_made_not_the_index():
    schedule = Schedule(D(2026, 1, 1), "month", max_runs=3)
    # Two runs skipped (index 2), one made: two more may be made.
    assert schedule.upcoming(2, 1, 5) == [D(2026, 3, 1), D(2026, 4, 1)]


def test_no_run_past_the_last_accepted_date():
    assert run_date(D(2999, 6, 1), "year", 1, 1) is None
    assert run_date(D(2999, 12, 25), "week", 1, 1) is None
    assert Schedule(D(2999, 11, 30), "month").upcoming(0, 0, 5) == [D(2999, 11, 30), D(2999, 12, 30)]


@pytest.mark.parametrize(
    ("day", "k"), [(D(2025, 1, 31), 0), (D(2025, 2, 1), 1), (D(2025, 2, 28), 1), (D(2025, 3, 1), 2)]
)
def test_first_run_on_or_after_a_day(day, k):
    assert Schedule(D(2025, 1, 31), "month").first_index_on_or_after(day) == k


starts = st.dates(min_value=D(1990, 1, 1), max_value=D(2200, 12, 31))


@settings(max_examples=50, deadline=None)
@given(start=starts, unit=st.sampled_from(["month", "year"]), count=st.integers(1, 24), k=st.integers(0, 400))
def test_run_k_depends_on_the_start_date_only_never_on_run_k_minus_1(start, unit, count, k):
    day = run_date(start, unit, count, k)
    assume(day is not None)  # past 2999-12-31 there is no run
    months = count * k * (12 if unit == "year" else 1)
    assert (day.year - start.year) * 12 + day.month - start.month == months
    # The start date's day, clamped to this month alone: an earlier short month leaves no trace.
    assert day.day == min(start.day, calendar.monthrange(day.year, day.month)[1])
    if k > 0:
        previous = run_date(start, unit, count, k - 1)
        stepped_from_previous = run_date(previous, unit, count, 1)
        assert day >= stepped_from_previous
        if previous.day < start.day:  # run k-1 was clamped; run k is not pulled back with it
            assert day.day == min(start.day, calendar.monthrange(day.year, day.month)[1])


@settings(max_examples=50, deadline=None)
@given(
    start=starts,
    unit=st.sampled_from(["day", "week", "month", "year"]),
    count=st.integers(1, 366),
    offset=st.integers(0, 20_000),
)
def test_first_index_on_or_after_is_the_first_run_not_before_the_day(start, unit, count, offset):
    schedule = Schedule(start, unit, count)
    day = start + dt.timedelta(days=offset)
    k = schedule.first_index_on_or_after(day)
    assume(schedule.run_on(k) is not None)
    assert schedule.run_on(k) >= day
    if k > 0:
        assert schedule.run_on(k - 1) < day
