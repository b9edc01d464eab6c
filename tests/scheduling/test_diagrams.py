"""The geometry of the network diagram and the Gantt chart (pure, no database)."""

from datetime import date, timedelta
from importlib import import_module
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.diagrams import (
    Arc,
    DiagramError,
    GanttTask,
    aon_arcs,
    event_times,
    gantt_layout,
    network_layout,
    percent_complete,
    text_width,
    time_scaled_layout,
    wrap_label,
)

TEMPLATES = import_module("scheduling.migrations.0002_default_templates")


def template_arcs(rows, critical=()):
    return [
        Arc(
            tail=r["tail"],
            head=r["head"],
            code=r["code"],
            name=r.get("name", ""),
            duration=r["duration"],
            dummy=r["is_dummy"],
            critical=r["code"] in critical,
        )
        for r in rows
    ]


def distance_to_segment(point, a, b):
    (px, py), (ax, ay), (bx, by) = point, a, b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0 if length2 == 0 else max(0, min(1, ((px - ax) * dx + (py - ay) * dy) / length2))
    cx, cy = ax + t * dx, ay + t * dy
    return ((px - cx) ** 2 + (py - cy) ** 2) ** 0.5


def check_drawing(arcs, diagram):
    """The invariants every drawing keeps."""
    numbers = [e.number for e in diagram.events]
    assert sorted(numbers) == sorted({a.tail for a in arcs} | {a.head for a in arcs})
    assert len(numbers) == len(set(numbers)), "an event is drawn twice"
    for first, second in combinations(diagram.events, 2):
        gap = ((first.x - second.x) ** 2 + (first.y - second.y) ** 2) ** 0.5
        assert gap >= 2 * diagram.radius + 10, f"events {first.number} and {second.number} overlap"
    r = diagram.radius
    assert len(diagram.arcs) == len(arcs)
    for placed in diagram.arcs:
        tail, head = diagram.event(placed.arc.tail), diagram.event(placed.arc.head)
        start, end = placed.points[0], placed.points[-1]
        assert ((start[0] - tail.x) ** 2 + (start[1] - tail.y) ** 2) ** 0.5 == pytest.approx(r)
        assert ((end[0] - head.x) ** 2 + (end[1] - head.y) ** 2) ** 0.5 == pytest.approx(r + 1)
        assert head.layer > tail.layer, "arcs run left to right"
        xs = [x for x, _ in placed.points]
        assert xs == sorted(xs)
        for other in diagram.events:
            if other.number in (tail.number, head.number):
                continue
            for a, b in zip(placed.points, placed.points[1:], strict=False):
                assert distance_to_segment((other.x, other.y), a, b) > r, (
                    f"arc {placed.arc.tail}-{placed.arc.head} crosses event {other.number}"
                )


@pytest.mark.parametrize("name", ["LV_NON_RESIDENTIAL", "HV_SINGLE_10KV", "HV_DUAL_10KV"])
def test_the_default_templates_draw_with_every_event_once_and_no_crossing(name):
    arcs = template_arcs(getattr(TEMPLATES, name))
    diagram = network_layout(arcs)
    check_drawing(arcs, diagram)
    assert diagram.crossings == 0


def test_events_go_to_the_column_of_their_longest_path_rank():
    arcs = template_arcs(TEMPLATES.HV_SINGLE_10KV)
    diagram = network_layout(arcs)
    layer = {e.number: e.layer for e in diagram.events}
    # 1 → … → 12 is a chain of 11 arcs; 14 is reached from 12 (rank 11) and from 9 directly.
    assert [layer[n] for n in range(1, 13)] == list(range(12))
    assert (layer[13], layer[14], layer[16]) == (9, 12, 14)
    columns = {e.layer: e.x for e in diagram.events}
    assert all(e.x == columns[e.layer] for e in diagram.events)


