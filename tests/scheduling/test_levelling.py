"""Shared capacity (scheduling.levelling): schedules traced by hand, the unconstrained
forecast given back when capacity is unlimited, the review meeting's slots, bad input."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling import cpm
from scheduling.cpm import Progress
from scheduling.levelling import LevellingInputError, Project, Resource, Wait, level, relevel
from tests.scheduling.test_cpm import as_aon_json, dags


def weekday_of(day: int) -> int:
    """Global day 0 is a Monday; every day a working day, five to a week."""
    return day % 5


SURVEY_THEN_DESIGN = cpm.load_network(
    {
        "activities": [
            {"id": "S", "duration": 2, "predecessors": []},
            {"id": "D", "duration": 3, "predecessors": ["S"]},
        ]
    }
)


def survey_project(key, committed, as_of=0, **extra):
    return Project(
        key=key,
        compiled=SURVEY_THEN_DESIGN,
        day0=0,
        as_of=as_of,
        planned_duration=committed,
        committed=committed,
        demands={"S": {"crew": 1}},
        **extra,
    )


def test_one_crew_serves_the_least_float_first_as_traced_by_hand():
    # Unconstrained, each finishes on day 5; their floats against the commitment are
    # P1 0, P3 1, P2 3. The crew surveys P1 on days 0–1, P3 on 2–3, P2 on 4–5.
    projects = [survey_project("P1", 5), survey_project("P2", 8), survey_project("P3", 6)]
    found = level(projects, [Resource("crew", 1)], weekday_of=weekday_of)
    p1, p2, p3 = (found.projects[k] for k in ("P1", "P2", "P3"))
    assert (p1.starts, p1.finish, p1.delay, p1.waits) == ({"S": 0, "D": 2}, 5, 0, ())
    assert (p3.starts, p3.finish, p3.delay) == ({"S": 2, "D": 4}, 7, 2)
    assert p3.waits == (Wait("S", "crew", 2),)
    assert (p2.starts, p2.finish, p2.delay) == ({"S": 4, "D": 6}, 9, 4)
    assert p2.waited_for() == {"crew": 4}
    # The queue: three surveys asked of the crew on days 0 and 1, one each day when levelled.
    assert found.demand["crew"] == {0: 3, 1: 3}
    assert found.load["crew"] == {day: 1 for day in range(6)}
    assert found.over_capacity("crew") == [0, 1]
    # P3 still keeps its commitment (6 → 7 is late by one); P2 (8 → 9) by one too: the
    # rule spends float where there is most of it, not where a commitment is nearest.
    assert p3.finish - 6 == 1 and p2.finish - 8 == 1


def test_important_customers_go_first_where_configured():
    projects = [survey_project("P1", 5), survey_project("P2", 8, important=True)]
    crew = [Resource("crew", 1)]
    assert level(projects, crew, weekday_of=weekday_of).projects["P2"].starts["S"] == 2
    first = level(projects, crew, weekday_of=weekday_of, important_first=True)
    assert first.projects["P2"].starts["S"] == 0
    assert first.projects["P1"].starts["S"] == 2


def test_two_crews_a_day_or_a_day_off_change_the_queue():
    projects = [survey_project("P1", 5), survey_project("P2", 8), survey_project("P3", 6)]
    two = level(projects, [Resource("crew", 2)], weekday_of=weekday_of)
    assert [two.projects[k].starts["S"] for k in ("P1", "P3", "P2")] == [0, 0, 2]
    # The crew away on day 1: no survey of two days can span it.
    away = level(projects, [Resource("crew", 1, days_off=frozenset({1}))], weekday_of=weekday_of)
    assert [away.projects[k].starts["S"] for k in ("P1", "P3", "P2")] == [2, 4, 6]
    # An extra crew on day 0 and 1: two surveys at once then.
    extra = level(projects, [Resource("crew", 1, capacity_on={0: 2, 1: 2})], weekday_of=weekday_of)
    assert [extra.projects[k].starts["S"] for k in ("P1", "P3", "P2")] == [0, 0, 2]


def test_a_joint_activity_needs_every_crew_it_names_on_the_same_days():
    # P1's survey needs crews A and B together; P2's only B, P3's only A.
    projects = [
        Project(
            "P1",
            SURVEY_THEN_DESIGN,
            0,
            0,
            planned_duration=5,
            committed=5,
            demands={"S": {"A": 1, "B": 1}},
        ),
        Project(
            "P2", SURVEY_THEN_DESIGN, 0, 0, planned_duration=6, committed=6, demands={"S": {"B": 1}}
        ),
        Project(
            "P3", SURVEY_THEN_DESIGN, 0, 0, planned_duration=7, committed=7, demands={"S": {"A": 1}}
        ),
    ]
    found = level(projects, [Resource("A", 1), Resource("B", 1)], weekday_of=weekday_of)
    assert [found.projects[k].starts["S"] for k in ("P1", "P2", "P3")] == [0, 2, 2]


REVIEW = cpm.load_network(
    {
        "activities": [
            {"id": "P", "duration": 1, "predecessors": []},
            {"id": "M", "duration": 1, "predecessors": ["P"], "kind": "meeting"},
            {"id": "R", "duration": 1, "predecessors": ["M"]},
        ]
    }
)


def review_projects(count):
    # Plans prepared on Monday (day 0), reviewed at the Wednesday meeting (day 2).
    return [
        Project(
            f"R{n}",
            REVIEW,
            day0=0,
            as_of=0,
            planned_duration=4 + n,
            committed=4 + n,
            meeting_weekday=2,
            demands={"M": {"meeting": 1}},
        )
        for n in range(count)
    ]


def test_a_meeting_of_three_slots_sends_two_of_five_plans_to_next_week():
    meeting = Resource("meeting", 3, weekday=2)
    found = level(review_projects(5), [meeting], weekday_of=weekday_of)
    reviewed = {key: p.starts["M"] for key, p in found.projects.items()}
    # The three with the least float on Wednesday (day 2), the others a week later (day 7).
    assert reviewed == {"R0": 2, "R1": 2, "R2": 2, "R3": 7, "R4": 7}
    assert [found.projects[k].delay for k in ("R3", "R4")] == [5, 5]
    assert found.projects["R4"].waits == (Wait("M", "meeting", 5),)
    assert found.over_capacity("meeting") == [2]
    # An extra meeting on Thursday (day 3) takes them the next day instead.
    extra = Resource("meeting", 3, weekday=2, capacity_on={3: 3})
    again = level(review_projects(5), [extra], weekday_of=weekday_of)
    assert {key: p.starts["M"] for key, p in again.projects.items()} == {
        **reviewed,
        "R3": 3,
        "R4": 3,
    }


def test_recorded_work_is_not_moved_and_books_its_crew_first():
    # P2's survey began on day 0 and runs to day 2 whatever the crew's queue; P1, with less
    # float, waits for it.
    p2 = survey_project("P2", 8, as_of=1, progress={"S": Progress(actual_start=0)})
    p1 = Project(
        "P1", SURVEY_THEN_DESIGN, 0, 1, planned_duration=6, committed=6, demands={"S": {"crew": 1}}
    )
    found = level([p1, p2], [Resource("crew", 1)], weekday_of=weekday_of)
    assert found.projects["P2"].starts["S"] == 0 and found.projects["P2"].finishes["S"] == 2
    assert found.projects["P1"].starts["S"] == 2


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags(), st.data())
def test_with_unlimited_capacity_the_levelled_forecast_is_the_unconstrained_one(network, data):
    activities, order, planned = network
    compiled = cpm.load_network(as_aon_json(activities, order, planned))
    projects = []
    for n in range(data.draw(st.integers(1, 3))):
        as_of = data.draw(st.integers(0, 6))
        progress = {}
        for activity in data.draw(st.lists(st.sampled_from(order), unique=True, max_size=2)):
            start = data.draw(st.integers(0, as_of))
            if data.draw(st.booleans()):
                progress[activity] = Progress(start, data.draw(st.integers(start, as_of)))
            else:
                progress[activity] = Progress(actual_start=start)
        try:
            compiled.forecast(as_of, progress)
        except cpm.NetworkError:
            continue
        needs = data.draw(st.lists(st.sampled_from(order), unique=True, max_size=len(order)))
        projects.append(
            Project(
                n,
                compiled,
                day0=data.draw(st.integers(0, 10)),
                as_of=as_of,
                progress=progress,
                demands={a: {"crew": data.draw(st.integers(1, 3))} for a in needs},
            )
        )
    found = level(projects, [Resource("crew", None)], weekday_of=weekday_of)
    for project in projects:
        result = found.projects[project.key]
        forecast = result.unconstrained
        assert result.starts == {a: t.es for a, t in forecast.activities.items()}
        assert result.finishes == {a: t.ef for a, t in forecast.activities.items()}
        assert (result.finish, result.delay, result.waits) == (forecast.duration, 0, ())


@pytest.mark.parametrize(
    ("resources", "demands", "field", "says"),
    [
        ([Resource("crew", -1)], {}, "resources[0].capacity", "≥ 0, got -1"),
        ([Resource("crew", 1, capacity_on={4: -2})], {}, "resources[0].capacity_on[4]", "-2"),
        ([Resource("crew", 1), Resource("crew", 2)], {}, "resources[1].key", "given twice"),
        ([Resource("crew", 1, weekday=9)], {}, "resources[0].weekday", "0 (Monday) to 6"),
        (
            [Resource("crew", 1)],
            {"S": {"county-survey": 1}},
            "projects[P].demands.S",
            "'county-survey', which no resource provides",
        ),
        ([Resource("crew", 1)], {"S": {"crew": 0}}, "projects[P].demands.S", "got 0"),
        ([Resource("crew", 1)], {"Z": {"crew": 1}}, "projects[P].demands.Z", "no activity 'Z'"),
    ],
)
def test_bad_input_is_refused_naming_the_field(resources, demands, field, says):
    project = Project("P", SURVEY_THEN_DESIGN, 0, 0, demands=demands)
    with pytest.raises(LevellingInputError) as refused:
        level([project], resources, weekday_of=weekday_of)
    assert refused.value.field == field
    assert says in str(refused.value)


def test_a_crew_that_never_has_room_is_an_error_not_an_endless_wait():
    project = Project("P", SURVEY_THEN_DESIGN, 0, 0, demands={"S": {"crew": 2}})
    with pytest.raises(LevellingInputError) as refused:
        level([project], [Resource("crew", 1)], weekday_of=weekday_of)
    assert refused.value.field == "resources.crew"
    assert "no room for activity S of P" in str(refused.value)


def _levelled(found):
    return {
        key: (p.starts, p.finishes, p.finish, p.delay, p.waits) for key, p in found.projects.items()
    }


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags(), st.data())
def test_levelling_again_with_other_capacities_is_levelling_anew(network, data):
    """relevel (a measure's what-if) places only: it gives what level gives from scratch."""
    activities, order, planned = network
    compiled = cpm.load_network(as_aon_json(activities, order, planned))
    kinds = ["crew", "second", "meeting"]
    projects = []
    for n in range(data.draw(st.integers(1, 6))):
        as_of = data.draw(st.integers(0, 4))
        started = data.draw(st.lists(st.sampled_from(order), unique=True, max_size=1))
        progress = {a: Progress(actual_start=data.draw(st.integers(0, as_of))) for a in started}
        try:
            compiled.forecast(as_of, progress)
        except cpm.NetworkError:
            continue
        needs = data.draw(st.lists(st.sampled_from(order), unique=True, max_size=len(order)))
        days = dict(zip(compiled.ids, compiled._base, strict=True))
        projects.append(
            Project(
                n,
                compiled,
                day0=data.draw(st.integers(0, 6)),
                as_of=as_of,
                progress=progress,
                committed=data.draw(st.none() | st.integers(0, 20)),
                important=data.draw(st.booleans()),
                demands={
                    # A meeting is held in a day: only one-day activities are reviewed at one.
                    a: {
                        k: 1
                        for k in data.draw(
                            st.sets(
                                st.sampled_from(kinds if days[a] == 1 else kinds[:2]), min_size=1
                            )
                        )
                    }
                    for a in needs
                },
            )
        )
    resources = [Resource("crew", 1), Resource("second", 2), Resource("meeting", 2, weekday=2)]
    important_first = data.draw(st.booleans())
    before = level(projects, resources, weekday_of=weekday_of, important_first=important_first)
    changed = [
        Resource(
            r.key,
            r.capacity,
            weekday=r.weekday,
            capacity_on=data.draw(st.dictionaries(st.integers(0, 15), st.integers(1, 3))),
        )
        for r in resources
    ]
    again = relevel(before, changed)
    anew = level(projects, changed, weekday_of=weekday_of, important_first=important_first)
    assert _levelled(again) == _levelled(anew)
    assert (again.load, again.demand, again.capacity) == (anew.load, anew.demand, anew.capacity)
    # And again from the what-if: the states it reuses were not spoilt by placing.
    assert _levelled(relevel(again, resources)) == _levelled(before)


def test_levelling_again_needs_the_same_resources():
    project = Project("P", SURVEY_THEN_DESIGN, 0, 0, demands={"S": {"crew": 1}})
    before = level([project], [Resource("crew", 1)], weekday_of=weekday_of)
    with pytest.raises(LevellingInputError) as refused:
        relevel(before, [Resource("other", 1)])
    assert refused.value.field == "resources"
    with pytest.raises(LevellingInputError) as refused:
        relevel(before, [Resource("crew", -1)])
    assert refused.value.field == "resources[0].capacity"
