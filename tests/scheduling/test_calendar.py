"""Tests of scheduling.calendar against known Chinese working-day facts (State Council
notices for 2025 and 2026, as carried by the holidays package) and its own invariants."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.calendar import CN_COVERED_YEARS, CalendarYearNotCoveredError, WorkingCalendar

CALENDAR = WorkingCalendar(years=range(2024, 2027))


def test_holiday_data_covers_the_state_council_notices_from_2001():
    assert CN_COVERED_YEARS.start == 2001
    assert 2026 in CN_COVERED_YEARS


@pytest.mark.parametrize("day", range(1, 9))
def test_national_day_2025_is_off_from_october_1_to_8(day):
    assert not CALENDAR.is_working_day(date(2025, 10, day))


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 9, 28),  # Sunday worked for National Day / Mid-Autumn
        date(2025, 10, 11),  # Saturday worked for National Day
        date(2025, 1, 26),  # Sunday worked for the Spring Festival
        date(2025, 2, 8),  # Saturday worked for the Spring Festival
        date(2025, 4, 27),  # Sunday worked for Labour Day
        date(2026, 1, 4),  # Sunday worked for New Year
        date(2026, 2, 14),  # Saturday worked for the Spring Festival
        date(2026, 2, 28),  # Saturday worked for the Spring Festival
    ],
)
def test_make_up_weekend_days_are_working_days(day):
    assert day.weekday() >= 5
    assert CALENDAR.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [date(2025, 1, 1), date(2025, 5, 5), date(2026, 1, 2), date(2026, 2, 16), date(2026, 2, 23)],
)
def test_statutory_holidays_on_weekdays_are_off(day):
    assert day.weekday() < 5
    assert not CALENDAR.is_working_day(day)


def test_ordinary_days():
    assert CALENDAR.is_working_day(date(2025, 9, 30))  # a Tuesday
    assert not CALENDAR.is_working_day(date(2025, 9, 27))  # a Saturday with no make-up


def test_make_up_day_announced_in_next_years_notice():
    # The 2002 notice made Saturday 2001-12-29 a working day for the 2002 New Year.
    assert WorkingCalendar(years=[2001]).is_working_day(date(2001, 12, 29))


def test_adding_working_days_across_national_day():
    assert CALENDAR.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert CALENDAR.add_working_days(date(2025, 10, 9), -1) == date(2025, 9, 30)
    assert CALENDAR.add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)
    # Friday 26th, then Sunday 28th, Monday 29th, Tuesday 30th, and Thursday 9 October.
    assert CALENDAR.add_working_days(date(2025, 9, 26), 4) == date(2025, 10, 9)
    assert CALENDAR.working_days_between(date(2025, 9, 26), date(2025, 10, 9)) == 4
    assert CALENDAR.working_days_between(date(2025, 10, 9), date(2025, 9, 26)) == -4


def test_adding_working_days_across_new_year():
    assert CALENDAR.add_working_days(date(2026, 1, 5), -1) == date(2026, 1, 4)
    assert CALENDAR.add_working_days(date(2026, 1, 4), -1) == date(2025, 12, 31)
    assert CALENDAR.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)


def test_zero_working_days_returns_the_start_itself():
    assert CALENDAR.add_working_days(date(2025, 10, 1), 0) == date(2025, 10, 1)
    assert CALENDAR.working_days_between(date(2025, 10, 1), date(2025, 10, 1)) == 0


def test_day_zero_of_a_project_starting_on_a_holiday_is_the_next_working_day():
    start = date(2025, 10, 1)

    assert CALENDAR.offset_to_date(start, 0) == date(2025, 10, 9)
    assert CALENDAR.offset_to_date(start, 2) == date(2025, 10, 11)
    assert CALENDAR.date_to_offset(start, date(2025, 10, 11)) == 2
    assert CALENDAR.date_to_offset(start, date(2025, 10, 5)) == 0
    assert CALENDAR.offset_to_date(start, -1) == date(2025, 9, 30)


def test_next_and_previous_working_day():
    assert CALENDAR.next_working_day(date(2025, 9, 30)) == date(2025, 10, 9)
    assert CALENDAR.previous_working_day(date(2025, 10, 9)) == date(2025, 9, 30)


def test_uncovered_year_is_an_error_naming_the_year():
    calendar = WorkingCalendar()

    with pytest.raises(CalendarYearNotCoveredError) as caught:
        calendar.is_working_day(date(CN_COVERED_YEARS.stop, 1, 4))

    assert caught.value.year == CN_COVERED_YEARS.stop
    assert caught.value.code == "calendar_year_not_covered"
    assert str(CN_COVERED_YEARS.stop) in str(caught.value)
    with pytest.raises(CalendarYearNotCoveredError):
        WorkingCalendar(years=[2000])


def test_stepping_into_an_uncovered_year_is_an_error():
    last = CN_COVERED_YEARS.stop - 1

    with pytest.raises(CalendarYearNotCoveredError) as caught:
        CALENDAR.add_working_days(date(last, 12, 1), 40)

    assert caught.value.year == last + 1


def test_national_day_week_2026_and_its_make_up_working_day():
    """The State Council notice for 2026 (in the holidays data): 1-7 October off, 10 worked."""
    assert [CALENDAR.is_working_day(date(2026, 10, d)) for d in range(1, 11)] == [
        False,
        False,
        False,
        False,
        False,
        False,
        False,
        True,
        True,
        True,
    ]
    assert CALENDAR.is_working_day(date(2026, 9, 20))  # a Sunday worked, same notice
    # Five working days from Wednesday 30 September: 8, 9, 10, 12, 13 October.
    assert CALENDAR.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)


def test_spring_festival_2027_is_not_guessed_silently():
    calendar = WorkingCalendar()
    with pytest.raises(CalendarYearNotCoveredError) as exc:
        calendar.is_working_day(date(2027, 2, 8))
    assert exc.value.year == 2027
    assert "no holiday data for 2027" in exc.value.message


def test_spring_festival_2027_estimate_is_visible():
    """The package knows the 2027 Spring Festival by rule: eve 5 Feb, then to 10 Feb."""
    calendar = WorkingCalendar(allow_uncovered=True)
    off = [d for d in range(4, 13) if not calendar.is_working_day(date(2027, 2, d))]
    assert off == [5, 6, 7, 8, 9, 10]
    assert calendar.guessed_years == {2027}
    assert not WorkingCalendar(years=[2026]).guessed_years


def test_spring_festival_2027_with_the_notice_entered_by_an_administrator():
    # Overrides as an administrator enters them from a notice (illustrative arrangement:
    # two more days off, one Saturday worked).
    overrides = {date(2027, 2, 11): False, date(2027, 2, 12): False, date(2027, 2, 20): True}
    calendar = WorkingCalendar(overrides=overrides, confirmed_years=[2027])
    assert [d for d in range(4, 22) if calendar.is_working_day(date(2027, 2, d))] == [
        4,
        15,
        16,
        17,
        18,
        19,
        20,
    ]
    assert calendar.guessed_years == frozenset()
    # Thursday 4 February plus one working day is Monday 15 February.
    assert calendar.add_working_days(date(2027, 2, 4), 1) == date(2027, 2, 15)
    assert calendar.working_days_between(date(2027, 2, 4), date(2027, 2, 20)) == 6


def test_overrides_win_over_the_holiday_data():
    calendar = WorkingCalendar(
        years=[2025],
        overrides={date(2025, 10, 8): True, date(2025, 9, 28): False, date(2025, 9, 29): False},
    )

    assert calendar.is_working_day(date(2025, 10, 8))
    assert not calendar.is_working_day(date(2025, 9, 28))
    assert calendar.add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 30)
    assert calendar.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 8)


def test_overrides_apply_in_guessed_years_too():
    year = CN_COVERED_YEARS.stop
    first_monday = date(year, 1, 1) + timedelta(days=(7 - date(year, 1, 1).weekday()) % 7)
    calendar = WorkingCalendar(overrides={first_monday: False}, allow_uncovered=True)

    assert not calendar.is_working_day(first_monday)


def test_long_steps_stay_fast_and_consistent():
    calendar = WorkingCalendar()

    far = calendar.add_working_days(date(2001, 1, 2), 6000)

    assert calendar.working_days_between(date(2001, 1, 2), far) == 6000
    assert calendar.add_working_days(far, -6000) == date(2001, 1, 2)
    assert calendar.loaded_years.start == 2001


# Late enough in 2026 and any step can run into 2027, which the data does not cover.
days_in_2025_2026 = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 9, 30))


@settings(max_examples=200, deadline=None)
@given(days_in_2025_2026, st.integers(-40, 40))
def test_adding_working_days_agrees_with_a_day_by_day_walk(start, n):
    day, left = start, abs(n)
    step = timedelta(days=1 if n > 0 else -1)
    while left:
        day += step
        if CALENDAR.is_working_day(day):
            left -= 1

    assert CALENDAR.add_working_days(start, n) == day


@settings(max_examples=200, deadline=None)
@given(days_in_2025_2026, st.integers(-150, 50))
def test_offsets_and_dates_round_trip(start, offset):
    day = CALENDAR.offset_to_date(start, offset)

    assert CALENDAR.is_working_day(day)
    assert CALENDAR.date_to_offset(start, day) == offset


@settings(max_examples=200, deadline=None)
@given(days_in_2025_2026, days_in_2025_2026)
def test_counting_working_days_inverts_adding_them(a, b):
    count = CALENDAR.working_days_between(a, b)

    if CALENDAR.is_working_day(b):
        assert CALENDAR.add_working_days(a, count) == b
    if CALENDAR.is_working_day(a) and CALENDAR.is_working_day(b):
        assert count == -CALENDAR.working_days_between(b, a)


@settings(max_examples=200, deadline=None)
@given(days_in_2025_2026, st.integers(-3, 60))
def test_working_days_in_a_span_agree_with_a_day_by_day_count(first, length):
    last = first + timedelta(days=length)
    walked = sum(
        CALENDAR.is_working_day(first + timedelta(days=k)) for k in range(max(0, length + 1))
    )

    assert CALENDAR.working_days_in(first, last) == walked


@settings(max_examples=100, deadline=None)
@given(days_in_2025_2026, st.integers(0, 60))
def test_the_dates_from_day_zero_are_the_offsets_one_by_one(start, count):
    assert CALENDAR.dates_from(start, count) == [
        CALENDAR.offset_to_date(start, k) for k in range(count)
    ]
    assert CALENDAR.weekdays_from(start, count) == [
        CALENDAR.offset_to_date(start, k).weekday() for k in range(count)
    ]