def test_dummies_and_critical_arcs_are_marked():
    critical = {"A", "B", "C", "D", "E", "F", "G", "H", "N", "O", "P"}
    arcs = template_arcs(TEMPLATES.HV_SINGLE_10KV, critical)
    diagram = network_layout(arcs)
    dummy = next(p for p in diagram.arcs if p.arc.dummy)
    assert (dummy.arc.tail, dummy.arc.head, dummy.caption, dummy.name_lines) == (13, 14, "", ())
    marked = {p.arc.code for p in diagram.arcs if p.arc.critical}
    assert marked == critical
    critical_events = {e.number for e in diagram.events if e.critical}
    assert critical_events == {1, 2, 3, 4, 5, 6, 7, 8, 9, 14, 15, 16}
    n = next(p for p in diagram.arcs if p.arc.code == "N")
    assert n.caption == "N (25)"
    assert n.name_lines == ("配套电网", "工程")
    # N's label sits on its level run, below the chain of critical events.
    assert n.label_y > diagram.event(9).y


def test_the_drawing_does_not_depend_on_the_order_of_the_arcs():
    arcs = template_arcs(TEMPLATES.HV_DUAL_10KV)
    one = network_layout(arcs)
    other = network_layout(list(reversed(arcs)))
    assert [(e.number, e.x, e.y) for e in one.events] == [
        (e.number, e.x, e.y) for e in other.events
    ]


def test_crossing_arcs_are_reordered_to_cross_less():
    # 1→2, 1→3 and 2→5, 3→4: drawn in number order 4 would sit above 5 and the arcs cross.
    arcs = [
        Arc(1, 2, "A"),
        Arc(1, 3, "B"),
        Arc(2, 5, "C"),
        Arc(3, 4, "D"),
        Arc(4, 6, "E"),
        Arc(5, 6, "F"),
    ]
    diagram = network_layout(arcs)
    check_drawing(arcs, diagram)
    assert diagram.crossings == 0


def test_a_cycle_is_refused_with_its_events():
    with pytest.raises(DiagramError) as error:
        network_layout([Arc(1, 2, "A"), Arc(2, 3, "B"), Arc(3, 2, "C")])
    assert error.value.events == (2, 3)


def test_labels_wrap_between_words_and_keep_brackets_whole():
    assert wrap_label("供电方案审查会", 4) == ("供电方案", "审查会")
    assert wrap_label("装表接电", 4) == ("装表接电",)
    # Not "受电工程/施工（土/建）": the bracketed group stays on one line.
    assert wrap_label("受电工程施工（土建）", 4) == ("受电工程", "施工", "（土建）")
    assert wrap_label("受电工程施工（土建）", 6) == ("受电工程施工", "（土建）")
    assert wrap_label("竣工检验，装表接电", 5) == ("竣工检验，", "装表接电")
    assert wrap_label("受电工程设计审查意见答复", 4) == ("受电工程", "设计审查", "意见答复")
    assert wrap_label("  ", 4) == ()
    # Latin words break at spaces and after hyphens, in brackets too.
    assert wrap_label("Supply-plan review meeting", 4) == ("Supply-", "plan", "review", "meeting")
    assert wrap_label("Supply-plan review meeting", 6) == ("Supply-plan", "review", "meeting")
    assert wrap_label("Access-system design (customer-commissioned)", 5) == (
        "Access-",
        "system",
        "design",
        "(customer-",
        "commissioned)",
    )


def test_a_label_too_long_for_its_lines_ends_with_an_ellipsis():
    assert wrap_label("受电工程设计审查意见答复", 4, 2) == ("受电工程", "设计审…")
    assert wrap_label("受电工程设计审查", 4, 2) == ("受电工程", "设计审查")


LABEL_PIECES = st.sampled_from(
    ["受电工程", "施工", "土建", "竣工", "检验", "装表", "接电", "供电方案", "答复", "审查"]
    + list("的会表前后，、/")
    + ["（土建）", "(civil)", "（高压（10kV）接入）", "Supply-plan", " review ", "meeting"]
)


def without_spaces(text):
    return "".join(text.split())


def balanced(line):
    return line.count("（") == line.count("）")


