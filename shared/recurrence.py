"""The run dates of a recurring invoice (SPEC §12): one pure function of the start date and the run index.

Run ``k`` is dated ``start_date + k × (interval_count intervals)``. For months
and years the day of the month is the **start date's**, clamped to the length
of the run's month: from 31 January, monthly runs fall on 28/29 February,
31 March, 30 April, 31 May... A run's date is never worked out from the run
before it, so one short month cannot pull every later run back (the drift
other systems show after February).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from shared.models.enums import RecurringInterval
from shared.parsing import LATEST_DATE


def run_date(start: dt.date, interval: str, count: int, k: int) -> dt.date | None:
    """The date of run ``k`` (0-based), or None when it would fall after the last date we accept (2999-12-31)."""
    if k < 0 or count < 1:
        raise ValueError("k must be 0 or more and count at least 1")
    if interval in (RecurringInterval.DAY, RecurringInterval.WEEK):
        days = count * k * (7 if interval == RecurringInterval.WEEK else 1)
        if days > (LATEST_DATE - start).days:
            return None
        return start + dt.timedelta(days=days)
    if interval not in (RecurringInterval.MONTH, RecurringInterval.YEAR):
        raise ValueError(f"unknown interval {interval!r}")
    months = count * k * (12 if interval == RecurringInterval.YEAR else 1)
    years, month_index = divmod(start.month - 1 + months, 12)
    year = start.year + years
    if year > LATEST_DATE.year:
        return None
    month = month_index + 1
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Schedule:
    """A recurring invoice's schedule: the run dates and where they end (``end_date`` inclusive, ``max_runs``)."""

    start_date: dt.date
    interval: str
    interval_count: int = 1
    end_date: dt.date | None = None
    max_runs: int | None = None

    def run_on(self, k: int) -> dt.date | None:
        """Run ``k``'s date, or None past ``end_date`` (or past the dates we accept)."""
        day = run_date(self.start_date, self.interval, self.interval_count, k)
        if day is None or (self.end_date is not None and day > self.end_date):
            return None
        return day

    def first_index_on_or_after(self, day: dt.date) -> int:
        """The smallest ``k`` whose run date is on or after ``day`` (ignoring the end)."""
        if day <= self.start_date:
            return 0
        if self.interval in (RecurringInterval.DAY, RecurringInterval.WEEK):
            step = self.interval_count * (7 if self.interval == RecurringInterval.WEEK else 1)
            return -(-(day - self.start_date).days // step)
        step = self.interval_count * (12 if self.interval == RecurringInterval.YEAR else 1)
        months = (day.year - self.start_date.year) * 12 + day.month - self.start_date.month
        k = max(0, months // step - 1)
        while True:
            candidate = run_date(self.start_date, self.interval, self.interval_count, k)
            if candidate is None or candidate >= day:
                return k
            k += 1

    def next_run(self, k: int, runs_made: int) -> dt.date | None:
        """The date of run ``k`` if the schedule still has it (``max_runs`` counts the invoices made), else None."""
        if self.max_runs is not None and runs_made >= self.max_runs:
            return None
        return self.run_on(k)

    def upcoming(self, k: int, runs_made: int, count: int) -> list[dt.date]:
        """The next ``count`` run dates from run ``k`` on, as if each were made (for the editor's preview)."""
        return list(_take(self._dates_from(k, runs_made), count))

    def _dates_from(self, k: int, runs_made: int) -> Iterator[dt.date]:
        while True:
            day = self.next_run(k, runs_made)
            if day is None:
                return
            yield day
            k += 1
            runs_made += 1


def _take(dates: Iterator[dt.date], count: int) -> Iterator[dt.date]:
    for _, day in zip(range(count), dates, strict=False):
        yield day
