"""A batch's working days in one list: date and offset conversions as lookups."""

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import date


class WorkingDays:
    """The working days of ``calendar`` from a batch's earliest start on, in one list.

    The forecast converts between dates and working-day offsets a few dozen times per
    application; from one list (day 0 + k is the entry k places after day 0), each is a
    lookup rather than a search of the calendar. It answers the calendar methods that the
    forecast, the progress and the time limits use, with the calendar's results. A date
    outside the list is left to the calendar, and the list grows only as far as an offset
    or a start asks, so it loads no year that the calendar would not have loaded.
    """

    def __init__(self, calendar, first: date) -> None:
        self._calendar = calendar
        first = calendar.project_day_zero(first)
        self._days = [first]
        self._index = {first: 0}
        self._weekdays = [first.weekday()]
        # The batch's risk forecasts read it in a thread of their own while the batch
        # reads the time limits: one grows the list at a time (reads need no lock: the
        # list only grows, and a day is indexed before it is appended).
        self._lock = threading.Lock()

    def _grow(self, until: Callable[[list[date]], bool]) -> None:
        days, index, following = self._days, self._index, self._calendar.next_working_day
        with self._lock:
            while not until(days):
                day = following(days[-1])
                index[day] = len(days)
                self._weekdays.append(day.weekday())
                days.append(day)

    def is_working_day(self, day: date) -> bool:
        if self._days[0] <= day <= self._days[-1]:
            return day in self._index
        return self._calendar.is_working_day(day)

    def dates_from(self, start: date, count: int) -> list[date]:
        zero = self._index.get(start)
        if zero is None or count <= 0:
            return self._calendar.dates_from(start, count)
        if zero + count > len(self._days):
            self._grow(lambda days: len(days) >= zero + count)
        return self._days[zero : zero + count]

    def weekdays_from(self, start: date, count: int) -> list[int]:
        zero = self._index.get(start)
        if zero is None or count <= 0:
            return self._calendar.weekdays_from(start, count)
        if zero + count > len(self._days):
            self._grow(lambda days: len(days) >= zero + count)
        return self._weekdays[zero : zero + count]

    def working_days_in(self, first: date, last: date) -> int:
        days = self._days
        if not days[0] <= first <= last <= days[-1]:
            return self._calendar.working_days_in(first, last)
        return bisect_right(days, last) - bisect_left(days, first)

    def project_day_zero(self, start: date) -> date:
        if start in self._index:
            return start
        if start < self._days[0]:
            return self._calendar.project_day_zero(start)
        self._grow(lambda days: days[-1] >= start)
        return self._days[bisect_left(self._days, start)]

    def offset_to_date(self, start: date, offset: int) -> date:
        position = self._index.get(start)
        if position is None or offset < 0:
            return self._calendar.offset_to_date(start, offset)
        position += offset
        if position >= len(self._days):
            self._grow(lambda days: len(days) > position)
        return self._days[position]

    def date_to_offset(self, start: date, day: date) -> int:
        zero = self._index.get(start)
        if zero is None or not self._days[0] <= day <= self._days[-1]:
            return self._calendar.date_to_offset(start, day)
        position = self._index.get(day)
        if position is None:  # a day off: the offset of the next working day
            position = bisect_left(self._days, day)
        return position - zero
