"""Textbook networks with published answers, computed by the engine.

Each test names its source and says which numbers are published there; the remaining
numbers (free floats, mostly) follow from the definitions of DESIGN.md §4 and are stated
as such. The activity-on-arrow examples include dummies, and one network has two critical
paths.
"""

import pytest

from scheduling.cpm import load_network
from tests.scheduling.test_cpm import aon


def arc(ident, tail, head, duration):
    return {"id": ident, "tail": tail, "head": head, "duration": duration}


def dummy(tail, head):
    return {"tail": tail, "head": head, "dummy": True}


def table(schedule):
    """Return {activity: (ES, EF, LS, LF, TF, FF)}."""
    return {a: (t.es, t.ef, t.ls, t.lf, t.tf, t.ff) for a, t in schedule.activities.items()}


def events(schedule):
    return {event: (t.et, t.lt) for event, t in schedule.events.items()}


# --- Hillier & Lieberman: the Reliable Construction Co. project (AON) -------------------------

RELIABLE = [
    ("A", 2, []),  # excavate
    ("B", 4, ["A"]),  # lay the foundation
    ("C", 10, ["B"]),  # put up the rough wall
    ("D", 6, ["C"]),  # put up the roof
    ("E", 4, ["C"]),  # install the exterior plumbing
    ("F", 5, ["E"]),  # install the interior plumbing
    ("G", 7, ["D"]),  # put up the exterior siding
    ("H", 9, ["E", "G"]),  # do the exterior painting
    ("I", 7, ["C"]),  # do the electrical work
    ("J", 8, ["F", "I"]),  # put up the wallboard
    ("K", 4, ["J"]),  # install the flooring
    ("L", 5, ["J"]),  # do the interior painting
    ("M", 2, ["H"]),  # install the exterior fixtures
    ("N", 6, ["K", "L"]),  # install the interior fixtures
]

# (ES, EF, LS, LF, TF, FF) in weeks.
RELIABLE_TIMES = {
    "A": (0, 2, 0, 2, 0, 0),
    "B": (2, 6, 2, 6, 0, 0),
    "C": (6, 16, 6, 16, 0, 0),
    "D": (16, 22, 20, 26, 4, 0),
    "E": (16, 20, 16, 20, 0, 0),
    "F": (20, 25, 20, 25, 0, 0),
    "G": (22, 29, 26, 33, 4, 0),
    "H": (29, 38, 33, 42, 4, 0),
    "I": (16, 23, 18, 25, 2, 2),
    "J": (25, 33, 25, 33, 0, 0),
    "K": (33, 37, 34, 38, 1, 1),
    "L": (33, 38, 33, 38, 0, 0),
    "M": (38, 40, 42, 44, 4, 4),
    "N": (38, 44, 38, 44, 0, 0),
}
RELIABLE_CRITICAL_PATH = ("A", "B", "C", "E", "F", "J", "L", "N")


def test_reliable_construction_takes_44_weeks_along_its_published_critical_path():
    """F. S. Hillier & G. J. Lieberman, *Introduction to Operations Research*, chapter
    "Project Management with PERT/CPM", the Reliable Construction Co. project (Table 10.1 in
    the 9th edition: activities A-N, their immediate predecessors and durations in weeks).

    Published: the project takes 44 weeks; the critical path is
    START-A-B-C-E-F-J-L-N-FINISH; earliest and latest start and finish times as listed here;
    slack 4 weeks for D, G, H and M, 2 for I, 1 for K, 0 for the others. The free floats
    follow from the definitions (I, K and M keep all their slack; D, G and H share theirs).
    """
    schedule = load_network(aon(*RELIABLE)).evaluate()

    assert schedule.duration == 44
    assert schedule.critical_paths == (RELIABLE_CRITICAL_PATH,)
    assert table(schedule) == RELIABLE_TIMES
    assert {a for a, t in schedule.activities.items() if t.critical} == set(RELIABLE_CRITICAL_PATH)


