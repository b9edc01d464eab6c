"""The comparison of two stored plan versions (pure: network and schedule JSON only)."""

from scheduling import cpm
from scheduling.plandiff import compare, logic_text


def version(activities: list[dict], planned: int | None = None) -> tuple[dict, dict]:
    network = {"activities": activities}
    return network, cpm.load_network(network).evaluate(planned_duration=planned).as_dict()


def test_a_lag_moves_the_successor_and_tc():
    a = version(
        [
            {"id": "A", "duration": 2, "predecessors": []},
            {"id": "B", "duration": 3, "predecessors": ["A"]},
            {"id": "C", "duration": 1, "predecessors": []},
        ]
    )
    b = version(
        [
            {"id": "A", "duration": 2, "predecessors": []},
            {"id": "B", "duration": 3, "predecessors": [{"id": "A", "lag": 2}]},
            {"id": "D", "duration": 1, "predecessors": ["B"]},
        ]
    )
    c = compare(*a, *b)
    # Tc: A 2 + B 3 = 5, then A 2 + lag 2 + B 3 + D 1 = 8.
    assert (c.duration_before, c.duration_after, c.duration_change) == (5, 8, 3)
    rows = {row.code: row for row in c.activities}
    assert [row.code for row in c.activities] == ["A", "B", "D", "C"]
    assert rows["A"].moved is False
    assert rows["B"].changed == ("logic", "es", "ef")
    assert (rows["B"].before["logic"], rows["B"].after["logic"]) == ("A", "A+2")
    assert (rows["B"].before["es"], rows["B"].after["es"]) == (2, 4)
    # C (TF 4) is gone and D is new: everything of theirs counts as moved.
    assert rows["C"].after is None and rows["D"].before is None
    assert rows["C"].moved and rows["D"].moved


def test_events_are_written_tail_to_head():
    assert logic_text({"tail": 3, "head": 4}) == "3→4"
    assert logic_text({"predecessors": []}) == ""
