"""Property tests of the CPM engine on generated networks: activity-on-arrow (AOA) networks
with dummies and chains of dummies, and activity-on-node (AON) networks with lags.

Each property is a statement of DESIGN.md §4 or of CPM theory, checked against something
computed independently of the engine: networkx's longest path, the activity-level logic
read off the arcs by a walk through the dummies, a brute-force enumeration of paths
(``naive_cpm``), or a second evaluation with a longer duration or another Tp.
"""

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.cpm import Progress, load_network
from tests.scheduling.test_cpm import as_aon_json, dags, naive_cpm


@dataclass(frozen=True)
class Case:
    """A generated network with its logic worked out independently of the engine."""

    data: dict[str, Any]
    # {id: (duration, {predecessor: lag})} and {id: {successor: lag}}, real activities only.
    activities: dict[str, tuple[int, dict[str, int]]]
    successors: dict[str, dict[str, int]]
    # A weighted DAG whose longest path is Tc.
    graph: nx.DiGraph
    is_aoa: bool


def successors_of(activities):
    succs = {a: {} for a in activities}
    for a, (_duration, preds) in activities.items():
        for p, lag in preds.items():
            succs[p][a] = lag
    return succs


def aoa_case(data):
    """Read the activity-level logic off AOA arcs: b follows a when b's tail is a's head or is
    reached from it through dummies only."""
    arcs = data["activities"]
    leaving = defaultdict(list)
    for arc in arcs:
        leaving[arc["tail"]].append(arc)

    def real_arcs_after(event):
        found, seen, stack = set(), {event}, [event]
        while stack:
            for arc in leaving[stack.pop()]:
                if not arc.get("dummy"):
                    found.add(arc["id"])
                elif arc["head"] not in seen:
                    seen.add(arc["head"])
                    stack.append(arc["head"])
        return found

    real = [arc for arc in arcs if not arc.get("dummy")]
    preds = {arc["id"]: {} for arc in real}
    for arc in real:
        for succ in real_arcs_after(arc["head"]):
            preds[succ][arc["id"]] = 0
    activities = {arc["id"]: (arc["duration"], preds[arc["id"]]) for arc in real}
    graph = nx.DiGraph()
    for arc in arcs:
        graph.add_edge(arc["tail"], arc["head"], weight=arc.get("duration", 0))
    return Case(data, activities, successors_of(activities), graph, is_aoa=True)


def aon_case(activities, order):
    """Split each activity into a start and a finish node so lags become edge weights."""
    graph = nx.DiGraph()
    for a, (duration, preds) in activities.items():
        graph.add_edge((a, "start"), (a, "finish"), weight=duration)
        for p, lag in preds.items():
            graph.add_edge((p, "finish"), (a, "start"), weight=lag)
    return Case(
        as_aon_json(activities, order, None),
        activities,
        successors_of(activities),
        graph,
        is_aoa=False,
    )


@st.composite
def aoa_networks(draw, kinds=("real", "real", "dummy", "chain"), max_events=8, max_arcs=14):
    """Return the JSON of an AOA network with dummies.

    Events are 100, 200, ...; an arc always runs from a lower to a higher number, no two arcs
    share a tail and a head, and a "chain" is two or three dummies in a row through events of
    their own (tail + 1, tail + 2, ...).
    """
    n = draw(st.integers(2, max_events))
    pairs = [(100 * i, 100 * j) for i in range(1, n + 1) for j in range(i + 1, n + 1)]
    chosen = draw(
        st.lists(
            st.sampled_from(pairs), min_size=1, max_size=min(max_arcs, len(pairs)), unique=True
        )
    )
    arcs = []
    used_after = defaultdict(int)  # intermediate events already taken after each event
    for number, (tail, head) in enumerate(chosen):
        kind = "real" if number == 0 else draw(st.sampled_from(kinds))
        if kind == "real":
            arcs.append(
                {
                    "id": f"A{number}",
                    "tail": tail,
                    "head": head,
                    "duration": draw(st.integers(0, 9)),
                }
            )
        elif kind == "dummy":
            arcs.append({"tail": tail, "head": head, "duration": 0, "dummy": True})
        else:
            points = [tail]
            for _ in range(draw(st.integers(1, 2))):
                used_after[tail] += 1
                points.append(tail + used_after[tail])
            points.append(head)
            arcs.extend(
                {"tail": a, "head": b, "dummy": True}
                for a, b in zip(points, points[1:], strict=False)
            )
    return {"activities": draw(st.permutations(arcs))}