def test_reliable_construction_against_its_contract_dates():
    """Hillier & Lieberman, the same project: the contract sets a penalty if construction is
    not completed by the deadline of 47 weeks, and a bonus if it is completed within 40.

    Published: the deadline of 47 weeks and the bonus date of 40 weeks. By the definitions,
    with Tp = 47 every total float grows by 3 weeks and the critical path is unchanged; with
    Tp = 40 the critical activities have -4 weeks of float, the 4 weeks the plan misses the
    bonus by.
    """
    compiled = load_network(aon(*RELIABLE))

    deadline = compiled.evaluate(planned_duration=47)
    bonus = compiled.evaluate(planned_duration=40)

    assert (deadline.duration, deadline.planned_duration, deadline.min_total_float) == (44, 47, 3)
    assert {a: t.tf for a, t in deadline.activities.items()} == {
        a: times[4] + 3 for a, times in RELIABLE_TIMES.items()
    }
    assert deadline.critical_paths == (RELIABLE_CRITICAL_PATH,)
    assert (deadline.activities["M"].ff, deadline.activities["N"].ff) == (7, 3)
    assert bonus.min_total_float == -4
    assert {a for a, t in bonus.activities.items() if t.tf == -4} == set(RELIABLE_CRITICAL_PATH)
    assert (bonus.activities["N"].ls, bonus.activities["A"].ls) == (34, -4)


def test_reliable_construction_drawn_as_arrows_with_dummies_gives_the_same_answers():
    """Hillier & Lieberman's Reliable Construction Co. project drawn here as an
    activity-on-arrow diagram. Two dummies are needed: 6-7, because exterior painting (H)
    waits for the exterior plumbing (E) and the siding (G) while the interior plumbing (F)
    waits for E only; 10-11, because flooring (K) and interior painting (L) both run after
    the wallboard (J) and both precede the interior fixtures (N).

    Published: 44 weeks, critical path A-B-C-E-F-J-L-N and the times of the AON test, which
    do not depend on the drawing. The event times follow from the definitions. K's free
    float (1 week) is read through the dummy 10-11: the event formula ET(j) - EF would give
    0, as if the dummy were work.
    """
    data = {
        "activities": [
            arc("A", 1, 2, 2),
            arc("B", 2, 3, 4),
            arc("C", 3, 4, 10),
            arc("D", 4, 5, 6),
            arc("E", 4, 6, 4),
            dummy(6, 7),
            arc("G", 5, 7, 7),
            arc("F", 6, 8, 5),
            arc("I", 4, 8, 7),
            arc("J", 8, 9, 8),
            arc("K", 9, 10, 4),
            dummy(10, 11),
            arc("L", 9, 11, 5),
            arc("H", 7, 12, 9),
            arc("M", 12, 13, 2),
            arc("N", 11, 13, 6),
        ]
    }

    schedule = load_network(data).evaluate()

    assert schedule.duration == 44
    assert schedule.critical_paths == (RELIABLE_CRITICAL_PATH,)
    assert table(schedule) == RELIABLE_TIMES
    assert events(schedule) == {
        1: (0, 0),
        2: (2, 2),
        3: (6, 6),
        4: (16, 16),
        5: (22, 26),
        6: (20, 20),
        7: (29, 33),
        8: (25, 25),
        9: (33, 33),
        10: (37, 38),
        11: (38, 38),
        12: (38, 42),
        13: (44, 44),
    }
    assert schedule.events[10].et - schedule.activities["K"].ef == 0


def test_reliable_construction_with_slower_flooring_has_two_critical_paths():
    """Hillier & Lieberman's Reliable Construction Co. project with the flooring (K) taking
    5 weeks instead of 4: a variant, not a published answer, derived from the published one.

    K's published slack is 1 week, so one more week uses it up exactly: the project still
    takes 44 weeks, K becomes critical, and there are two critical paths, through K and
    through L, both from A to N.
    """
    compiled = load_network(aon(*RELIABLE))

    schedule = compiled.evaluate({"K": 5})

    assert schedule.duration == 44
    assert schedule.critical_paths == (
        ("A", "B", "C", "E", "F", "J", "K", "N"),
        ("A", "B", "C", "E", "F", "J", "L", "N"),
    )
    assert (schedule.activities["K"].tf, schedule.activities["K"].ff) == (0, 0)
    assert schedule.activities["I"].tf == 2  # the rest is as published


# --- Taylor: arrow diagrams with and without a dummy ------------------------------------------


TAYLOR_WITHOUT_DUMMY = (
    [
        arc("1-2", 1, 2, 7),
        arc("1-3", 1, 3, 10),
        arc("2-4", 2, 4, 6),
        arc("3-4", 3, 4, 5),
        arc("3-5", 3, 5, 4),
        arc("4-5", 4, 5, 3),
        arc("5-6", 5, 6, 2),
    ],
    20,
    ("1-3", "3-4", "4-5", "5-6"),
    # Activity: (ES, EF, LS, LF, slack)
    {
        "1-2": (0, 7, 2, 9, 2),
        "1-3": (0, 10, 0, 10, 0),
        "2-4": (7, 13, 9, 15, 2),
        "3-4": (10, 15, 10, 15, 0),
        "3-5": (10, 14, 14, 18, 4),
        "4-5": (15, 18, 15, 18, 0),
        "5-6": (18, 20, 18, 20, 0),
    },
)