@given(pieces=st.lists(LABEL_PIECES, max_size=12), width=st.integers(2, 8))
def test_wrapped_lines_give_back_the_label_and_fit_unless_one_word_cannot(pieces, width):
    label = "".join(pieces)
    lines = wrap_label(label, width)
    assert without_spaces("".join(lines)) == without_spaces(label)
    for line in lines:
        assert line == line.strip() and line
        # A bracketed Chinese group is never split: every line closes what it opens.
        assert balanced(line), (label, lines)
        if text_width(line) > width:
            # Only a piece that may not be cut runs over: a group or a Latin word.
            assert " " not in line and (line[0] in "（(" or line[0].isalnum()), (label, lines)


@given(
    pieces=st.lists(LABEL_PIECES, max_size=12),
    width=st.integers(2, 8),
    max_lines=st.integers(1, 3),
)
def test_a_cut_label_is_a_start_of_the_label_and_an_ellipsis(pieces, width, max_lines):
    label = "".join(pieces)
    lines = wrap_label(label, width, max_lines)
    whole = wrap_label(label, width)
    assert len(lines) <= max_lines
    if len(whole) <= max_lines:
        assert lines == whole
    else:
        joined = without_spaces("".join(lines))
        assert joined.endswith("…")
        assert without_spaces(label).startswith(joined[:-1])
        assert text_width(lines[-1]) <= max(width, 1.5)


def test_event_times_by_the_node_method():
    # 1 -A3-> 2 -B2-> 4, 1 -C1-> 3 -D1-> 4, 2 -dummy-> 3: T = 5.
    arcs = [
        Arc(1, 2, "A", duration=3),
        Arc(2, 4, "B", duration=2),
        Arc(1, 3, "C", duration=1),
        Arc(3, 4, "D", duration=1),
        Arc(2, 3, dummy=True),
    ]
    assert event_times(arcs) == {1: (0, 0), 2: (3, 3), 3: (3, 4), 4: (5, 5)}
    drawn = {e.number: (e.early, e.late) for e in network_layout(arcs).events}
    assert drawn == event_times(arcs)


@st.composite
def networks(draw):
    """Random AOA networks: arcs only from lower to higher event numbers (no cycle)."""
    size = draw(st.integers(min_value=2, max_value=9))
    pairs = draw(
        st.sets(
            st.tuples(st.integers(1, size), st.integers(1, size)).filter(lambda p: p[0] < p[1]),
            min_size=1,
            max_size=18,
        )
    )
    dummies = draw(st.sets(st.sampled_from(sorted(pairs))))
    return [
        Arc(tail, head, f"X{i}", "工作", i % 5, dummy=(tail, head) in dummies, critical=i % 3 == 0)
        for i, (tail, head) in enumerate(sorted(pairs))
    ]


@settings(max_examples=60, deadline=None)
@given(networks())
def test_any_network_draws_every_event_once_without_overlap(arcs):
    check_drawing(arcs, network_layout(arcs))


@settings(max_examples=60, deadline=None)
@given(networks())
def test_event_times_respect_every_arc_and_the_longest_path_has_no_slack(arcs):
    times = event_times(arcs)
    length = max(early for early, _late in times.values())
    for arc in arcs:
        assert times[arc.tail][0] + arc.duration <= times[arc.head][0]
        assert times[arc.tail][1] + arc.duration <= times[arc.head][1]
    for early, late in times.values():
        assert 0 <= early <= late <= length
    # Some event ends the longest path and starts it: both have ET = LT.
    assert any(early == late == length for early, late in times.values())
    assert any(early == late == 0 for early, late in times.values())


@settings(max_examples=60, deadline=None)
@given(networks())
def test_the_time_scaled_diagram_puts_events_at_their_times_and_work_to_scale(arcs):
    diagram = time_scaled_layout(arcs, day_width=30, margin=30)
    times = event_times(arcs)
    for event in diagram.events:
        assert event.x == 30 + 30 * times[event.number][0]
    for first, second in combinations(diagram.events, 2):
        gap = ((first.x - second.x) ** 2 + (first.y - second.y) ** 2) ** 0.5
        assert gap >= 2 * diagram.radius + 10, f"events {first.number} and {second.number} overlap"
    for timed in diagram.arcs:
        arc = timed.arc
        tail, head = diagram.event(arc.tail), diagram.event(arc.head)
        assert timed.free_float == times[arc.head][0] - times[arc.tail][0] - arc.duration >= 0
        end = timed.end
        assert abs(end[0] - head.x) <= diagram.radius + 1 and abs(end[1] - head.y) <= (
            diagram.radius + 1
        ), "the arrow does not reach its head"
        if head.x - tail.x >= 2 * diagram.radius:
            # The level work ends where the duration says, and the float follows it.
            work_end = timed.work[-1][0]
            assert work_end <= max(tail.x + arc.duration * 30, tail.x + 15) + 0.01
            if timed.wave:
                assert timed.free_float > 0
            if timed.free_float >= 2:
                assert timed.wave, "two days of free float and no wavy line"


