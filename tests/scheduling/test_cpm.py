"""Tests of scheduling.cpm: the DESIGN.md §4 definitions on examples, hand-checked networks,
every input error, generated networks (against a naive reference) and the forecast."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling import cpm
from scheduling.cpm import (
    ActivitySpec,
    CycleError,
    DuplicateActivityError,
    DuplicateArcError,
    EmptyNetworkError,
    EventTimes,
    InvalidDurationError,
    InvalidLagError,
    InvalidProgressError,
    MalformedNetworkError,
    MixedFormError,
    Network,
    NetworkError,
    Predecessor,
    Progress,
    UnknownActivityError,
    UnknownPredecessorError,
    compile_network,
    load_network,
)

# The worked examples of the design, kept in the repository with the code they check.
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "networks"


def read_example(name: str):
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def aon(*activities, planned_duration=None):
    """Build AON JSON from (id, duration, predecessors) tuples; a predecessor may be (id, lag)."""
    data = {
        "activities": [
            {
                "id": ident,
                "duration": duration,
                "predecessors": [
                    pred if isinstance(pred, str) else {"id": pred[0], "lag": pred[1]}
                    for pred in preds
                ],
            }
            for ident, duration, preds in activities
        ]
    }
    if planned_duration is not None:
        data["planned_duration"] = planned_duration
    return data


def times(schedule, activity):
    return schedule.activities[activity].as_dict()


# --- The shared examples ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["hv-single-10kv", "textbook-aon"])
def test_example_network_matches_its_expected_output_exactly(name):
    schedule = load_network(read_example(f"{name}.json")).evaluate()

    assert schedule.as_dict() == read_example(f"{name}.expected.json")


def test_example_output_survives_a_json_round_trip():
    schedule = load_network(read_example("hv-single-10kv.json")).evaluate()

    assert json.loads(json.dumps(schedule.as_dict())) == read_example(
        "hv-single-10kv.expected.json"
    )


def test_events_appear_only_for_aoa_input():
    assert "events" not in load_network(read_example("textbook-aon.json")).evaluate().as_dict()
    assert load_network(read_example("hv-single-10kv.json")).evaluate().events[13] == EventTimes(
        15, 48
    )


def test_extras_are_carried_through_to_the_specs():
    compiled = load_network(read_example("hv-single-10kv.json"))

    survey = compiled.spec("E")
    assert (survey.name, survey.stage, survey.department, survey.party) == (
        "现场勘查",
        "survey",
        "营销部",
        "utility",
    )
    assert compiled.spec("G").kind == "meeting"
    assert compiled.spec("A").kind == "normal"


def test_committed_duration_shorter_than_computed_gives_negative_floats():
    schedule = load_network(read_example("textbook-aon.json")).evaluate()

    assert (schedule.duration, schedule.planned_duration) == (17, 16)
    assert schedule.min_total_float == -1
    # When Tp < Tc free float can exceed total float; neither is clamped.
    assert (schedule.activities["G"].tf, schedule.activities["G"].ff) == (6, 7)
    assert schedule.activities["H"].ff == -1


# --- Hand-checked networks --------------------------------------------------------------------


def test_aon_lags_shift_successors_and_give_two_critical_paths():
    compiled = load_network(
        aon(("A", 2, []), ("B", 3, [("A", 2)]), ("C", 1, ["A"]), ("D", 2, ["B", ("C", 4)]))
    )

    schedule = compiled.evaluate()

    assert schedule.duration == 9
    assert times(schedule, "A") == dict(es=0, ef=2, ls=0, lf=2, tf=0, ff=0, critical=True)
    assert times(schedule, "B") == dict(es=4, ef=7, ls=4, lf=7, tf=0, ff=0, critical=True)
    assert times(schedule, "C") == dict(es=2, ef=3, ls=2, lf=3, tf=0, ff=0, critical=True)
    assert times(schedule, "D") == dict(es=7, ef=9, ls=7, lf=9, tf=0, ff=0, critical=True)
    assert schedule.as_dict()["critical_paths"] == [["A", "B", "D"], ["A", "C", "D"]]


def test_aon_lag_float_is_measured_after_the_lag():
    schedule = load_network(
        aon(("A", 2, []), ("B", 3, [("A", 2)]), ("C", 1, ["A"]), ("D", 2, ["B", ("C", 3)]))
    ).evaluate()

    # FF(C) = ES(D) - lag - EF(C) = 7 - 3 - 3; LF(C) = LS(D) - lag = 7 - 3.
    assert times(schedule, "C") == dict(es=2, ef=3, ls=3, lf=4, tf=1, ff=1, critical=False)
    assert schedule.critical_paths == (("A", "B", "D"),)


def test_planned_duration_longer_than_computed_gives_every_activity_that_float():
    schedule = load_network(
        aon(
            ("A", 2, []),
            ("B", 3, [("A", 2)]),
            ("C", 1, ["A"]),
            ("D", 2, ["B", ("C", 4)]),
            planned_duration=12,
        )
    ).evaluate()

    assert (schedule.duration, schedule.planned_duration, schedule.min_total_float) == (9, 12, 3)
    assert all(item.tf == 3 and item.critical for item in schedule.activities.values())
    assert [item.ff for item in schedule.activities.values()] == [0, 0, 0, 3]
    assert schedule.critical_paths == (("A", "B", "D"), ("A", "C", "D"))


def test_planned_duration_argument_overrides_the_networks():
    compiled = load_network(read_example("textbook-aon.json"))

    assert compiled.evaluate(planned_duration=17).min_total_float == 0
    assert compiled.evaluate(planned_duration=20).activities["A"].tf == 3


AOA_WITH_DUMMY_CHAIN = {
    "activities": [
        {"id": "A", "tail": 1, "head": 2, "duration": 3},
        {"id": "B", "tail": 1, "head": 3, "duration": 5},
        {"tail": 2, "head": 4, "duration": 0, "dummy": True},
        {"tail": 4, "head": 3, "dummy": True},
        {"id": "C", "tail": 3, "head": 6, "duration": 2},
        {"id": "D", "tail": 2, "head": 6, "duration": 4},
        {"id": "E", "tail": 6, "head": 7, "duration": 1},
    ]
}


def test_aoa_successors_are_reached_through_a_chain_of_dummies():
    compiled = load_network(AOA_WITH_DUMMY_CHAIN)

    assert {link.id for link in compiled.predecessors("C")} == {"A", "B"}
    assert {link.id for link in compiled.successors("A")} == {"C", "D"}
    schedule = compiled.evaluate()
    assert times(schedule, "C") == dict(es=5, ef=7, ls=5, lf=7, tf=0, ff=0, critical=True)
    assert times(schedule, "A") == dict(es=0, ef=3, ls=0, lf=3, tf=0, ff=0, critical=True)
    assert schedule.as_dict()["critical_paths"] == [["A", "D", "E"], ["B", "C", "E"]]
    assert schedule.as_dict()["events"] == {
        "1": {"et": 0, "lt": 0},
        "2": {"et": 3, "lt": 3},
        "3": {"et": 5, "lt": 5},
        "4": {"et": 3, "lt": 5},
        "6": {"et": 7, "lt": 7},
        "7": {"et": 8, "lt": 8},
    }
    assert "dummy" not in " ".join(schedule.activities)


def test_evaluate_with_other_durations_reuses_the_compiled_network():
    compiled = load_network(read_example("hv-single-10kv.json"))

    longer = compiled.evaluate({"N": 40})

    assert longer.duration == 55
    assert longer.critical_paths == (("A", "B", "C", "D", "E", "F", "G", "H", "N", "O", "P"),)
    assert compiled.evaluate().duration == 51  # the compiled network did not change


def test_evaluation_needs_no_networkx_once_compiled(monkeypatch):
    compiled = load_network(read_example("hv-single-10kv.json"))

    class NoNetworkx:
        def __getattr__(self, name):
            raise AssertionError(f"networkx.{name} used during evaluation")

    monkeypatch.setattr(cpm, "nx", NoNetworkx())
    assert compiled.evaluate({"K": 25}).duration == 56
    assert compiled.forecast(3, {"A": Progress(0, 1)}).duration == 53


def test_topological_order_does_not_depend_on_input_order():
    data = aon(("D", 2, ["B", "C"]), ("C", 1, ["A"]), ("B", 3, ["A"]), ("A", 2, []))

    schedule = load_network(data).evaluate()

    assert schedule.duration == 7
    assert list(schedule.activities) == ["D", "C", "B", "A"]  # input order is kept for output
    assert schedule.critical_paths == (("A", "B", "D"),)


def test_dataclasses_can_be_built_without_json():
    network = Network(
        activities=(
            ActivitySpec("A", 2),
            ActivitySpec("B", 1, predecessors=(Predecessor("A", 1),)),
            ActivitySpec("C", 4, predecessors=("A",)),
        ),
        planned_duration=8,
    )

    schedule = compile_network(network).evaluate()

    assert (schedule.duration, schedule.activities["B"].es, schedule.activities["C"].tf) == (
        6,
        3,
        2,
    )


def test_descendants_and_parallel_variant():
    compiled = load_network(
        aon(("R", 1, []), ("M", 2, ["R"]), ("O", 3, ["M"]), ("X", 4, ["O"]), ("Y", 1, ["R"]))
    )

    assert compiled.descendants("M") == {"O", "X"}
    variant = compiled.with_parallel("O", "M")
    assert [link.id for link in variant.predecessors("O")] == ["R"]
    assert {link.id for link in variant.predecessors("X")} == {"O", "M"}
    assert variant.evaluate().duration == 8
    assert compiled.evaluate().duration == 10
    with pytest.raises(ValueError, match="directly"):
        compiled.with_parallel("M", "X")


# --- Errors -----------------------------------------------------------------------------------


def is_rotation(cycle, expected):
    cycle = list(cycle)
    return len(cycle) == len(expected) and any(
        cycle[i:] + cycle[:i] == list(expected) for i in range(len(cycle))
    )


def test_cycle_names_its_activities_in_order():
    data = aon(("S", 1, []), ("A", 1, ["S", "C"]), ("B", 1, ["A"]), ("C", 1, ["B"]))

    with pytest.raises(CycleError) as caught:
        load_network(data)

    assert caught.value.code == "cycle"
    assert is_rotation(caught.value.activities, ["A", "B", "C"])
    assert "cycle" in str(caught.value)


def test_activity_depending_on_itself_is_a_cycle():
    with pytest.raises(CycleError) as caught:
        load_network(aon(("A", 1, ["A"])))

    assert caught.value.activities == ("A",)


def test_aoa_cycle_names_arcs_and_events():
    data = {
        "activities": [
            {"id": "A", "tail": 1, "head": 2, "duration": 1},
            {"id": "B", "tail": 2, "head": 3, "duration": 1},
            {"tail": 3, "head": 1, "dummy": True},
        ]
    }

    with pytest.raises(CycleError) as caught:
        load_network(data)

    assert is_rotation(caught.value.activities, ["A", "B", "dummy 3-1"])
    assert is_rotation(caught.value.events, [1, 2, 3])


def test_unknown_predecessor():
    with pytest.raises(UnknownPredecessorError) as caught:
        load_network(aon(("A", 1, []), ("B", 1, ["Z"])))

    assert (caught.value.code, caught.value.activity, caught.value.predecessor) == (
        "unknown_predecessor",
        "B",
        "Z",
    )


def test_duplicate_activity_id():
    with pytest.raises(DuplicateActivityError) as caught:
        load_network(aon(("A", 1, []), ("A", 2, [])))

    assert (caught.value.code, caught.value.activity) == ("duplicate_activity", "A")


@pytest.mark.parametrize("value", [-1, 2.5, 3.0, True, "3", None, [1]])
def test_invalid_duration(value):
    data = aon(("A", 1, []), ("B", 1, ["A"]))
    data["activities"][1]["duration"] = value

    with pytest.raises(InvalidDurationError) as caught:
        load_network(data)

    assert (caught.value.code, caught.value.activity, caught.value.value) == (
        "invalid_duration",
        "B",
        value,
    )


def test_missing_duration():
    with pytest.raises(InvalidDurationError, match="has no duration") as caught:
        load_network({"activities": [{"id": "A", "predecessors": []}]})

    assert caught.value.activity == "A"


def test_dummy_that_takes_time_is_refused():
    data = {
        "activities": [
            {"id": "A", "tail": 1, "head": 2, "duration": 1},
            {"tail": 2, "head": 3, "duration": 2, "dummy": True},
        ]
    }

    with pytest.raises(InvalidDurationError) as caught:
        load_network(data)

    assert caught.value.activity == "dummy 2-3"


@pytest.mark.parametrize("value", [-2, 1.5, "x"])
def test_invalid_planned_duration(value):
    with pytest.raises(InvalidDurationError) as caught:
        load_network(aon(("A", 1, []), planned_duration=value))

    assert (caught.value.activity, caught.value.field) == (None, "planned_duration")


@pytest.mark.parametrize("lag", [-2, 1.5, "1"])
def test_invalid_lag(lag):
    # A lead (negative lag) may overlap at most the predecessor's duration: A takes 1 day.
    with pytest.raises(InvalidLagError) as caught:
        load_network(aon(("A", 1, []), ("B", 1, [("A", lag)])))

    assert (caught.value.activity, caught.value.predecessor, caught.value.value) == ("B", "A", lag)


def test_a_lead_is_bounded_by_the_shortest_duration_of_the_predecessor():
    network = aon(("A", 5, []), ("B", 2, [("A", -4)]))
    network["activities"][0]["shortest_duration"] = 3
    with pytest.raises(InvalidLagError):
        load_network(network)
    network["activities"][1]["predecessors"][0]["lag"] = -3
    assert load_network(network).evaluate().activities["B"].es == 2


def test_a_lead_overlaps_the_successor_with_its_predecessor():
    # A (5) then B (4) overlapping A's last 2 days, then C (1): B starts on day 3.
    schedule = load_network(aon(("A", 5, []), ("B", 4, [("A", -2)]), ("C", 1, ["B"]))).evaluate()
    times = schedule.activities
    assert (times["B"].es, times["B"].ef, times["C"].ef) == (3, 7, 8)
    assert schedule.duration == 8
    assert schedule.critical_paths == (("A", "B", "C"),)
    assert [times[a].tf for a in "ABC"] == [0, 0, 0]
    # A delay of A by one day moves B, C and the finish by one.
    assert schedule.finish_if(durations={"A": 6}) == 9


def test_a_predecessor_ending_after_its_overlapping_successor_keeps_no_false_float():
    # A (5) is overlapped by B (1) over its last 3 days: B ends on day 3, A on day 5, so
    # A ends the project; B may slip two days.
    schedule = load_network(aon(("A", 5, []), ("B", 1, [("A", -3)]))).evaluate()
    times = schedule.activities
    assert schedule.duration == 5
    assert (times["A"].ls, times["A"].lf, times["A"].tf, times["A"].ff) == (0, 5, 0, 0)
    assert (times["B"].es, times["B"].ls, times["B"].tf, times["B"].ff) == (2, 4, 2, 2)
    assert schedule.critical_paths == (("A",),)


@pytest.mark.parametrize(
    "data",
    [
        {"activities": []},
        {"activities": [{"tail": 1, "head": 2, "dummy": True}]},
    ],
)
def test_empty_network(data):
    with pytest.raises(EmptyNetworkError) as caught:
        load_network(data)

    assert caught.value.code == "empty_network"


@pytest.mark.parametrize("second", [{"id": "B", "duration": 2}, {"dummy": True, "duration": 0}])
def test_two_arcs_with_the_same_tail_and_head(second):
    data = {
        "activities": [
            {"id": "A", "tail": 1, "head": 2, "duration": 1},
            {"tail": 1, "head": 2, **second},
        ]
    }

    with pytest.raises(DuplicateArcError) as caught:
        load_network(data)

    assert (caught.value.tail, caught.value.head) == (1, 2)
    assert caught.value.activities[0] == "A"
    assert caught.value.activities[1] in {"B", "dummy 1-2"}


def test_mixing_forms_in_one_network():
    data = {
        "activities": [
            {"id": "A", "tail": 1, "head": 2, "duration": 1},
            {"id": "B", "duration": 1, "predecessors": ["A"]},
        ]
    }

    with pytest.raises(MixedFormError) as caught:
        load_network(data)

    assert (caught.value.code, caught.value.aoa_activity, caught.value.aon_activity) == (
        "mixed_form",
        "A",
        "B",
    )


def test_mixing_forms_in_one_activity():
    data = {"activities": [{"id": "A", "tail": 1, "head": 2, "duration": 1, "predecessors": []}]}

    with pytest.raises(MixedFormError):
        load_network(data)


@pytest.mark.parametrize(
    "data",
    [
        [],
        "network",
        {},
        {"activities": {"A": 1}},
        {"activities": ["A"]},
        {"activities": [{"duration": 1, "predecessors": []}]},
        {"activities": [{"id": 7, "duration": 1}]},
        {"activities": [{"id": "A", "duration": 1, "predecessors": "B"}]},
        {"activities": [{"id": "A", "duration": 1, "predecessors": [3]}]},
        {"activities": [{"id": "A", "duration": 1, "tail": "1", "head": 2}]},
        {"activities": [{"id": "A", "duration": 1, "tail": 1}]},
        {"activities": [{"id": "A", "duration": 1, "kind": "party"}]},
        {"activities": [{"id": "A", "duration": 1, "name": 5}]},
        {"activities": [{"id": "A", "duration": 1}], "name": ["x"]},
        {
            "activities": [
                {"id": "A", "duration": 1, "predecessors": []},
                {"id": "B", "duration": 1, "predecessors": ["A", "A"]},
            ]
        },
    ],
)
def test_malformed_input_is_a_network_error(data):
    with pytest.raises(MalformedNetworkError) as caught:
        load_network(data)

    assert caught.value.code == "malformed_network"


def test_unknown_activity_in_durations_or_parallel_with():
    compiled = load_network(aon(("A", 1, [])))
    with pytest.raises(UnknownActivityError) as caught:
        compiled.evaluate({"Z": 1})
    assert caught.value.activity == "Z"

    data = aon(("A", 1, []))
    data["activities"][0]["parallel_with"] = ["Q"]
    with pytest.raises(UnknownActivityError) as caught:
        load_network(data)
    assert (caught.value.activity, caught.value.referenced_by) == ("Q", "A")


def test_invalid_override_duration():
    with pytest.raises(InvalidDurationError):
        load_network(aon(("A", 1, []))).evaluate({"A": -3})


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-2, 4)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["A", "B", "", "meeting", "normal"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "lag"]), inner, max_size=2)
    ),
    max_leaves=6,
)
keys = st.sampled_from(
    [
        "id",
        "duration",
        "predecessors",
        "tail",
        "head",
        "dummy",
        "name",
        "kind",
        "shortest_duration",
        "min_duration",
        "parallel_with",
        "meeting_weekday",
        "party",
    ]
)
raw_activity = st.dictionaries(keys, json_values, max_size=6)
raw_network = (
    st.fixed_dictionaries(
        {"activities": st.lists(raw_activity, max_size=4)},
        optional={"planned_duration": json_values, "name": json_values},
    )
    | json_values
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(raw_network)
def test_arbitrary_input_gives_a_schedule_or_a_network_error(data):
    try:
        schedule = load_network(data).evaluate()
    except NetworkError as error:
        assert error.code and error.message
    else:
        assert schedule.duration >= 0


# --- Generated networks -----------------------------------------------------------------------


@st.composite
def dags(draw, max_size=9, with_lags=True):
    """Return (activities {id: (duration, {pred: lag})}, input order, Tp or None)."""
    n = draw(st.integers(1, max_size))
    activities = {}
    for i in range(n):
        preds = draw(st.lists(st.integers(0, i - 1), unique=True, max_size=3)) if i else []
        lags = [draw(st.integers(0, 3)) if with_lags else 0 for _ in preds]
        activities[f"A{i}"] = (
            draw(st.integers(0, 8)),
            {f"A{p}": lag for p, lag in zip(preds, lags, strict=True)},
        )
    order = draw(st.permutations(list(activities)))
    planned = draw(st.none() | st.integers(0, 50))
    return activities, order, planned


def as_aon_json(activities, order, planned):
    return aon(
        *[(a, activities[a][0], list(activities[a][1].items())) for a in order],
        planned_duration=planned,
    )


def as_aoa_json(activities, order, planned, chain):
    """Draw each activity as its own arc and each link as a dummy (some as two dummies)."""
    number = {a: i for i, a in enumerate(sorted(activities, key=lambda a: int(a[1:])))}
    arcs = [
        {
            "id": a,
            "tail": 2 * number[a] + 1,
            "head": 2 * number[a] + 2,
            "duration": activities[a][0],
        }
        for a in order
    ]
    extra = 1000
    for a in order:
        for p in activities[a][1]:
            start, end = 2 * number[p] + 2, 2 * number[a] + 1
            if chain.draw(st.booleans()):
                extra += 1
                arcs.append({"tail": start, "head": extra, "dummy": True})
                arcs.append({"tail": extra, "head": end, "dummy": True})
            else:
                arcs.append({"tail": start, "head": end, "dummy": True, "duration": 0})
    data = {"activities": arcs}
    if planned is not None:
        data["planned_duration"] = planned
    return data


def naive_cpm(activities, planned):
    """Compute the §4 definitions by fixed-point relaxation and brute-force path search."""
    duration = {a: spec[0] for a, spec in activities.items()}
    preds = {a: spec[1] for a, spec in activities.items()}
    succs = {a: {} for a in activities}
    for a, links in preds.items():
        for p, lag in links.items():
            succs[p][a] = lag
    es = dict.fromkeys(activities, 0)
    for _ in activities:
        for a in activities:
            es[a] = max([es[p] + duration[p] + lag for p, lag in preds[a].items()], default=0)
    ef = {a: es[a] + duration[a] for a in activities}
    tc = max(ef.values())
    tp = tc if planned is None else planned
    lf = dict.fromkeys(activities, tp)
    for _ in activities:
        for a in activities:
            lf[a] = min([lf[s] - duration[s] - lag for s, lag in succs[a].items()], default=tp)
    ls = {a: lf[a] - duration[a] for a in activities}
    tf = {a: ls[a] - es[a] for a in activities}
    ff = {
        a: min([es[s] - lag for s, lag in succs[a].items()], default=tp) - ef[a] for a in activities
    }
    least = min(tf.values())
    result = {
        a: dict(es=es[a], ef=ef[a], ls=ls[a], lf=lf[a], tf=tf[a], ff=ff[a], critical=tf[a] == least)
        for a in activities
    }
    paths = []

    def walk(path):
        last = path[-1]
        if not succs[last]:
            paths.append(path)
        for s in succs[last]:
            walk([*path, s])

    for a in activities:
        if not preds[a]:
            walk([a])
    critical_paths = sorted(
        path
        for path in paths
        if all(result[a]["critical"] for a in path)
        and all(es[b] == ef[a] + succs[a][b] for a, b in zip(path, path[1:], strict=False))
    )
    return tc, tp, result, critical_paths


def naive_events(data, activity_results, tp):
    arcs = data["activities"]
    events = {arc["tail"] for arc in arcs} | {arc["head"] for arc in arcs}
    length = {(arc["tail"], arc["head"]): arc.get("duration", 0) for arc in arcs}
    et = dict.fromkeys(events, 0)
    lt = dict.fromkeys(events, tp)
    for _ in events:
        for (i, j), d in length.items():
            et[j] = max(et[j], et[i] + d)
    for _ in events:
        for (i, j), d in length.items():
            lt[i] = min(lt[i], lt[j] - d)
    return {str(e): {"et": et[e], "lt": lt[e]} for e in events}


@settings(max_examples=250)
@given(dags())
def test_generated_networks_equal_the_naive_reference(drawn):
    activities, order, planned = drawn

    schedule = load_network(as_aon_json(activities, order, planned)).evaluate()

    tc, tp, expected, critical_paths = naive_cpm(activities, planned)
    assert (schedule.duration, schedule.planned_duration) == (tc, tp)
    assert {a: t.as_dict() for a, t in schedule.activities.items()} == expected
    assert schedule.as_dict()["critical_paths"] == critical_paths


@settings(max_examples=250)
@given(dags())
def test_generated_networks_keep_the_cpm_invariants(drawn):
    activities, order, planned = drawn
    compiled = load_network(as_aon_json(activities, order, planned))

    schedule = compiled.evaluate()

    slack = schedule.planned_duration - schedule.duration
    for a, t in schedule.activities.items():
        assert t.ef == t.es + activities[a][0]
        assert t.tf == t.ls - t.es
        assert t.tf >= slack  # so ES <= LS whenever Tp >= Tc
        if slack >= 0:
            assert t.es <= t.ls
            assert 0 <= t.ff <= t.tf
    assert schedule.min_total_float == schedule.planned_duration - schedule.duration
    assert schedule.critical_paths
    for path in schedule.critical_paths:
        assert not compiled.predecessors(path[0])
        assert not compiled.successors(path[-1])
        for a, b in zip(path, path[1:], strict=False):
            lag = activities[b][1][a]
            assert schedule.activities[b].es == schedule.activities[a].ef + lag
        assert all(schedule.activities[a].critical for a in path)


@settings(max_examples=200)
@given(dags(with_lags=False), st.data())
def test_aoa_and_equivalent_aon_forms_give_the_same_results(drawn, chain):
    activities, order, planned = drawn
    aoa_data = as_aoa_json(activities, order, planned, chain)

    from_aon = load_network(as_aon_json(activities, order, planned)).evaluate()
    from_aoa = load_network(aoa_data).evaluate()

    assert from_aoa.as_dict()["activities"] == from_aon.as_dict()["activities"]
    assert from_aoa.critical_paths == from_aon.critical_paths
    assert from_aoa.as_dict()["events"] == naive_events(
        aoa_data, from_aoa.activities, from_aoa.planned_duration
    )


# --- Forecast ---------------------------------------------------------------------------------


FORECAST_NETWORK = aon(("A", 3, []), ("B", 4, ["A"]), ("D", 5, []), ("C", 2, ["B", "D"]))


def test_forecast_keeps_finished_finishes_started_and_holds_back_unstarted():
    compiled = load_network(FORECAST_NETWORK)
    assert compiled.evaluate().duration == 9

    forecast = compiled.forecast(
        5, {"A": Progress(actual_start=0, actual_finish=4), "B": Progress(actual_start=4)}
    )

    assert forecast.as_of == 5
    assert (forecast.finish, forecast.planned_duration) == (12, 9)  # Tp defaults to the plan's Tc
    # A finished late: actual dates. B: 4 planned days, 1 done, 3 left. D: not before day 5.
    assert times(forecast, "A") == dict(es=0, ef=4, ls=-1, lf=3, tf=-1, ff=0, critical=False)
    assert times(forecast, "B") == dict(es=4, ef=8, ls=3, lf=7, tf=-1, ff=2, critical=False)
    assert times(forecast, "D") == dict(es=5, ef=10, ls=2, lf=7, tf=-3, ff=0, critical=True)
    assert times(forecast, "C") == dict(es=10, ef=12, ls=7, lf=9, tf=-3, ff=-3, critical=True)
    assert forecast.critical_paths == (("D", "C"),)


def test_forecast_uses_an_explicit_remaining_duration():
    compiled = load_network(FORECAST_NETWORK)

    forecast = compiled.forecast(
        5, {"A": Progress(0, 3), "B": Progress(actual_start=3, remaining=6)}, planned_duration=14
    )

    assert forecast.activities["B"].ef == 11
    assert forecast.activities["C"].es == 11
    assert (forecast.finish, forecast.planned_duration, forecast.min_total_float) == (13, 14, 1)


def test_forecast_remaining_never_goes_below_zero():
    compiled = load_network(FORECAST_NETWORK)

    forecast = compiled.forecast(9, {"A": Progress(0, 3), "B": Progress(actual_start=3)})

    assert forecast.activities["B"].ef == 9


def test_forecast_retained_logic_holds_out_of_sequence_work():
    compiled = load_network(aon(("A", 3, []), ("B", 2, ["A"])))

    forecast = compiled.forecast(2, {"A": Progress(actual_start=0), "B": Progress(actual_start=1)})

    # B started early, but its remaining day waits for A, which finishes on day 3.
    assert (forecast.activities["B"].es, forecast.activities["B"].ef) == (1, 4)


def test_a_start_on_the_day_its_predecessor_finished_keeps_the_critical_path():
    # Plan: A 0-2, B 2-5, C 5-7, D 2-3, F 7-8; Tc = Tp = 8, critical A-B-C-F.
    compiled = load_network(
        aon(("A", 2, []), ("B", 3, ["A"]), ("C", 2, ["B"]), ("D", 1, ["A"]), ("F", 1, ["C", "D"]))
    )
    # A's last day is day 1 (EF = 2); B was recorded as starting on that same day 1 (ES = 1):
    # a hand-over within the day. As of 2, B has 3 - (2 - 1) = 2 days left: EF(B) = 2 + 2 = 4,
    # then C 4-6, F 6-7, D 2-3; Tp = 8.
    forecast = compiled.forecast(
        2, {"A": Progress(actual_start=0, actual_finish=2), "B": Progress(actual_start=1)}
    )

    # Backward from Tp = 8: F LF 8 LS 7; C LF 7 LS 5; B LF 5 LS 5 - (4 - 1) = 2; D LF 7 LS 6.
    # A hands over to B at its EF 2, one day after B's recorded start, so B's LS counts from
    # there: LF(A) = min(LS(B) + 1, LS(D)) = min(3, 6) = 3, TF(A) = 3 - 2 = 1, FF(A) = 2 - 2.
    assert times(forecast, "A") == dict(es=0, ef=2, ls=1, lf=3, tf=1, ff=0, critical=True)
    assert times(forecast, "B") == dict(es=1, ef=4, ls=2, lf=5, tf=1, ff=0, critical=True)
    assert times(forecast, "C") == dict(es=4, ef=6, ls=5, lf=7, tf=1, ff=0, critical=True)
    assert times(forecast, "D") == dict(es=2, ef=3, ls=6, lf=7, tf=4, ff=3, critical=False)
    assert times(forecast, "F") == dict(es=6, ef=7, ls=7, lf=8, tf=1, ff=1, critical=True)
    assert forecast.critical_paths == (("A", "B", "C", "F"),)


def test_a_start_on_the_day_its_predecessor_finished_keeps_every_free_float_non_negative():
    compiled = load_network(aon(("A", 1, []), ("B", 1, ["A"]), ("C", 1, ["B"])))

    # A: day 0 (EF 1); B started and finished on day 0 too (ES 0, EF 1); as of day 1.
    forecast = compiled.forecast(1, {"A": Progress(0, 1), "B": Progress(0, 1)})

    # C 1-2, Tp = the plan's Tc = 3: every activity has one day of float, none is negative.
    assert [forecast.activities[a].ff for a in "ABC"] == [0, 0, 1]
    assert [forecast.activities[a].tf for a in "ABC"] == [1, 1, 1]
    assert forecast.critical_paths == (("A", "B", "C"),)


def test_forecast_with_no_progress_is_the_plan_shifted_to_the_as_of_day():
    compiled = load_network(read_example("textbook-aon.json"))

    forecast = compiled.forecast(2, {})

    assert forecast.finish == compiled.evaluate().duration + 2
    assert forecast.planned_duration == 16


def test_forecast_on_aoa_reports_events_from_the_forecast_times():
    compiled = load_network(read_example("hv-single-10kv.json"))

    forecast = compiled.forecast(3, {"A": Progress(0, 2), "B": Progress(2)})

    assert forecast.finish == 52
    assert forecast.events[16] == EventTimes(52, 51)


@pytest.mark.parametrize(
    ("as_of", "progress", "activity"),
    [
        (5, {"A": Progress(actual_start=6)}, "A"),
        (5, {"A": Progress(actual_start=0, actual_finish=7)}, "A"),
        (5, {"A": Progress(actual_finish=3)}, "A"),
        (5, {"A": Progress(actual_start=3, actual_finish=2)}, "A"),
        (5, {"B": Progress(actual_start=3, remaining=-1)}, "B"),
        (5, {"B": Progress(remaining=2)}, "B"),
        (5, {"B": (3, None, None)}, "B"),
        (-1, {}, None),
        (1.5, {}, None),
    ],
)
def test_invalid_progress(as_of, progress, activity):
    with pytest.raises(InvalidProgressError) as caught:
        load_network(FORECAST_NETWORK).forecast(as_of, progress)

    assert caught.value.activity == activity
    assert caught.value.code == "invalid_progress"


def test_progress_on_an_unknown_activity():
    with pytest.raises(UnknownActivityError):
        load_network(FORECAST_NETWORK).forecast(3, {"Z": Progress(0)})


@settings(max_examples=150)
@given(dags(), st.data())
def test_forecast_invariants_on_generated_networks(drawn, data):
    activities, order, planned = drawn
    compiled = load_network(as_aon_json(activities, order, planned))
    baseline = compiled.evaluate()
    as_of = data.draw(st.integers(0, baseline.duration + 3))
    progress = {}
    for a in compiled.ids:  # record progress consistently with the plan, in topological order
        t = baseline.activities[a]
        if t.ef <= as_of and data.draw(st.booleans()):
            progress[a] = Progress(t.es, t.ef)
        elif t.es <= as_of < t.ef and all(p.id in progress for p in compiled.predecessors(a)):
            progress[a] = Progress(t.es)

    forecast = compiled.forecast(as_of, progress, planned_duration=baseline.planned_duration)

    for a, t in forecast.activities.items():
        if a in progress and progress[a].actual_finish is not None:
            assert (t.es, t.ef) == (progress[a].actual_start, progress[a].actual_finish)
        elif a not in progress:
            assert t.es >= as_of
        assert t.tf == t.lf - t.ef
    assert forecast.finish >= baseline.duration
    assert forecast.min_total_float <= forecast.planned_duration - forecast.finish


def test_an_arrow_with_a_lead_overlaps_every_arc_into_its_tail_event():
    # A 1→2 (5 days, 3 at the shortest) and B 1→2' (2 days, via a dummy) end at event 3;
    # C 3→4 (4 days) may start 2 days before event 3 is reached: on day 3 instead of 5.
    network = {
        "activities": [
            {"id": "A", "tail": 1, "head": 3, "duration": 5, "shortest_duration": 3},
            {"id": "B", "tail": 1, "head": 2, "duration": 2},
            {"tail": 2, "head": 3, "dummy": True, "duration": 0},
            {"id": "C", "tail": 3, "head": 4, "duration": 4, "lead": 2},
        ]
    }
    schedule = load_network(network).evaluate()
    times = schedule.activities
    assert (times["C"].es, times["C"].ef, schedule.duration) == (3, 7, 7)
    assert schedule.critical_paths == (("A", "C"),)
    assert (times["B"].tf, times["B"].ff) == (3, 3)  # B may end by day 5: C starts at 3
    # A lead longer than B may be (2 days, no shortest duration) is refused.
    network["activities"][3]["lead"] = 3
    with pytest.raises(InvalidLagError) as caught:
        load_network(network)
    assert (caught.value.activity, caught.value.predecessor, caught.value.field) == (
        "C",
        "B",
        "lead",
    )


@pytest.mark.parametrize(("lead", "extra"), [(-1, {}), (1.5, {}), (1, {"predecessors": []})])
def test_a_lead_is_whole_days_on_an_arrow_only(lead, extra):
    item = {"id": "A", "duration": 2, "lead": lead}
    item |= extra or {"tail": 1, "head": 2}
    with pytest.raises(MalformedNetworkError):
        load_network({"activities": [item]})