aoa_cases = aoa_networks().map(aoa_case)
aon_cases = dags(max_size=10).map(lambda drawn: aon_case(drawn[0], drawn[1]))
cases = st.one_of(aoa_cases, aon_cases)


# --- Tc is the longest path -------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(cases)
def test_computed_duration_is_the_longest_path_of_the_network(case):
    schedule = load_network(case.data).evaluate()

    assert schedule.duration == nx.dag_longest_path_length(case.graph, weight="weight")
    if case.is_aoa:
        assert max(times.et for times in schedule.events.values()) == schedule.duration


# --- Floats and critical paths with Tp = Tc ---------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(cases)
def test_floats_and_critical_paths_keep_the_definitions_when_tp_equals_tc(case):
    schedule = load_network(case.data).evaluate()
    times = schedule.activities
    tc = schedule.duration

    assert set(times) == set(case.activities)  # every real activity, never a dummy
    assert schedule.planned_duration == tc
    assert schedule.min_total_float == 0
    for t in times.values():
        assert t.tf >= 0
        assert 0 <= t.ff <= t.tf
        assert t.critical == (t.tf == 0)

    on_a_path = set()
    for path in schedule.critical_paths:
        first, last = path[0], path[-1]
        assert not case.activities[first][1]  # starts at a start activity
        assert not case.successors[last]  # ends at an end activity
        assert times[first].es == 0
        assert times[last].ef == tc
        length = case.activities[first][0]
        for prev, nxt in zip(path, path[1:], strict=False):
            lag = case.successors[prev][nxt]  # KeyError: not a link of the network
            assert times[nxt].es == times[prev].ef + lag  # no gap
            length += lag + case.activities[nxt][0]
        assert length == tc
        on_a_path.update(path)
    assert on_a_path == {a for a, t in times.items() if t.critical}

    # Every chain of critical activities without a gap, found by brute force, is reported.
    _tc, _tp, _times, brute_force = naive_cpm(case.activities, None)
    assert [list(path) for path in schedule.critical_paths] == brute_force


# --- Delays -----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(cases, st.data())
def test_a_delay_moves_tc_by_its_excess_over_total_float_and_successors_over_free_float(case, data):
    compiled = load_network(case.data)
    before = compiled.evaluate()
    x = data.draw(st.sampled_from(sorted(case.activities)), label="activity")
    delay = data.draw(st.integers(0, 12), label="delay")
    tf, ff = before.activities[x].tf, before.activities[x].ff

    after = compiled.evaluate({x: case.activities[x][0] + delay})

    assert after.duration - before.duration == max(0, delay - tf)
    # The free float is what the earliest "successor start less its lag" absorbs: it moves by
    # exactly the excess. With lags the earliest successor start itself may move by less.
    slip = max(0, delay - ff)
    successors = case.successors[x]
    if successors:
        earliest = {
            name: min(s.activities[b].es - lag for b, lag in successors.items())
            for name, s in (("before", before), ("after", after))
        }
        assert earliest["after"] - earliest["before"] == slip
        if not any(successors.values()):
            assert (
                min(after.activities[b].es for b in successors)
                - min(before.activities[b].es for b in successors)
                == slip
            )
    else:
        # An end activity's free float is measured against Tp (here the old Tc).
        assert max(0, after.activities[x].ef - before.planned_duration) == slip
    # Nothing moves earlier, the delayed activity does not start later, nothing moves further.
    assert after.activities[x].es == before.activities[x].es
    for a in case.activities:
        assert 0 <= after.activities[a].es - before.activities[a].es <= slip