def test_an_activity_on_node_network_is_redrawn_with_dummies_where_needed():
    activities = [
        {"code": "A", "name": "甲", "duration": 2, "predecessors": [], "critical": True},
        {"code": "B", "name": "乙", "duration": 3, "predecessors": ["A"], "critical": True},
        {"code": "C", "name": "丙", "duration": 1, "predecessors": ["A"]},
        {"code": "D", "name": "丁", "duration": 4, "predecessors": ["B", "C"], "critical": True},
        {"code": "E", "name": "戊", "duration": 1, "predecessors": ["C"]},
    ]
    arcs = aon_arcs(activities)
    real = {a.code: a for a in arcs if not a.dummy}
    assert sorted(real) == ["A", "B", "C", "D", "E"]
    dummies = {(a.tail, a.head) for a in arcs if a.dummy}

    def reaches(event, target):
        return event == target or any(reaches(h, target) for t, h in dummies if t == event)

    for activity in activities:
        for pred in activity["predecessors"]:
            assert reaches(real[pred].head, real[activity["code"]].tail)
    # Exactly one start and one finish event; events numbered 1..n along the arrows.
    tails, heads = {a.tail for a in arcs}, {a.head for a in arcs}
    assert tails - heads == {1}
    assert len(heads - tails) == 1
    assert all(a.tail < a.head for a in arcs)
    check_drawing(arcs, network_layout(arcs))


def weekdays_only(day):
    return day.weekday() < 5


def test_gantt_bars_days_off_and_lines_fall_on_their_dates():
    monday = date(2026, 3, 2)
    tasks = [
        GanttTask(
            "A", "A", "甲", monday, monday, monday, monday + timedelta(days=2), critical=True
        ),
        GanttTask(
            "B",
            "B",
            "乙",
            monday + timedelta(days=1),
            monday + timedelta(days=3),
            monday + timedelta(days=3),
            monday + timedelta(days=4),
            float_finish=monday + timedelta(days=8),
        ),
    ]
    gantt = gantt_layout(
        tasks,
        today=monday + timedelta(days=1),
        commitment=monday + timedelta(days=9),
        is_working_day=weekdays_only,
    )
    a, b = gantt.rows
    assert gantt.first_day == monday - timedelta(days=1)
    assert a.forecast.x == gantt.x(monday)
    assert a.forecast.width == pytest.approx(3 * gantt.day_width)
    assert b.baseline.x == gantt.x(monday + timedelta(days=1))
    assert b.float.x == gantt.x(monday + timedelta(days=5))
    assert b.float.width == pytest.approx(4 * gantt.day_width)
    assert a.float is None
    assert b.y - a.y == gantt.row_height
    # Sunday 1 March, then Saturday 7 and Sunday 8 March shaded as one run.
    assert gantt.days_off[0].x == gantt.x(date(2026, 3, 1))
    assert (gantt.days_off[1].x, gantt.days_off[1].width) == (
        gantt.x(date(2026, 3, 7)),
        pytest.approx(2 * gantt.day_width),
    )
    assert gantt.today.x == gantt.x(monday + timedelta(days=1))
    # The commitment line stands at the end of the committed day.
    assert gantt.commitment.x == gantt.x(monday + timedelta(days=10))
    assert [t.day for t in gantt.weeks] == [monday, monday + timedelta(days=7)]


