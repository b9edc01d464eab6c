"""China working-day calendar: weekends, statutory holidays, make-up working days (调休).

The schedule counts working days (DESIGN.md §4). A day is a working day when:

1. an administrator override says so (``overrides[date]`` is True, or False for a day off);
   overrides always win;
2. otherwise, it is a make-up working day (调休, a Saturday or Sunday the State Council
   declares a working day), taken from ``holidays.country_holidays("CN").weekend_workdays``;
3. otherwise, it is Monday to Friday and not a statutory holiday of ``holidays``' CN data.

The ``holidays`` package carries the State Council's yearly notices, with their make-up
working days, only for the years in :data:`CN_COVERED_YEARS` (2001-2026 in holidays 0.109);
for other years it knows the statutory holidays only by rule (the lunar dates and the
"observed" substitutions) and none of the 调休. A date in such a year raises
:class:`CalendarYearNotCoveredError`, except:

- in a year listed in ``confirmed_years``: an administrator has entered that year's notice
  as overrides, so the rule-based holidays plus the overrides are the official calendar;
- with ``allow_uncovered=True``: the rule-based holidays (without 调休) are used as an
  estimate, and each such year is recorded in :attr:`WorkingCalendar.guessed_years`, so
  the guess is visible, never silent.

Algorithm: each year is computed once into a sorted list of working-day ordinals (the loaded
years are kept contiguous), so stepping n working days or counting working days between two
dates is a binary search (``bisect``), O(log n), not a day-by-day loop. Years load lazily
when a date needs them, under a lock, so one calendar can be shared between threads.

Working-day offsets: day 0 is the project start (the start date if it is a working day,
else the next working day); offset k is the k-th working day after it. A CPM finish EF is
the start of day EF, so the last day an activity works is ``offset_to_date(start, EF - 1)``.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

import holidays
from holidays.countries.china import ChinaStaticHolidays

__all__ = [
    "CN_COVERED_YEARS",
    "CalendarError",
    "CalendarYearNotCoveredError",
    "WorkingCalendar",
]


def _covered_years() -> range:
    # The State Council notices (with 调休) are the "special" holidays keyed by year; a
    # year without a notice is only the package's rule-based estimate.
    years = sorted(ChinaStaticHolidays.special_public_holidays)
    return range(years[0], years[-1] + 1)


CN_COVERED_YEARS: range = _covered_years()


class CalendarError(Exception):
    code = "calendar_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CalendarYearNotCoveredError(CalendarError):
    """Raise when a date falls in a year the holiday data does not cover."""

    code = "calendar_year_not_covered"

    def __init__(self, year: int, covered: range = CN_COVERED_YEARS) -> None:
        self.year = year
        self.covered = covered
        super().__init__(
            f"the working-day calendar has no holiday data for {year} (the CN data covers "
            f"{covered.start}-{covered.stop - 1}); enter the year's official holiday notice as "
            f"calendar overrides and confirm the year, or allow estimated years"
        )


class WorkingCalendar:
    """Working days of the People's Republic of China, with administrator overrides.

    ``years`` are loaded eagerly (the span from the smallest to the largest); any other
    year loads when first needed. ``overrides`` maps a date to True (working) or False (off).
    ``confirmed_years`` are years beyond the package's notices whose official arrangement
    the overrides complete.
    """

    def __init__(
        self,
        years: Iterable[int] = (),
        overrides: Mapping[date, bool] | None = None,
        *,
        confirmed_years: Iterable[int] = (),
        allow_uncovered: bool = False,
    ) -> None:
        self.allow_uncovered = allow_uncovered
        self.confirmed_years = frozenset(confirmed_years)
        self._overrides: dict[date, bool] = {}
        for day, working in (overrides or {}).items():
            if not isinstance(day, date) or not isinstance(working, bool):
                raise TypeError("overrides must map dates to True (working) or False (off)")
            self._overrides[date(day.year, day.month, day.day)] = working
        self._guessed: set[int] = set()
        self._days: list[int] = []  # sorted ordinals of working days in years _first.._last
        self._first: int | None = None
        self._last: int | None = None
        self._lock = threading.Lock()
        years = sorted(set(years))
        if years:
            self._ensure(years[0], years[-1])

    @property
    def guessed_years(self) -> frozenset[int]:
        """Return the uncovered years whose calendar is an estimate (``allow_uncovered=True``)."""
        return frozenset(self._guessed)

    @property
    def loaded_years(self) -> range:
        if self._first is None:
            return range(0)
        return range(self._first, self._last + 1)

    # Queries.

    def is_working_day(self, day: date) -> bool:
        ordinal = self._ordinal(day)
        days = self._days
        position = bisect_left(days, ordinal)
        return position < len(days) and days[position] == ordinal

    def add_working_days(self, start: date, n: int) -> date:
        """Return the date ``n`` working days after ``start`` (before it when n < 0).

        ``start`` itself is not counted, so ``n = 1`` from a Friday is the next Monday (if
        working) and ``n = 0`` returns ``start`` unchanged, working day or not.
        """
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"n must be an integer, got {n!r}")
        if n == 0:
            return start
        ordinal = self._ordinal(start)
        while True:
            # One snapshot per step: another thread may swap in a longer list meanwhile.
            days = self._days
            if n > 0:
                target = bisect_right(days, ordinal) + n - 1
                if target < len(days):
                    return date.fromordinal(days[target])
                self._ensure(self._first, self._last + 1)
            else:
                target = bisect_left(days, ordinal) + n
                if target >= 0:
                    return date.fromordinal(days[target])
                self._ensure(self._first - 1, self._last)

    def next_working_day(self, day: date) -> date:
        """Return the first working day strictly after ``day``."""
        return self.add_working_days(day, 1)

    def previous_working_day(self, day: date) -> date:
        """Return the last working day strictly before ``day``."""
        return self.add_working_days(day, -1)

    def working_days_between(self, a: date, b: date) -> int:
        """Return the working days in (a, b] when a ≤ b, or minus those in [b, a) when b < a.

        It is the inverse of :meth:`add_working_days`: ``add_working_days(a, k)`` is ``b``
        for ``k = working_days_between(a, b)`` whenever ``b`` is a working day (the two
        half-open ranges mirror the two stepping directions; they agree when both ends are
        working days).
        """
        first, last = self._ordinal(a), self._ordinal(b)
        days = self._days
        if first <= last:
            return bisect_right(days, last) - bisect_right(days, first)
        return bisect_left(days, last) - bisect_left(days, first)

    def dates_from(self, start: date, count: int) -> list[date]:
        """Return the dates of offsets 0 to ``count`` - 1 counted from day 0 of ``start``."""
        if count <= 0:
            return []
        last = self.offset_to_date(start, count - 1)
        low, high = self._ordinal(self.project_day_zero(start)), self._ordinal(last)
        days = self._days
        return [
            date.fromordinal(ordinal)
            for ordinal in days[bisect_left(days, low) : bisect_right(days, high)]
        ]

    def weekdays_from(self, start: date, count: int) -> list[int]:
        """Return the weekdays (0 = Monday) of the dates :meth:`dates_from` returns."""
        if count <= 0:
            return []
        last = self.offset_to_date(start, count - 1)
        low, high = self._ordinal(self.project_day_zero(start)), self._ordinal(last)
        days = self._days
        # Day 1 of the proleptic Gregorian calendar was a Monday.
        span = days[bisect_left(days, low) : bisect_right(days, high)]
        return [(ordinal + 6) % 7 for ordinal in span]

    def working_days_in(self, first: date, last: date) -> int:
        """Return the working days from ``first`` to ``last``, both included (0 if last < first)."""
        if last < first:
            return 0
        low, high = self._ordinal(first), self._ordinal(last)
        days = self._days
        return bisect_right(days, high) - bisect_left(days, low)

    def project_day_zero(self, start: date) -> date:
        """Return day 0 of a project starting on ``start``: it, or the next working day."""
        return start if self.is_working_day(start) else self.next_working_day(start)

    def offset_to_date(self, start: date, offset: int) -> date:
        """Return the working day with index ``offset`` counted from day 0 of ``start``."""
        return self.add_working_days(self.project_day_zero(start), offset)

    def date_to_offset(self, start: date, day: date) -> int:
        """Return the working-day offset of ``day`` counted from day 0 of ``start``.

        A day off maps to the offset of the next working day (the first day work recorded
        on it can count), so ``date_to_offset(s, offset_to_date(s, k)) == k`` for every k.
        """
        zero = self._ordinal(self.project_day_zero(start))
        ordinal = self._ordinal(day)
        days = self._days
        return bisect_left(days, ordinal) - bisect_left(days, zero)

    # Loading.

    def _ordinal(self, day: date) -> int:
        if not isinstance(day, date):
            raise TypeError(f"expected a date, got {day!r}")
        self._ensure(day.year, day.year)
        return day.toordinal()

    def _ensure(self, first: int, last: int) -> None:
        """Load the years ``first``..``last`` and any gap to the years already loaded."""
        if self._first is not None and self._first <= first and last <= self._last:
            return
        with self._lock:
            if self._first is None:
                self._days = self._span(first, last)
                self._first, self._last = first, last
                return
            if first < self._first:
                self._days = self._span(first, self._first - 1) + self._days
                self._first = first
            if last > self._last:
                self._days = self._days + self._span(self._last + 1, last)
                self._last = last

    def _span(self, first: int, last: int) -> list[int]:
        days: list[int] = []
        for year in range(first, last + 1):
            days.extend(self._year(year))
        return days

    def _year(self, year: int) -> list[int]:
        if not 1 <= year <= 9998:
            raise CalendarYearNotCoveredError(year)
        if year in CN_COVERED_YEARS:
            # Next year's notice can declare a make-up day in late December of this year.
            source = holidays.country_holidays(
                "CN", years=[y for y in (year, year + 1) if y in CN_COVERED_YEARS]
            )
            days_off = {day for day in source if day.year == year}
            makeup = {day for day in source.weekend_workdays if day.year == year}
        elif year in self.confirmed_years or self.allow_uncovered:
            # Statutory holidays by rule; the 调休 come only from the overrides.
            source = holidays.country_holidays("CN", years=[year])
            days_off = {day for day in source if day.year == year}
            makeup = set()
            if year not in self.confirmed_years:
                self._guessed.add(year)
        else:
            raise CalendarYearNotCoveredError(year)
        result = []
        day = date(year, 1, 1)
        one = timedelta(days=1)
        while day.year == year:
            working = self._overrides.get(day)
            if working is None:
                working = day in makeup or (day.weekday() < 5 and day not in days_off)
            if working:
                result.append(day.toordinal())
            day += one
        return result