TAYLOR_WITH_DUMMY = (
    [
        arc("1-2", 1, 2, 8),
        arc("1-3", 1, 3, 10),
        arc("1-4", 1, 4, 9),
        arc("2-5", 2, 5, 6),
        arc("2-6", 2, 6, 4),
        arc("3-5", 3, 5, 5),
        dummy(4, 5),
        arc("4-7", 4, 7, 7),
        arc("5-7", 5, 7, 12),
        arc("5-8", 5, 8, 15),
        arc("6-9", 6, 9, 18),
        arc("7-8", 7, 8, 4),
        arc("8-9", 8, 9, 7),
    ],
    38,
    ("1-3", "3-5", "5-7", "7-8", "8-9"),
    {
        "1-2": (0, 8, 1, 9, 1),
        "1-3": (0, 10, 0, 10, 0),
        "1-4": (0, 9, 6, 15, 6),
        "2-5": (8, 14, 9, 15, 1),
        "2-6": (8, 12, 16, 20, 8),
        "3-5": (10, 15, 10, 15, 0),
        "4-7": (9, 16, 20, 27, 11),
        "5-7": (15, 27, 15, 27, 0),
        "5-8": (15, 30, 16, 31, 1),
        "6-9": (12, 30, 20, 38, 8),
        "7-8": (27, 31, 27, 31, 0),
        "8-9": (31, 38, 31, 38, 0),
    },
)


@pytest.mark.parametrize(
    ("arcs", "duration", "critical_path", "published"),
    [TAYLOR_WITHOUT_DUMMY, TAYLOR_WITH_DUMMY],
    ids=["problem-5", "problem-6-with-dummy-4-5"],
)
def test_taylor_arrow_diagrams_match_the_published_tables(arcs, duration, critical_path, published):
    """B. W. Taylor, *Introduction to Management Science*, chapter "Project Management",
    problems 5 and 6: activity-on-arrow networks named by their events, times in weeks.

    Published (the chapter's solutions): ES, EF, LS, LF and slack of every activity, the
    critical paths 1-3-4-5-6 (20 weeks) and 1-3-5-7-8-9 (38 weeks). In problem 6, 4-5 is a
    dummy (time 0, slack 6 in the published table): it is not an activity, so it is not
    reported, and 1-4's latest finish of 15 comes through it from 5-7 and 5-8.
    """
    schedule = load_network({"activities": arcs}).evaluate()

    assert schedule.duration == duration
    assert schedule.critical_paths == (critical_path,)
    assert {a: (t.es, t.ef, t.ls, t.lf, t.tf) for a, t in schedule.activities.items()} == (
        published
    )


def test_taylor_dummy_is_not_an_activity_and_its_slack_is_read_off_the_events():
    """Taylor, problem 6 (see above). Published: the dummy 4-5 has ES = EF = 9,
    LS = LF = 15 and a slack of 6 weeks; here those are the event times around it.
    """
    schedule = load_network({"activities": TAYLOR_WITH_DUMMY[0]}).evaluate()

    assert "4-5" not in schedule.activities
    assert (schedule.events[4].et, schedule.events[5].lt) == (9, 15)


# --- Hendrickson: the nine-activity project ---------------------------------------------------


def test_hendrickson_nine_activity_project_event_times_and_critical_path():
    """C. Hendrickson, *Project Management for Construction*, chapter 10 "Fundamental
    Scheduling Procedures": the nine-activity project (site clearing A 4 days, removal of
    trees B 3, general excavation C 8, grading D 7, trench excavation E 9, formwork and
    reinforcement F 12, sewer lines G 2, other utilities H 5, pouring concrete I 6) drawn
    with events 0 to 5, no dummy needed.

    Published: earliest event times 0, 4, 12, 21, 24, 30 and latest event times 0, 4, 12,
    22, 24, 30; the minimum project duration of 30 days; the critical activities A, C, F,
    I. The floats follow from the definitions; with no dummy, FF = ET(j) - ET(i) - D.
    """
    data = {
        "activities": [
            arc("A", 0, 1, 4),
            arc("B", 0, 2, 3),
            arc("C", 1, 2, 8),
            arc("D", 1, 3, 7),
            arc("E", 2, 3, 9),
            arc("F", 2, 4, 12),
            arc("G", 3, 4, 2),
            arc("H", 3, 5, 5),
            arc("I", 4, 5, 6),
        ]
    }

    schedule = load_network(data).evaluate()

    assert schedule.duration == 30
    assert events(schedule) == {
        0: (0, 0),
        1: (4, 4),
        2: (12, 12),
        3: (21, 22),
        4: (24, 24),
        5: (30, 30),
    }
    assert schedule.critical_paths == (("A", "C", "F", "I"),)
    floats = {a: (t.tf, t.ff) for a, t in schedule.activities.items()}
    assert floats == {
        "A": (0, 0),
        "B": (9, 9),
        "C": (0, 0),
        "D": (11, 10),
        "E": (1, 0),
        "F": (0, 0),
        "G": (1, 1),
        "H": (4, 4),
        "I": (0, 0),
    }


