"""Time-limit clocks counted span by span agree with a day-by-day count (DESIGN.md §6)."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.calendar import WorkingCalendar
from scheduling.timelimits import WHOLE_PROCESS, ClockWork, clock_readings

CALENDAR = WorkingCalendar()
FIRST = date(2026, 4, 20)  # Labour Day's holiday and its make-up Saturday lie ahead
CLOCKS = ("acceptance", "survey")
days = st.integers(0, 40).map(lambda k: FIRST + timedelta(days=k))


@st.composite
def work_items(draw):
    start = draw(days)
    finish = draw(st.one_of(st.none(), st.integers(0, 15).map(lambda k: start + timedelta(k))))
    return ClockWork(clock=draw(st.sampled_from([*CLOCKS, "other"])), start=start, finish=finish)


@st.composite
def suspension_log(draw):
    periods = []
    for start in sorted(draw(st.lists(days, max_size=3, unique=True))):
        length = draw(st.one_of(st.none(), st.integers(0, 10)))
        periods.append((start, None if length is None else start + timedelta(days=length)))
    return periods


def day_by_day(work, suspensions, as_of, clock):
    """The definition: working days on which an activity of the clock ran, not suspended."""
    counted = set()
    for item in work:
        if item.clock != clock:
            continue
        day, last = item.start, min(item.finish, as_of) if item.finish else as_of
        while day <= last:
            paused = any(s <= day and (e is None or day < e) for s, e in suspensions)
            if CALENDAR.is_working_day(day) and not paused:
                counted.add(day)
            day += timedelta(days=1)
    return len(counted)


@settings(max_examples=300, deadline=None)
@given(st.lists(work_items(), max_size=6), suspension_log(), days)
def test_clock_readings_count_each_working_day_once(work, suspensions, as_of):
    readings = clock_readings(
        work,
        suspensions=suspensions,
        as_of=as_of,
        limits={"acceptance": 5, WHOLE_PROCESS: 12},
        working_days=CALENDAR.working_days_in,
        clocks=CLOCKS,
    )

    expected = {clock: day_by_day(work, suspensions, as_of, clock) for clock in CLOCKS}
    assert {clock: readings[clock].used for clock in CLOCKS} == expected
    assert readings[WHOLE_PROCESS].used == sum(expected.values())
    assert readings["survey"].status == "unlimited"
    used = expected["acceptance"]
    assert readings["acceptance"].status == (
        "exceeded" if used > 5 else "warning" if used >= 4 else "ok"
    )
