"""Fixed days for the tests whose outcome depends on today: time-machine travels there.

A test that reads the clock (a page, a service or a task that defaults to today or now)
is pinned, so it gives the same answer on every day the suite runs:

- ``pin_today``: the suite's ordinary today, as a module's ``pytestmark`` or on one test;
- ``on_days_of_note``: the test runs once on each of ``DAYS_OF_NOTE``, with the moment
  as its ``now`` argument; ``day_of_note(name, *values)`` adds a case's own expectations
  (``@pytest.mark.parametrize(("now", "expected"), [day_of_note("new-year", ...), ...])``).

The moments are aware datetimes in Shanghai, and the clock stands still (``tick=False``).
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

SHANGHAI = ZoneInfo("Asia/Shanghai")

# A Friday, months after the spring 2026 the test applications are accepted in.
TODAY = date(2026, 11, 27)

DAYS_OF_NOTE = {
    # The last evening of a year: 15:30 UTC, the same day.
    "year-end": datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI),
    # New Year's Day, a holiday, just after midnight: UTC is still on 31 December.
    "new-year": datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI),
    # A Monday inside the Spring Festival (5-10 February 2027 off; 2027 is a year the
    # holiday data estimates by rule).
    "spring-festival": datetime(2027, 2, 8, 10, 0, tzinfo=SHANGHAI),
    # The first day of a month, a Monday, just after midnight: UTC is still on Sunday.
    "month-first": datetime(2027, 3, 1, 0, 30, tzinfo=SHANGHAI),
    # The last evening of a month, a Wednesday (the review meeting's day).
    "month-last": datetime(2027, 3, 31, 23, 30, tzinfo=SHANGHAI),
}


def pinned(moment: datetime | date) -> pytest.MarkDecorator:
    """Return the mark that runs a test at ``moment`` (a day means 10:00 in Shanghai)."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(10), tzinfo=SHANGHAI)
    if moment.tzinfo is None:
        raise ValueError("pin an aware datetime (Asia/Shanghai), not a naive one")
    return pytest.mark.time_machine(moment, tick=False)


pin_today = pinned(TODAY)


def day_of_note(name: str, *values):
    """Return the parameter of one of ``DAYS_OF_NOTE``: its moment, then ``values``."""
    moment = DAYS_OF_NOTE[name]
    return pytest.param(moment, *values, marks=pinned(moment), id=name)


on_days_of_note = pytest.mark.parametrize("now", [day_of_note(name) for name in DAYS_OF_NOTE])