def test_gantt_with_a_holiday_shades_it():
    def working(day):
        return weekdays_only(day) and day != date(2026, 4, 6)

    task = GanttTask("A", "A", "甲", date(2026, 4, 1), date(2026, 4, 9), None, None)
    gantt = gantt_layout([task], today=None, commitment=None, is_working_day=working)
    shaded = {(bar.x, round(bar.width / gantt.day_width)) for bar in gantt.days_off}
    assert (gantt.x(date(2026, 4, 4)), 3) in shaded
    assert gantt.rows[0].forecast is None
    assert gantt.today is None and gantt.commitment is None


def test_percent_complete_from_the_days_done_and_still_to_do():
    assert percent_complete(finished=True, elapsed=None, remaining=None) == 100
    assert percent_complete(finished=False, elapsed=None, remaining=5) == 0
    assert percent_complete(finished=False, elapsed=0, remaining=5) == 0
    assert percent_complete(finished=False, elapsed=3, remaining=1) == 75
    # Running with nothing left to do is not finished until someone says so.
    assert percent_complete(finished=False, elapsed=4, remaining=0) == 99


def test_the_progress_line_bends_to_each_running_task_behind_or_ahead():
    monday = date(2026, 3, 2)
    week = timedelta(days=7)

    def task(key, percent, finished=False, **kinds):
        # Every baseline bar runs two weeks (14 days, 0 … 13) from Monday 2 March.
        return GanttTask(
            key,
            key,
            key,
            monday,
            monday + 2 * week - timedelta(days=1),
            monday,
            monday + 2 * week,
            finished=finished,
            percent=percent,
            started=percent is not None,
            **kinds,
        )

    behind, ahead, waiting = task("B", 25), task("A", 75), task("W", None)
    today = monday + week  # halfway through the baselines
    gantt = gantt_layout(
        [behind, ahead, waiting], today=today, commitment=None, is_working_day=weekdays_only
    )
    b, a, w = gantt.rows
    assert b.progress_x == pytest.approx(gantt.x(monday) + 14 * gantt.day_width * 0.25)
    assert b.progress_x < gantt.today.x < a.progress_x
    assert w.progress_x is None
    points = gantt.progress_line
    assert points[0] == (gantt.today.x, gantt.header_height)
    assert (b.progress_x, b.middle) in points and (a.progress_x, a.middle) in points
    assert all(x == gantt.today.x for x, y in points if y not in (a.middle, b.middle))
    assert "progress" in gantt.kinds and "today" in gantt.kinds
    # Without today on the chart (a closed application) there is no progress line.
    closed = gantt_layout([behind], today=None, commitment=None, is_working_day=weekdays_only)
    assert closed.progress_line == () and "progress" not in closed.kinds


def test_the_legend_kinds_are_only_those_drawn():
    monday = date(2026, 3, 2)
    plain = GanttTask("A", "A", "甲", None, None, monday, monday + timedelta(days=2))
    gantt = gantt_layout([plain], today=None, commitment=None, is_working_day=lambda d: True)
    assert gantt.kinds == ("forecast",)
    customer = GanttTask(
        "C", "C", "乙", monday, monday, monday, monday + timedelta(days=5), customer=True
    )
    done = GanttTask("D", "D", "丙", None, None, monday, monday, finished=True)
    gate = GanttTask("M", "M", "丁", None, None, monday, monday, milestone=True, critical=True)
    gantt = gantt_layout(
        [customer, done, gate], today=None, commitment=monday, is_working_day=weekdays_only
    )
    assert gantt.kinds == ("baseline", "customer", "finished", "milestone", "dayoff", "commitment")


def test_the_zoom_sets_the_scale_of_a_day():
    monday = date(2026, 3, 2)
    task = GanttTask("A", "A", "甲", None, None, monday, monday + timedelta(days=60))
    fitted = gantt_layout([task], today=None, commitment=None, is_working_day=weekdays_only)
    week = gantt_layout(
        [task], today=None, commitment=None, is_working_day=weekdays_only, zoom="week"
    )
    month = gantt_layout(
        [task], today=None, commitment=None, is_working_day=weekdays_only, zoom="month"
    )
    assert month.day_width < fitted.day_width < week.day_width
    assert week.rows[0].forecast.width == pytest.approx(61 * week.day_width)
    assert week.width > fitted.width > month.width
