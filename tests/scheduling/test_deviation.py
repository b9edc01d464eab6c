"""Tests of scheduling.deviation: the DESIGN.md §5 cases with their severities, forecast
deviations, and the what-if numbers of corrective proposals (their sentences:
test_explanations.py)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.cpm import InvalidDurationError, Progress, load_network
from scheduling.deviation import (
    AMBER,
    CASE_ABSORBED,
    CASE_BEYOND_FREE_FLOAT,
    CASE_BEYOND_TOTAL_FLOAT,
    CASE_CRITICAL,
    INFO,
    RED,
    UnknownActivityError,
    analyse_delay,
    analyse_forecast,
    propose_corrections,
)
from tests.scheduling.test_cpm import as_aon_json, dags, read_example


def activity(ident, duration, preds, name=None, name_en=None, **extra):
    data = {"id": ident, "duration": duration, "predecessors": preds, **extra}
    if name:
        data["name"] = name
    if name_en:
        data["name_en"] = name_en
    return data


def network(*activities, planned_duration=None):
    data = {"activities": list(activities)}
    if planned_duration is not None:
        data["planned_duration"] = planned_duration
    return load_network(data)


# S 0-2 → D 2-6 (critical) and F 2-4 → G 4-5 (TF 1; FF(F) 0, FF(G) 1) and P 2-3 (TF = FF = 3),
# all into E 6-7.
CASES = [
    activity("S", 2, [], "受理用户申请", "application acceptance", department="营销部"),
    activity("D", 4, ["S"], "供电方案设计", "supply-plan design", department="发展策划部"),
    activity("F", 2, ["S"], "现场勘查", "site survey", department="运维检修部"),
    activity("G", 1, ["F"], "供电方案审查", "supply-plan review", department="发展策划部"),
    activity("P", 1, ["S"], "缴纳业务费用", "fee payment", department="营销部"),
    activity("E", 1, ["D", "G", "P"], "装表接电", "metering and energization"),
]


def test_example_delay_matches_its_expected_output_exactly():
    compiled = load_network(read_example("hv-single-10kv.json"))

    analysis = analyse_delay(compiled, "N", 15)

    assert analysis.as_dict() == read_example("hv-single-10kv.delay-N-15.expected.json")
    assert analysis.affected == {"O": 4, "P": 4}
    assert (analysis.severity, analysis.department) == (RED, "建设部")


def test_critical_activity_delay_moves_the_total_duration():
    analysis = analyse_delay(network(*CASES), "S", 3)

    assert (analysis.case, analysis.severity) == (CASE_CRITICAL, RED)
    assert (analysis.total_duration_delay, analysis.new_duration, analysis.commitment_overrun) == (
        3,
        10,
        3,
    )


def test_delay_beyond_total_float_moves_the_total_by_the_excess():
    analysis = analyse_delay(network(*CASES), "F", 3)

    assert (analysis.total_float, analysis.free_float, analysis.critical) == (1, 0, False)
    assert (analysis.case, analysis.severity) == (CASE_BEYOND_TOTAL_FLOAT, RED)
    assert (analysis.total_duration_delay, analysis.successor_delay) == (2, 3)
    assert analysis.affected == {"G": 3, "E": 2}


def test_delay_beyond_free_float_moves_only_the_successors():
    analysis = analyse_delay(network(*CASES), "F", 1)

    assert (analysis.case, analysis.severity) == (CASE_BEYOND_FREE_FLOAT, AMBER)
    assert (analysis.total_duration_delay, analysis.successor_delay) == (0, 1)
    assert analysis.affected == {"G": 1}


def test_delay_within_free_float_is_absorbed():
    analysis = analyse_delay(network(*CASES), "P", 2)

    assert (analysis.case, analysis.severity) == (CASE_ABSORBED, INFO)
    assert (analysis.total_duration_delay, analysis.successor_delay, analysis.affected) == (
        0,
        0,
        {},
    )


def test_planned_duration_with_slack_reports_the_overrun_separately():
    compiled = network(*CASES, planned_duration=9)

    within = analyse_delay(compiled, "S", 1)
    beyond = analyse_delay(compiled, "S", 4)

    # Within the margin the commitment leaves, the schedule slips but the date holds: amber.
    assert (within.severity, within.total_duration_delay, within.commitment_overrun) == (
        AMBER,
        1,
        0,
    )
    assert beyond.severity == RED
    assert (beyond.new_duration, beyond.planned_duration, beyond.commitment_overrun) == (11, 9, 2)


def test_detail_dict_adds_to_the_readme_keys():
    analysis = analyse_delay(network(*CASES), "F", 1)

    detail = analysis.detail_dict()

    assert set(analysis.as_dict()) == {
        "activity",
        "delay",
        "total_float",
        "free_float",
        "critical",
        "total_duration_delay",
        "successor_delay",
        "new_duration",
        "planned_duration",
        "commitment_overrun",
    }
    assert detail.items() >= analysis.as_dict().items()
    assert (detail["severity"], detail["department"], detail["affected"]) == (
        AMBER,
        "运维检修部",
        {"G": 1},
    )


def test_delay_analysis_keeps_the_durations_of_a_given_schedule():
    compiled = load_network(read_example("hv-single-10kv.json"))

    analysis = analyse_delay(compiled.evaluate({"N": 30}), "N", 2)

    assert (analysis.total_float, analysis.new_duration, analysis.planned_duration) == (6, 51, 51)
    assert analysis.severity == INFO


def test_delay_analysis_errors():
    compiled = network(*CASES)

    with pytest.raises(UnknownActivityError) as caught:
        analyse_delay(compiled, "Z", 1)
    assert caught.value.activity == "Z"
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(InvalidDurationError) as caught:
            analyse_delay(compiled, "S", bad)
        assert (caught.value.field, caught.value.value) == ("delay", bad)
    with pytest.raises(ValueError, match="analyse_forecast"):
        analyse_delay(compiled.forecast(1, {}), "S", 1)


@settings(max_examples=200)
@given(dags(), st.data())
def test_measured_delay_agrees_with_the_section_5_rules_when_tp_equals_tc(drawn, data):
    activities, order, _planned = drawn
    compiled = load_network(as_aon_json(activities, order, None))
    target = data.draw(st.sampled_from(sorted(activities)))
    delay = data.draw(st.integers(0, 12))

    analysis = analyse_delay(compiled, target, delay)

    if analysis.critical:
        assert analysis.total_duration_delay == delay
    else:
        assert analysis.total_duration_delay == max(0, delay - analysis.total_float)
    assert analysis.commitment_overrun == analysis.total_duration_delay
    direct = {link.id for link in compiled.successors(target)}
    if direct:
        assert bool(direct & set(analysis.affected)) == (delay > analysis.free_float)
    assert (
        analysis.severity
        == {
            CASE_CRITICAL: RED,
            CASE_BEYOND_TOTAL_FLOAT: RED,
            CASE_BEYOND_FREE_FLOAT: AMBER,
            CASE_ABSORBED: INFO,
        }[analysis.case]
    )


# --- Forecast deviations ----------------------------------------------------------------------


def test_forecast_deviations_are_classified_against_the_baseline():
    compiled = network(*CASES)
    baseline = compiled.evaluate()
    forecast = compiled.forecast(
        5,
        {"S": Progress(0, 2), "F": Progress(2, 5), "P": Progress(2, 5), "D": Progress(2)},
    )

    deviations = analyse_forecast(baseline, forecast)

    assert [(d.activity, d.delay, d.case, d.severity) for d in deviations] == [
        ("F", 1, CASE_BEYOND_FREE_FLOAT, AMBER),
        ("P", 2, CASE_ABSORBED, INFO),
        ("G", 1, CASE_ABSORBED, INFO),
    ]
    survey, fees, review = deviations
    assert (survey.start_slip, review.start_slip) == (0, 1)
    assert (survey.successor_delay, survey.department) == (1, "运维检修部")


def test_late_critical_work_is_red_first():
    compiled = network(*CASES)
    baseline = compiled.evaluate()

    deviations = analyse_forecast(baseline, compiled.forecast(3, {"S": Progress(0, 3)}))

    assert deviations[0].activity == "S"
    assert all(d.severity == RED for d in deviations if d.critical)
    assert {d.activity for d in deviations} == {"S", "D", "F", "G", "P", "E"}


def test_on_time_forecast_has_no_deviation():
    compiled = network(*CASES)

    assert analyse_forecast(compiled.evaluate(), compiled.forecast(2, {"S": Progress(0, 2)})) == []


# --- Corrective proposals ---------------------------------------------------------------------


SHORTEN = [
    activity("A", 3, []),
    activity("B", 5, ["A"], shortest_duration=3, department="运维检修部"),
    activity("C", 4, ["B", "D"], min_duration=2, department="营销部"),
    activity("D", 6, []),
]


def test_shorten_proposals_recover_the_most_days_first():
    schedule = network(*SHORTEN).evaluate()

    proposals = propose_corrections(schedule)

    assert [(p.kind, p.activities, p.new_finish, p.days_recovered) for p in proposals] == [
        ("shorten", ("B", "C"), 8, 4),
        ("shorten", ("B",), 10, 2),
        ("shorten", ("C",), 10, 2),
    ]
    assert proposals[0].detail["durations"] == {"B": [5, 3], "C": [4, 2]}
    assert proposals[1].finish_before == 12


def test_shorten_only_later_unstarted_activities():
    compiled = network(*SHORTEN)

    after_b = propose_corrections(compiled.evaluate(), deviating="B")
    started = propose_corrections(compiled.forecast(4, {"A": Progress(0, 3), "B": Progress(3)}))

    assert [p.activities for p in after_b] == [("C",)]
    # B started on day 3 and runs to day 8; D now starts on day 4, so C (and D) drive.
    assert [(p.kind, p.activities) for p in started] == [
        ("shorten", ("C",)),
        ("escalate", ("C", "D")),
    ]
    assert (started[0].finish_before, started[0].days_recovered) == (14, 2)


def test_escalate_when_the_planned_duration_is_overrun():
    schedule = network(*SHORTEN, planned_duration=10).evaluate()

    proposals = propose_corrections(schedule, deviating="B")

    escalation = proposals[-1]
    assert (escalation.kind, escalation.activities, escalation.departments) == (
        "escalate",
        ("B",),
        ("运维检修部",),
    )
    assert (escalation.new_finish, escalation.days_recovered) == (None, None)
    assert all(p.kind != "escalate" for p in propose_corrections(network(*SHORTEN).evaluate()))


PARALLEL = [
    activity("R", 1, []),
    activity("M", 2, ["R"], "营销部勘查"),
    activity("O", 3, ["M"], "运检部勘查", parallel_with=["M"]),
    activity("X", 4, ["O"]),
]


def test_parallel_run_where_the_template_allows_it():
    schedule = network(*PARALLEL).evaluate()

    proposals = propose_corrections(schedule)

    assert len(proposals) == 1
    proposal = proposals[0]
    assert (proposal.kind, proposal.activities) == ("parallel", ("M", "O"))
    assert (proposal.finish_before, proposal.new_finish, proposal.days_recovered) == (10, 8, 2)


def test_no_parallel_run_once_the_later_activity_started():
    compiled = network(*PARALLEL)

    forecast = compiled.forecast(4, {"R": Progress(0, 1), "M": Progress(1, 3), "O": Progress(3)})

    assert propose_corrections(forecast) == []


def test_parallel_run_on_an_aoa_network():
    data = read_example("hv-single-10kv.json")
    for arc in data["activities"]:
        if arc.get("id") == "J":
            arc["parallel_with"] = ["I"]  # review the design while it is being drawn up
    schedule = load_network(data).evaluate()

    proposals = propose_corrections(schedule)

    assert [(p.kind, p.activities, p.new_finish, p.days_recovered) for p in proposals] == [
        ("parallel", ("I", "J"), 48, 3)
    ]


MEETING = [
    activity(
        "P1",
        4,
        [],
        "供电方案设计",
        "supply-plan design",
        shortest_duration=2,
        department="发展策划部",
    ),
    activity("G", 1, ["P1"], "供电方案审查会", "the supply-plan review", kind="meeting"),
    activity("H", 1, ["G"], "供电方案答复"),
]


def monday_start(offset):
    """Map a working-day offset to a weekday when day 0 is a Monday and no holiday falls."""
    return offset % 5


def test_catch_this_weeks_review_meeting():
    schedule = network(*MEETING).evaluate()

    proposals = propose_corrections(schedule, meeting_weekday=2, weekday_of=monday_start)

    meeting = proposals[0]
    assert (meeting.kind, meeting.activities, meeting.departments) == (
        "meeting",
        ("G", "P1"),
        ("发展策划部",),
    )
    # Design finishes Friday (day 4); the Wednesday meetings are days 2 and 7.
    assert dict(meeting.detail) == {
        "advance_days": 2,
        "meeting_day": 2,
        "next_meeting_day": 7,
        "wait_days": 3,
        # Design must end before day 2, Wednesday's meeting: its last day is Tuesday.
        "finish_by": {"P1": 2},
    }
    assert (meeting.finish_before, meeting.new_finish, meeting.days_recovered) == (9, 4, 5)
    assert [p.kind for p in proposals] == ["meeting", "shorten"]


def test_no_meeting_proposal_when_it_cannot_or_need_not_be_caught():
    def proposals_for(*activities, **kwargs):
        found = propose_corrections(
            network(*activities).evaluate(), weekday_of=monday_start, **kwargs
        )
        return [p for p in found if p.kind == "meeting"]

    too_long = [{**MEETING[0], "shortest_duration": 3}, *MEETING[1:]]
    assert proposals_for(*too_long, meeting_weekday=2) == []  # cannot finish by Wednesday
    assert proposals_for(*MEETING, meeting_weekday=4) == []  # ready on the meeting day
    assert proposals_for(*MEETING) == []  # no meeting day configured
    on_wednesday = [MEETING[0], {**MEETING[1], "meeting_weekday": 2}, MEETING[2]]
    assert len(proposals_for(*on_wednesday, meeting_weekday=4)) == 1  # the activity's day wins


def test_no_meeting_proposal_once_this_weeks_meeting_has_passed():
    forecast = network(*MEETING).forecast(3, {"P1": Progress(0)})

    assert [
        p.kind for p in propose_corrections(forecast, meeting_weekday=2, weekday_of=monday_start)
    ] == []


def test_proposals_serialise():
    proposal = propose_corrections(network(*PARALLEL).evaluate())[0]

    assert proposal.as_dict() == {
        "kind": "parallel",
        "activities": ["M", "O"],
        "new_finish": 8,
        "days_recovered": 2,
        "finish_before": 10,
        "departments": [],
        "detail": {},
    }


def test_causes_only_reports_the_late_activity_not_everything_after_it():
    compiled = load_network(
        {
            "activities": [
                {"id": "A", "duration": 2, "predecessors": [], "name": "现场勘查"},
                {"id": "B", "duration": 3, "predecessors": ["A"], "name": "方案设计"},
                {"id": "C", "duration": 1, "predecessors": ["B"], "name": "方案答复"},
                {"id": "D", "duration": 1, "predecessors": [], "name": "资料收集"},
            ]
        }
    )
    baseline = compiled.evaluate()
    # A took 4 days instead of 2; D, with 5 days of float, is not started by day 3.
    forecast = compiled.forecast(
        4, {"A": Progress(actual_start=0, actual_finish=4)}, planned_duration=baseline.duration
    )
    everything = analyse_forecast(baseline, forecast)
    causes = analyse_forecast(baseline, forecast, causes_only=True)
    assert [(d.activity, d.delay) for d in everything] == [("A", 2), ("B", 2), ("C", 2), ("D", 4)]
    assert [(d.activity, d.delay, d.severity) for d in causes] == [
        ("A", 2, "red"),
        ("D", 4, "info"),
    ]
