"""Measures that relieve a queue for shared capacity (scheduling.relief): found where the
queue forms, their effect computed over every project of the region, and the effect what
the levelling gives once the measure is taken."""

from scheduling import relief
from scheduling.levelling import Resource, level
from tests.scheduling.test_levelling import review_projects, survey_project, weekday_of


def test_an_extra_meeting_brings_back_the_two_plans_sent_to_next_week():
    meeting = Resource("meeting", 3, weekday=2)
    projects = review_projects(5)
    before = level(projects, [meeting], weekday_of=weekday_of)
    found = relief.measures(before, [meeting], weekday_of=weekday_of, first=0, horizon=30)
    # The queue forms at Wednesday's meeting (day 2): one more on Thursday (day 3).
    assert found == [relief.Measure(relief.EXTRA_MEETING, "meeting", {3: 3})]
    effect = relief.effect(found[0], projects, [meeting], before)
    # R3 and R4 were to finish on day 9 (reviewed day 7); now on day 5, within 7 and 8.
    assert effect.finishes == {"R3": (9, 5), "R4": (9, 5)}
    assert effect.kept == {"R3", "R4"} and effect.lost == frozenset()
    assert (effect.days_saved, effect.helped, effect.hurt) == (8, 2, 0)
    # Taken, the levelling gives exactly what the effect said.
    taken = level(projects, relief.with_measure([meeting], found[0]), weekday_of=weekday_of)
    assert {k: p.finish for k, p in taken.projects.items()} == {
        k: effect.finishes.get(k, (p.finish, p.finish))[1] for k, p in before.projects.items()
    }


def test_extra_crew_days_where_the_queue_forms_for_the_work_that_waited():
    # Three surveys of two days each for a crew of one: the queue forms on day 0, and the
    # surveys that waited take two days: a second crew on days 0 and 1.
    projects = [survey_project("P1", 5), survey_project("P2", 8), survey_project("P3", 6)]
    crew = Resource("crew", 1)
    before = level(projects, [crew], weekday_of=weekday_of)
    found = relief.measures(before, [crew], weekday_of=weekday_of, first=0, horizon=30)
    assert found == [relief.Measure(relief.EXTRA_DAY, "crew", {0: 2, 1: 2})]
    effect = relief.effect(found[0], projects, [crew], before)
    # P3 is surveyed beside P1 (finish 7 → 5), P2 on days 2–3 (9 → 7): both within again.
    assert effect.finishes == {"P3": (7, 5), "P2": (9, 7)}
    assert effect.kept == {"P2", "P3"}
    assert relief.ranked([effect]) == [effect]


def test_no_measure_for_a_resource_no_one_waited_for():
    projects = [survey_project("P1", 5)]
    crew = Resource("crew", 1)
    before = level(projects, [crew], weekday_of=weekday_of)
    assert relief.measures(before, [crew], weekday_of=weekday_of, first=0, horizon=30) == []


def test_ranked_puts_commitments_kept_before_days_saved():
    measure = relief.Measure(relief.EXTRA_DAY, "a", {1: 2})
    other = relief.Measure(relief.EXTRA_DAY, "b", {0: 2})
    many_days = relief.Effect(measure, {"P1": (20, 10)})
    one_kept = relief.Effect(other, {"P2": (9, 8)}, kept=frozenset({"P2"}))
    worse = relief.Effect(other, {"P3": (5, 6)})
    assert relief.ranked([many_days, one_kept, worse]) == [one_kept, many_days]


def test_a_loan_adds_what_is_lent_to_the_days_the_crew_is_short():
    projects = [survey_project("P1", 5), survey_project("P2", 8), survey_project("P3", 6)]
    crew = Resource("crew", 1)
    before = level(projects, [crew], weekday_of=weekday_of)
    loan = relief.borrowed(before, crew, [0, 1], 1, weekday_of=weekday_of)
    assert loan == relief.Measure(relief.LEND, "crew", {0: 2, 1: 2})
    effect = relief.effect(loan, projects, [crew], before)
    assert effect.finishes == {"P3": (7, 5), "P2": (9, 7)}