# --- Winston: Widgetco ------------------------------------------------------------------------


def test_widgetco_free_float_of_training_looks_through_the_dummy():
    """W. L. Winston, *Operations Research: Applications and Algorithms*, the CPM section's
    Widgetco example: train workers A 6 days, purchase raw materials B 9, produce product 1
    C 8 (after A and B), produce product 2 D 7 (after A and B), test product 2 E 10 (after
    D), assemble the products F 12 (after C and E). Drawn with a dummy from the end of A to
    the start of C and D.

    Published: the project takes 38 days; the critical path is B-D-E-F; A has a total
    float of 3 days and C of 9. By DESIGN.md §4 the dummy is not an activity, so A's free
    float is measured to C and D, which cannot start before day 9: 3 days, where the event
    formula ET(j) - ET(i) - D gives 0 by treating the dummy as A's successor.
    """
    data = {
        "activities": [
            arc("A", 1, 2, 6),
            arc("B", 1, 3, 9),
            dummy(2, 3),
            arc("C", 3, 5, 8),
            arc("D", 3, 4, 7),
            arc("E", 4, 5, 10),
            arc("F", 5, 6, 12),
        ]
    }

    schedule = load_network(data).evaluate()

    assert schedule.duration == 38
    assert schedule.critical_paths == (("B", "D", "E", "F"),)
    assert table(schedule) == {
        "A": (0, 6, 3, 9, 3, 3),
        "B": (0, 9, 0, 9, 0, 0),
        "C": (9, 17, 18, 26, 9, 9),
        "D": (9, 16, 9, 16, 0, 0),
        "E": (16, 26, 16, 26, 0, 0),
        "F": (26, 38, 26, 38, 0, 0),
    }
    assert events(schedule) == {
        1: (0, 0),
        2: (6, 9),
        3: (9, 9),
        4: (16, 16),
        5: (26, 26),
        6: (38, 38),
    }
    assert schedule.events[2].et - schedule.events[1].et - 6 == 0  # the event formula


# --- Beasley: a network that needs two dummies ------------------------------------------------


def test_beasley_exam_network_with_two_dummies():
    """J. E. Beasley, *OR-Notes*, "Network analysis - activity on arc examples", the 1990
    UG exam question: activities 1-9 given by start and end node and duration in weeks,
    with the extra condition that activity 7 cannot start until activity 5 has finished.
    The solution ends activity 5 at a new node 9 and adds dummies 10 (9 to 5) and 11 (9 to
    6).

    Published: the earliest times E[1..9] = 0, 2, 3, 2, 10, 10, 19, 22, 10, so the project
    takes 22 weeks. The latest times, the floats and the critical activities 2, 5, 8, 9
    (with dummy 11, which is not an activity) follow from the definitions.
    """
    data = {
        "activities": [
            arc("1", 1, 2, 2),
            arc("2", 1, 3, 3),
            arc("3", 1, 4, 2),
            arc("4", 2, 5, 3),
            arc("5", 3, 9, 7),
            dummy(9, 5),
            dummy(9, 6),
            arc("6", 4, 6, 5),
            arc("7", 5, 7, 4),
            arc("8", 6, 7, 9),
            arc("9", 7, 8, 3),
        ]
    }

    schedule = load_network(data).evaluate()

    assert schedule.duration == 22
    assert {event: t.et for event, t in schedule.events.items()} == {
        1: 0,
        2: 2,
        3: 3,
        4: 2,
        5: 10,
        6: 10,
        7: 19,
        8: 22,
        9: 10,
    }
    assert schedule.critical_paths == (("2", "5", "8", "9"),)
    assert {a: (t.tf, t.ff) for a, t in schedule.activities.items()} == {
        "1": (10, 0),
        "2": (0, 0),
        "3": (3, 0),
        "4": (10, 5),
        "5": (0, 0),
        "6": (3, 3),
        "7": (5, 5),
        "8": (0, 0),
        "9": (0, 0),
    }
