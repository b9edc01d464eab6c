"""The sweep's list of working days answers as the calendar does."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from applications.sweep.working_days import WorkingDays as _WorkingDays
from scheduling.calendar import WorkingCalendar

CALENDAR = WorkingCalendar()
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 6, 30))


@settings(max_examples=200, deadline=None)
@given(days, days, st.integers(0, 80), st.integers(-5, 40))
def test_the_sweeps_working_days_agree_with_the_calendar(first, start, offset, span):
    listed = _WorkingDays(CALENDAR, first)
    zero = listed.project_day_zero(start)
    day = start + timedelta(days=offset)

    assert zero == CALENDAR.project_day_zero(start)
    assert listed.offset_to_date(zero, offset) == CALENDAR.offset_to_date(zero, offset)
    assert listed.date_to_offset(zero, day) == CALENDAR.date_to_offset(zero, day)
    assert listed.is_working_day(day) == CALENDAR.is_working_day(day)
    assert listed.dates_from(zero, offset) == CALENDAR.dates_from(zero, offset)
    assert listed.weekdays_from(zero, offset) == CALENDAR.weekdays_from(zero, offset)
    last = day + timedelta(days=span)
    assert listed.working_days_in(day, last) == CALENDAR.working_days_in(day, last)
