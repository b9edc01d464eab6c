"""Each late working day attributed to the party that caused it (issue 14: 考核 by cause)."""

from datetime import date

import pytest

from accounts.models import Department
from applications.kpi import assessment
from scheduling import cpm
from scheduling.attribution import CUSTOMER, delay_by_party
from scheduling.models import Activity
from scheduling.selectors import application_delay_by_party, working_calendar
from tests.applications.test_lifecycle import DAY0, Desk
from tests.dates import pin_today
from tests.factories import make_application

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db, pin_today]


def walk(desk: Desk, days: dict[str, int]) -> date:
    """Walk an application from acceptance to energized, each activity taking its planned
    duration unless ``days`` says otherwise; return the energization day."""
    day = DAY0
    for code in "ABCD":
        day = desk.work(code, day, days.get(code))
    desk.move("start_survey", day)
    day = desk.work("E", day, days.get("E"))
    desk.move("start_design", day)
    for code in "FGH":
        day = desk.work(code, day, days.get(code))
    desk.move("start_fees", day)
    fees_day = day
    desk.work("M", fees_day)
    desk.move("start_construction", fees_day)
    day = desk.work("I", fees_day)
    day = desk.work("J", day)
    day = desk.work("K", day, days.get("K"))
    day = desk.work("L", day, days.get("L"))
    desk.work("N", fees_day)
    desk.move("start_energization", desk.activity("L").actual_finish)
    day = desk.work("O", day)
    desk.work("P", day, days.get("P"))
    energized_on = desk.activity("P").actual_finish
    desk.move("energize", energized_on)
    return energized_on


@pytest.fixture
def three_causes(supervisor, manager):
    """One application late by the design (F, 发展策划部: 6 days for 4), the customer's
    construction (K: 23 for 20) and the metering (P, 计量中心: 3 for 1), and one on time.

    The template's plan: Tc 51 working days, Tp (committed) 52, so every activity on the
    critical path (A-L, O, P) has one day of float against Tp. F, K and P are on it.
    The three slips, in plan order: F +2, K +3, P +2 = 7 days; the commitment's margin
    of one day absorbs the first of them (F's), so the application is 6 working days
    late: 1 caused by design, 3 by the customer, 2 by metering.
    """
    late = Desk(make_application(by=supervisor, manager=manager, accepted_on=DAY0), manager)
    on_time = Desk(make_application(by=supervisor, manager=manager, accepted_on=DAY0), manager)
    return {
        "late": late,
        "late_on": walk(late, {"F": 6, "K": 23, "P": 3}),
        "on_time": on_time,
        "on_time_on": walk(on_time, {}),
    }


def department(code):
    return Department.objects.get(code=code)


def test_each_party_is_attributed_the_days_it_caused(three_causes):
    desk = three_causes["late"]
    application = desk.application
    # Committed 15 May; 6 working days later (18-22 May, 25 May) is 25 May.
    assert application.committed_finish_date == date(2026, 5, 15)
    assert three_causes["late_on"] == date(2026, 5, 25)
    activities = list(Activity.objects.filter(application=application))
    caused = application_delay_by_party(
        application, activities, working_calendar(), three_causes["late_on"]
    )
    assert caused == {
        department("planning").pk: 1,
        CUSTOMER: 3,
        department("metering").pk: 2,
    }
    on_time = three_causes["on_time"].application
    assert three_causes["on_time_on"] == date(2026, 5, 14)
    activities = list(Activity.objects.filter(application=on_time))
    assert (
        application_delay_by_party(on_time, activities, working_calendar(), date(2026, 5, 14)) == {}
    )


def test_departments_are_assessed_by_the_delays_they_caused(three_causes, manager):
    result = assessment(start=date(2026, 5, 1), end=date(2026, 5, 31))
    rows = {row.key: row for row in result.departments}

    def figures(row):
        return (row.finished, row.on_time, row.late, row.delay_caused, row.worst_delay)

    # Both applications had work of every one of these departments; each is late only in
    # the one application it delayed, by the days it caused there.
    assert figures(rows[department("planning").pk]) == (2, 1, 1, 1, 1)
    assert figures(rows[department("metering").pk]) == (2, 1, 1, 2, 2)
    assert figures(rows[department("operations").pk]) == (2, 2, 0, 0, 0)
    assert figures(rows[department("marketing").pk]) == (2, 2, 0, 0, 0)
    assert rows[department("metering").pk].on_time_rate == 50
    assert rows[department("operations").pk].on_time_rate == 100
    # The customer side: 3 days in one of two applications.
    assert figures(result.customer) == (2, 1, 1, 3, 3)
    # The manager answers for the application's 6 late days, of which the utility's 1 + 2.
    (row,) = [row for row in result.managers if row.key == manager.pk]
    assert figures(row) == (2, 1, 1, 3, 6)
    assert row.average_delay == 6


def test_the_margin_absorbs_the_first_late_day_and_float_absorbs_the_rest():
    # A -> B on the critical path (2 days each) and C (1 day) beside them with 3 days of
    # float against Tp 5: Tc 4, a margin of one day.
    network = cpm.load_network(
        {
            "activities": [
                {"id": "A", "duration": 2},
                {"id": "B", "duration": 2, "predecessors": ["A"]},
                {"id": "C", "duration": 1},
            ]
        }
    )
    baseline = network.evaluate(planned_duration=5)
    party_of = {"A": "a", "B": "b", "C": "c"}

    def late(changes):
        # Everything recorded as done, on plan unless ``changes`` says otherwise.
        progress = {"A": done(0, 2), "B": done(2, 4), "C": done(0, 1), **changes}
        forecast = network.forecast(
            max(p.actual_finish for p in progress.values()),
            progress,
            durations={"A": 2, "B": 2, "C": 1},
            planned_duration=5,
        )
        return forecast.duration, delay_by_party(baseline, forecast, party_of)

    def done(start, finish):
        return cpm.Progress(actual_start=start, actual_finish=finish, remaining=None)

    # A takes 4 (+2), B its 2 from A's finish: finish 6, one day past Tp; the margin
    # takes A's first late day; B's lateness is inherited from A, not its own.
    assert late({"A": done(0, 4), "B": done(4, 6)}) == (6, {"a": 1})
    # B takes 3 (+1) as well: finish 7, two days late: A 1, B 1.
    assert late({"A": done(0, 4), "B": done(4, 7)}) == (7, {"a": 1, "b": 1})
    # C takes 4 (+3), all of it within its float: on time.
    assert late({"C": done(0, 4)}) == (4, {})
    # C takes 6 (+5): 6 > Tp 5 by one: C's delay beyond its float to Tc (3) is 2, the
    # margin absorbs one, 1 is C's.
    assert late({"C": done(0, 6)}) == (6, {"c": 1})
