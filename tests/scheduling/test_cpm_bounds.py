"""The engine's bounds: critical paths counted without listing them, limits, time budget."""

import itertools

import pytest

from scheduling import cpm


def ladder(stages: int, *, duration: int = 1) -> dict:
    """Return ``stages`` stages of two equal parallel activities: 2^stages critical paths."""
    activities = []
    previous: list[str] = []
    for stage in range(stages):
        pair = [f"S{stage:02d}{side}" for side in "ab"]
        activities += [
            {"id": activity, "duration": duration, "predecessors": previous} for activity in pair
        ]
        previous = pair
    return {"activities": activities}


def test_ladder_paths_are_counted_exactly_and_listed_in_sorted_order():
    schedule = cpm.load_network(ladder(6)).evaluate()
    every = [
        tuple(f"S{stage:02d}{side}" for stage, side in enumerate(sides))
        for sides in itertools.product("ab", repeat=6)
    ]
    assert schedule.critical.count == 64
    assert schedule.critical_paths == tuple(sorted(every))
    assert schedule.critical.first(5) == tuple(sorted(every)[:5])


def test_count_of_a_forty_stage_ladder_needs_no_listing():
    schedule = cpm.load_network(ladder(40)).evaluate()
    assert schedule.critical.count == 2**40
    first = schedule.critical.first(3)
    assert first[0] == tuple(f"S{stage:02d}a" for stage in range(40))
    assert len(first) == 3


def test_count_matches_the_listing_when_several_chains_share_activities():
    network = {
        "activities": [
            {"id": "A", "duration": 2},
            {"id": "B", "duration": 2},
            {"id": "C", "duration": 1, "predecessors": ["A", "B"]},
            {"id": "D", "duration": 1, "predecessors": ["A", "B"]},
            {"id": "E", "duration": 3, "predecessors": ["C", "D"]},
            {"id": "F", "duration": 1, "predecessors": ["A"]},
        ]
    }
    schedule = cpm.load_network(network).evaluate()
    assert schedule.critical.count == len(schedule.critical_paths) == 4


def test_a_network_beyond_the_activity_limit_is_refused_before_it_is_read():
    limits = cpm.NetworkLimits(max_activities=10, max_links=5)
    with pytest.raises(cpm.NetworkTooLargeError) as refused:
        cpm.parse_network({"activities": [{"bad": "x"}] * 16}, limits=limits)
    assert (refused.value.field, refused.value.count, refused.value.limit) == (
        "activities",
        16,
        10,
    )
    cpm.parse_network(ladder(5), limits=limits.__class__(max_activities=10, max_links=100))
    with pytest.raises(cpm.NetworkTooLargeError) as refused:
        cpm.parse_network(ladder(6), limits=limits.__class__(max_activities=11, max_links=100))
    assert refused.value.count == 12


def test_links_beyond_the_limit_are_refused():
    limits = cpm.NetworkLimits(max_activities=100, max_links=7)
    with pytest.raises(cpm.NetworkTooLargeError) as refused:
        cpm.parse_network(ladder(4), limits=limits)
    assert (refused.value.field, refused.value.count) == ("links", 12)


def test_an_aoa_network_reducing_to_too_many_links_is_refused():
    # Four arcs into event 2 and four out of it: sixteen activity-level links, no dummy.
    arcs = [{"id": f"I{n}", "tail": 1, "head": 2 + 10 * n, "duration": 1} for n in range(1, 5)]
    arcs += [{"tail": 2 + 10 * n, "head": 2, "dummy": True} for n in range(1, 5)]
    arcs += [{"id": f"O{n}", "tail": 2, "head": 3 + n, "duration": 1} for n in range(4)]
    with pytest.raises(cpm.NetworkTooLargeError) as refused:
        cpm.load_network({"activities": arcs}, limits=cpm.NetworkLimits(max_links=10))
    assert (refused.value.field, refused.value.count) == ("links", 16)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"duration": 3651}, "duration"),
        ({"duration": 3651, "shortest_duration": 3651}, "duration"),
        ({"predecessors": [{"id": "A", "lag": -4000}]}, "lag after 'A'"),
        ({"duration": 10**5000 // 10**900}, "duration"),
    ],
)
def test_days_beyond_the_physical_bound_are_refused(change, field):
    network = {"activities": [{"id": "A", "duration": 1}, {"id": "B", **change}]}
    network["activities"][1].setdefault("duration", 1)
    with pytest.raises(cpm.ValueOutOfBoundsError) as refused:
        cpm.parse_network(network, limits=cpm.NetworkLimits())
    assert refused.value.field == field
    assert refused.value.limit == 3650
    assert "at most 3650 working days" in refused.value.message


def test_planned_duration_beyond_the_bound_is_refused():
    with pytest.raises(cpm.ValueOutOfBoundsError) as refused:
        cpm.parse_network(
            {"planned_duration": 3651, "activities": [{"id": "A", "duration": 1}]},
            limits=cpm.NetworkLimits(),
        )
    assert refused.value.field == "planned_duration"


def test_time_budget_stops_the_computation_between_passes():
    ticks = iter([0.0, 0.5, 2.0])
    budget = cpm.TimeBudget(1.0, clock=lambda: next(ticks))
    with pytest.raises(cpm.TimeBudgetExceededError) as refused:
        cpm.load_network(ladder(3), budget=budget)
    assert refused.value.stage == "compile"