# --- Another committed duration ---------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(cases, st.data())
def test_a_committed_duration_shifts_late_times_and_floats_by_its_difference(case, data):
    compiled = load_network(case.data)
    base = compiled.evaluate()
    k = data.draw(st.integers(max(-6, -base.duration), 6), label="Tp - Tc")

    shifted = compiled.evaluate(planned_duration=base.duration + k)

    assert (shifted.duration, shifted.planned_duration) == (base.duration, base.duration + k)
    assert shifted.min_total_float == k
    for a, t in base.activities.items():
        s = shifted.activities[a]
        assert (s.es, s.ef) == (t.es, t.ef)
        assert (s.ls, s.lf, s.tf) == (t.ls + k, t.lf + k, t.tf + k)
        assert s.ff == t.ff + (0 if case.successors[a] else k)
        assert s.critical == t.critical
    assert shifted.critical_paths == base.critical_paths
    if case.is_aoa:
        for event, times in base.events.items():
            assert shifted.events[event] == (times.et, times.lt + k)


# --- Free float through dummies ---------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(aoa_networks(kinds=("real", "chain", "chain")).map(aoa_case))
def test_free_float_looks_through_chains_of_dummies(case):
    schedule = load_network(case.data).evaluate()
    times = schedule.activities
    heads = {arc["id"]: arc["head"] for arc in case.data["activities"] if not arc.get("dummy")}
    starting_at = defaultdict(set)
    for arc in case.data["activities"]:
        if not arc.get("dummy"):
            starting_at[arc["tail"]].add(arc["id"])

    for a, t in times.items():
        successors = case.successors[a]
        first_start = min((times[b].es for b in successors), default=schedule.planned_duration)
        assert t.ff == first_start - t.ef
        # Reading the float off the head event alone (ET(j) - EF) would treat the dummies
        # after it as work; the real successors can only start later than that.
        head_float = schedule.events[heads[a]].et - t.ef
        assert t.ff >= head_float
        if starting_at[heads[a]]:
            assert t.ff == head_float


# --- What-if finishes -------------------------------------------------------------------------


@st.composite
def progress_records(draw, activities):
    """Progress at a drawn as-of day: each activity not started, started or finished."""
    as_of = draw(st.integers(0, 15), label="as_of")
    progress = {}
    for activity in activities:
        state = draw(st.sampled_from(["none", "none", "started", "finished"]))
        if state == "none":
            continue
        start = draw(st.integers(0, as_of))
        if state == "finished":
            progress[activity] = Progress(start, draw(st.integers(start, as_of)))
        else:
            remaining = draw(st.one_of(st.none(), st.integers(0, 8)))
            progress[activity] = Progress(start, remaining=remaining)
    return as_of, progress


@settings(max_examples=300, deadline=None)
@given(cases, st.data())
def test_a_what_if_finish_is_the_finish_of_the_whole_computation(case, data):
    compiled = load_network(case.data)
    names = sorted(case.activities)
    as_of, progress = data.draw(progress_records(names))
    forecast = compiled.forecast(as_of, progress)
    changed = data.draw(st.dictionaries(st.sampled_from(names), st.integers(0, 9), max_size=3))
    floors = data.draw(st.dictionaries(st.sampled_from(names), st.integers(0, 30), max_size=2))
    pins = data.draw(st.dictionaries(st.sampled_from(names), st.integers(0, 30), max_size=1))

    expected = compiled._compute(
        {**forecast.durations, **changed},
        forecast.planned_duration,
        as_of=as_of,
        progress=progress,
        start_no_earlier=floors,
        fixed_start=pins,
    ).finish
    first = forecast.finish_if(durations=changed, start_no_earlier=floors, fixed_start=pins)
    again = forecast.finish_if(durations=changed, start_no_earlier=floors, fixed_start=pins)

    assert first == again == expected
    # Without a change it is the forecast's own finish.
    assert forecast.finish_if() == forecast.finish
