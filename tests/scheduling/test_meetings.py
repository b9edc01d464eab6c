"""Meetings in the plan: an activity held at a recurring meeting is placed on its meeting day
by every pass of the engine (pure, no database)."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling import deviation
from scheduling.cpm import Progress, load_network
from tests.scheduling.test_cpm import dags

WEDNESDAY = 2


def weekdays_from_monday(offset: int) -> int:
    """Working days Monday to Friday, day 0 a Monday, no holiday."""
    return offset % 5


def calendar_without(*days_off: date, start: date = date(2026, 3, 2)):
    """Return weekday_of for working days Monday to Friday from ``start`` less ``days_off``."""
    working = []
    day = start
    while len(working) < 400:
        if day.weekday() < 5 and day not in days_off:
            working.append(day)
        day += timedelta(days=1)
    return lambda offset: working[offset].weekday()


def network(*activities):
    """(id, duration, predecessors, kind[, shortest]) tuples as AON JSON."""
    return {
        "activities": [
            {
                "id": ident,
                "duration": duration,
                "predecessors": list(preds),
                "kind": kind,
                **({"shortest_duration": rest[0]} if rest else {}),
            }
            for ident, duration, preds, kind, *rest in activities
        ]
    }


TEXTBOOK = network(
    ("A", 3, [], "normal"),
    ("M", 1, ["A"], "meeting"),
    ("B", 2, ["M"], "normal"),
    ("C", 5, [], "normal"),
)


def test_the_plan_holds_the_meeting_at_the_next_meeting_day():
    compiled = load_network(TEXTBOOK)

    plan = compiled.evaluate(weekday_of=weekdays_from_monday, meeting_weekday=WEDNESDAY)

    # Forward: A 0-3 (Monday to Wednesday); M is ready on day 3, a Thursday, and waits 4
    # working days for Wednesday, day 7: M 7-8, B 8-10; C 0-5. Tc = Tp = 10.
    # Backward: B LF 10 LS 8; M may finish by 8, so start by 7, a Wednesday: LS 7, LF 8;
    # A LF 7 LS 4 (its float is M's wait), FF = 7 - 3; C LF 10 LS 5.
    times = {a: t.as_dict() for a, t in plan.activities.items()}
    assert times["A"] == dict(es=0, ef=3, ls=4, lf=7, tf=4, ff=4, critical=False)
    assert times["M"] == dict(es=7, ef=8, ls=7, lf=8, tf=0, ff=0, critical=True, wait=4)
    assert times["B"] == dict(es=8, ef=10, ls=8, lf=10, tf=0, ff=0, critical=True)
    assert times["C"] == dict(es=0, ef=5, ls=5, lf=10, tf=5, ff=5, critical=False)
    assert plan.duration == 10
    assert plan.activities["M"].wait == 4
    assert plan.critical_paths == (("M", "B"),)


def test_without_a_weekday_function_the_meeting_is_an_ordinary_activity():
    compiled = load_network(TEXTBOOK)

    plan = compiled.evaluate()

    assert (plan.activities["M"].es, plan.activities["M"].wait, plan.duration) == (3, 0, 6)
    assert "wait" not in plan.activities["M"].as_dict()


def test_an_activity_of_its_own_meeting_weekday_keeps_it():
    data = network(("A", 1, [], "normal"), ("M", 1, ["A"], "meeting"))
    data["activities"][1]["meeting_weekday"] = 4  # a Friday meeting

    plan = load_network(data).evaluate(weekday_of=weekdays_from_monday, meeting_weekday=WEDNESDAY)

    assert (plan.activities["M"].es, plan.activities["M"].wait) == (4, 3)


SHORT = network(
    ("P", 2, [], "normal", 1),
    ("M", 1, ["P"], "meeting"),
    ("B", 1, ["M"], "normal"),
)


def test_a_delay_that_misses_the_meeting_moves_the_finish_by_a_week():
    compiled = load_network(SHORT)
    plan = compiled.evaluate(weekday_of=weekdays_from_monday, meeting_weekday=WEDNESDAY)
    # P 0-2, M on Wednesday 2 without waiting, B 3-4.
    assert (plan.activities["M"].es, plan.activities["M"].wait, plan.duration) == (2, 0, 4)

    # P started on day 0 and, as of day 2, needs one more day: it ends on day 3 (Thursday),
    # and the meeting moves to the next Wednesday, day 7: M 7-8, B 8-9.
    forecast = compiled.forecast(
        2,
        {"P": Progress(actual_start=0, remaining=1)},
        weekday_of=weekdays_from_monday,
        meeting_weekday=WEDNESDAY,
    )

    assert (forecast.activities["M"].es, forecast.activities["M"].wait) == (7, 4)
    assert forecast.finish == plan.duration + 5
    # Tp = 4: the path from the meeting on is five days late; P waits with M's 4 days.
    assert (forecast.activities["M"].tf, forecast.activities["B"].tf) == (-5, -5)
    assert forecast.activities["P"].ff == 4
    # The forecast is reached through the same pass the what-ifs take.
    assert forecast.finish_if() == forecast.finish


def test_a_delay_that_misses_the_meeting_before_a_holiday_waits_longer():
    # Wednesday 11 March is a day off: after Wednesday 4 March (day 2) the next meeting day
    # is Wednesday 18 March, day 11 (days 5-10 are 9, 10, 12, 13, 16, 17 March).
    weekday_of = calendar_without(date(2026, 3, 11))
    compiled = load_network(SHORT)

    forecast = compiled.forecast(
        2,
        {"P": Progress(actual_start=0, remaining=1)},
        weekday_of=weekday_of,
        meeting_weekday=WEDNESDAY,
    )

    # M 11-12, B 12-13: 9 working days later than the plan's 4.
    assert (forecast.activities["M"].es, forecast.finish) == (11, 13)


def test_catching_the_meeting_says_what_to_finish_by_when_and_its_what_if_comes_true():
    compiled = load_network(SHORT)
    # P takes 3 days instead of 2: it ends on Thursday (day 3), the meeting waits for the
    # next Wednesday (day 7): M 7-8, B 8-9.
    forecast = compiled.forecast(
        0, {}, durations={"P": 3}, weekday_of=weekdays_from_monday, meeting_weekday=WEDNESDAY
    )
    assert forecast.finish == 9

    [catch] = [
        p
        for p in deviation.propose_corrections(
            forecast, meeting_weekday=WEDNESDAY, weekday_of=weekdays_from_monday
        )
        if p.kind == deviation.MEETING
    ]

    # P must finish by this Wednesday's meeting (EF ≤ 2: its last day is day 1), one day
    # earlier than forecast; the meeting then sits on day 2 and B on day 3: finish 4.
    assert catch.activities == ("M", "P")
    assert dict(catch.detail) == {
        "advance_days": 1,
        "meeting_day": 2,
        "next_meeting_day": 7,
        "wait_days": 4,
        "finish_by": {"P": 2},
    }
    assert (catch.finish_before, catch.new_finish, catch.days_recovered) == (9, 4, 5)
    # Done: P in 2 days (it may be cut to 1). The forecast becomes exactly the what-if.
    done = compiled.forecast(
        0, {}, durations={"P": 2}, weekday_of=weekdays_from_monday, meeting_weekday=WEDNESDAY
    )
    assert done.finish == catch.new_finish


@st.composite
def meeting_networks(draw):
    activities, order, _planned = draw(dags())
    meetings = draw(st.sets(st.sampled_from(sorted(activities))))
    data = {
        "activities": [
            {
                "id": a,
                "duration": activities[a][0],
                "predecessors": [{"id": p, "lag": lag} for p, lag in activities[a][1].items()],
                "kind": "meeting" if a in meetings else "normal",
            }
            for a in order
        ]
    }
    weekday = draw(st.integers(0, 4))
    holidays = draw(st.sets(st.integers(0, 60), max_size=8))
    working = [k for k in range(400) if k not in holidays]

    def weekday_of(offset):
        return working[offset] % 5

    return data, meetings, weekday, weekday_of


@settings(max_examples=150, deadline=None)
@given(meeting_networks())
def test_meetings_start_on_their_weekday_and_the_plan_keeps_its_floats(drawn):
    data, meetings, weekday, weekday_of = drawn
    compiled = load_network(data)

    plan = compiled.evaluate(weekday_of=weekday_of, meeting_weekday=weekday)

    for a in meetings:
        assert weekday_of(plan.activities[a].es) == weekday
        assert weekday_of(plan.activities[a].ls) == weekday
    for t in plan.activities.values():
        assert t.tf >= 0  # Tp = Tc
        assert t.tf == t.lf - t.ef
        assert t.ff >= 0
    assert plan.min_total_float == 0
    assert plan.critical_paths
    assert all(plan.activities[a].critical for path in plan.critical_paths for a in path)
    assert max(plan.activities[path[-1]].ef for path in plan.critical_paths) == plan.duration
    assert plan.finish_if() == plan.duration


@settings(max_examples=100, deadline=None)
@given(meeting_networks(), st.data())
def test_a_forecast_holds_unstarted_meetings_on_their_weekday(drawn, data):
    network_data, meetings, weekday, weekday_of = drawn
    compiled = load_network(network_data)
    as_of = data.draw(st.integers(0, 20))

    forecast = compiled.forecast(as_of, {}, weekday_of=weekday_of, meeting_weekday=weekday)

    for a in meetings:
        assert forecast.activities[a].es >= as_of
        assert weekday_of(forecast.activities[a].es) == weekday
    assert forecast.finish_if() == forecast.finish
    assert forecast.critical_paths
