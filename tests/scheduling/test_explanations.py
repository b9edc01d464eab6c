"""Tests of scheduling.explanations: the sentences of deviations and proposals, rendered from
the engine's facts in the reader's language (zh-Hans first, English second)."""

from types import SimpleNamespace

import pytest
from django.utils.translation import override

from scheduling.cpm import Progress
from scheduling.deviation import analyse_delay, analyse_forecast, propose_corrections
from scheduling.explanations import (
    analysis_text,
    delay_text,
    deviation_text,
    proposal_text,
    stored,
)
from tests.scheduling.test_deviation import (
    CASES,
    MEETING,
    PARALLEL,
    SHORTEN,
    activity,
    monday_start,
    network,
)


def names_of(compiled):
    """The activities of a network as rows: what the pages pass to proposal_text."""
    return {
        spec.id: SimpleNamespace(
            name=spec.name or "",
            name_en=spec.name_en or "",
            department=SimpleNamespace(name=spec.department) if spec.department else None,
        )
        for spec in compiled.specs
    }


def explained(compiled, analysis) -> dict[str, str]:
    spec = compiled.spec(analysis.activity)
    texts = {}
    for language in ("zh-hans", "en"):
        with override(language):
            name = (spec.name_en or spec.name) if language == "en" else spec.name
            texts[language] = analysis_text(name or spec.id, analysis)
    return texts


def described(compiled, proposal) -> dict[str, str]:
    texts = {}
    for language in ("zh-hans", "en"):
        with override(language):
            texts[language] = proposal_text(proposal, names_of(compiled))
    return texts


# The CASES network, Tc = 7: S 0-2 → D 2-6 (critical) and F 2-4 → G 4-5 (TF 1; FF(F) 0,
# FF(G) 1) and P 2-3 (TF = FF = 3), all into E 6-7. With Tp = 9 every TF grows by the
# margin of 2 and E's FF is 2; the other FFs stay.
DELAY_CASES = [
    # Tp = Tc: inside FF, off the critical path.
    (
        None,
        "P",
        2,
        "缴纳业务费用拖延2个工作日，未超出其自由时差（3个工作日），不影响紧后工作和计算工期",
        "Fee payment is 2 working days late, within its free float of 3 working days; "
        "neither its successors nor the computed duration are affected.",
    ),
    # Tp = Tc: between FF (0) and TF (1): the successors move, Tc does not.
    (
        None,
        "F",
        1,
        "现场勘查拖延1个工作日，超出其自由时差（0个工作日），紧后工作最早开始推迟1个工作日，"
        "计算工期不受影响",
        "Site survey is 1 working day late, more than its free float of 0 working days; its "
        "successors' earliest start slips by 1 working day, the computed duration is not "
        "affected.",
    ),
    # Tp = Tc: beyond TF (1) by 2: the successors move by Δ − FF = 3, Tc and the
    # commitment by Δ − TF = 2.
    (
        None,
        "F",
        3,
        "现场勘查拖延3个工作日，超出其总时差（1个工作日），紧后工作最早开始推迟3个工作日，"
        "计算工期推迟2个工作日，超出计划工期2个工作日",
        "Site survey is 3 working days late, more than its total float of 1 working day; its "
        "successors' earliest start slips by 3 working days, the computed duration slips by "
        "2 working days, 2 working days beyond the planned duration.",
    ),
    # Tp = Tc: on the critical path.
    (
        None,
        "S",
        3,
        "受理用户申请拖延3个工作日，是关键工作，紧后工作最早开始推迟3个工作日，"
        "计算工期推迟3个工作日，超出计划工期3个工作日",
        "Application acceptance is 3 working days late and on the critical path; its "
        "successors' earliest start slips by 3 working days, the computed duration slips by "
        "3 working days, 3 working days beyond the planned duration.",
    ),
    # Tp > Tc: critical within the margin of 2: Tc moves, the commitment holds.
    (
        9,
        "S",
        1,
        "受理用户申请拖延1个工作日，是关键工作，紧后工作最早开始推迟1个工作日，"
        "计算工期推迟1个工作日，仍在计划工期之内",
        "Application acceptance is 1 working day late and on the critical path; its "
        "successors' earliest start slips by 1 working day, the computed duration slips by "
        "1 working day, still within the planned duration.",
    ),
    # Tp > Tc: critical beyond the margin: Tc by 4, the commitment by 4 − 2 = 2.
    (
        9,
        "S",
        4,
        "受理用户申请拖延4个工作日，是关键工作，紧后工作最早开始推迟4个工作日，"
        "计算工期推迟4个工作日，超出计划工期2个工作日",
        "Application acceptance is 4 working days late and on the critical path; its "
        "successors' earliest start slips by 4 working days, the computed duration slips by "
        "4 working days, 2 working days beyond the planned duration.",
    ),
    # Tp > Tc: F (TF 3, FF 0) 2 days late: within TF, so the commitment holds, but its
    # float against Tc is only 3 − 2 = 1, so Tc moves by 1 (E starts on 7, not 6).
    (
        9,
        "F",
        2,
        "现场勘查拖延2个工作日，超出其自由时差（0个工作日），紧后工作最早开始推迟2个工作日，"
        "计算工期推迟1个工作日，仍在计划工期之内",
        "Site survey is 2 working days late, more than its free float of 0 working days; its "
        "successors' earliest start slips by 2 working days, the computed duration slips by "
        "1 working day, still within the planned duration.",
    ),
    # Tp > Tc: P (TF 5, FF 3) 6 days late: beyond TF by 1; E starts on 9, so Tc moves by
    # 6 − (5 − 2) = 3 and the commitment by 6 − 5 = 1.
    (
        9,
        "P",
        6,
        "缴纳业务费用拖延6个工作日，超出其总时差（5个工作日），紧后工作最早开始推迟3个工作日，"
        "计算工期推迟3个工作日，超出计划工期1个工作日",
        "Fee payment is 6 working days late, more than its total float of 5 working days; its "
        "successors' earliest start slips by 3 working days, the computed duration slips by "
        "3 working days, 1 working day beyond the planned duration.",
    ),
]


@pytest.mark.parametrize(
    ("planned_duration", "activity_id", "delay", "chinese", "english"),
    DELAY_CASES,
    ids=[
        "inside-FF",
        "between-FF-and-TF",
        "beyond-TF",
        "critical",
        "Tp>Tc-critical-within-margin",
        "Tp>Tc-critical-beyond",
        "Tp>Tc-between-FF-and-TF",
        "Tp>Tc-beyond-TF",
    ],
)
def test_a_table_of_delays_reads_by_the_three_steps_in_both_languages(
    planned_duration, activity_id, delay, chinese, english
):
    compiled = network(*CASES, planned_duration=planned_duration)
    baseline = compiled.evaluate()
    durations = {**baseline.durations, activity_id: baseline.durations[activity_id] + delay}
    later = compiled.evaluate(durations, planned_duration=baseline.planned_duration)

    what_if = analyse_delay(compiled, activity_id, delay)
    (found,) = [d for d in analyse_forecast(baseline, later) if d.activity == activity_id]

    # The what-if measures, the forecast applies the formulas: the same facts, one sentence.
    assert explained(compiled, what_if) == {"zh-hans": chinese, "en": english}
    assert explained(compiled, found) == {"zh-hans": chinese, "en": english}
    # Red exactly when the commitment moves, and the figure says by how much.
    assert (found.severity == "red") == (found.commitment_overrun > 0)


def test_an_activity_without_a_name_is_called_by_its_id():
    compiled = network(activity("a1", 2, []), activity("b1", 1, ["a1"]))

    texts = explained(compiled, analyse_delay(compiled, "a1", 1))

    assert texts["zh-hans"] == (
        "a1拖延1个工作日，是关键工作，紧后工作最早开始推迟1个工作日，计算工期推迟1个工作日，"
        "超出计划工期1个工作日"
    )
    assert texts["en"].startswith("A1 is 1 working day late and on the critical path")


def test_forecast_deviations_read_like_the_what_if_of_the_same_delay():
    compiled = network(*CASES)
    forecast = compiled.forecast(
        5, {"S": Progress(0, 2), "F": Progress(2, 5), "P": Progress(2, 5), "D": Progress(2)}
    )

    survey, fees, _review = analyse_forecast(compiled.evaluate(), forecast)

    assert explained(compiled, survey) == explained(compiled, analyse_delay(compiled, "F", 1))
    assert explained(compiled, fees)["en"] == (
        "Fee payment is 2 working days late, within its free float of 3 working days; "
        "neither its successors nor the computed duration are affected."
    )


def test_a_stored_deviation_reads_from_its_columns():
    row = SimpleNamespace(
        activity=SimpleNamespace(code="F", name="现场勘查", name_en="site survey"),
        delay=3,
        total_float=1,
        free_float=0,
        critical=False,
        total_slip=2,
        successor_slip=3,
        commitment_overrun=2,
    )

    with override("en"):
        english = deviation_text(row)
    with override("zh-hans"):
        chinese = deviation_text(row)

    assert chinese == (
        "现场勘查拖延3个工作日，超出其总时差（1个工作日），紧后工作最早开始推迟3个工作日，"
        "计算工期推迟2个工作日，超出计划工期2个工作日"
    )
    assert english == (
        "Site survey is 3 working days late, more than its total float of 1 working day; its "
        "successors' earliest start slips by 3 working days, the computed duration slips by "
        "2 working days, 2 working days beyond the planned duration."
    )


def test_text_kept_in_a_row_is_in_the_first_language_whoever_reads():
    facts = {
        "delay": 1,
        "total_float": 0,
        "free_float": 0,
        "critical": True,
        "total_slip": 1,
        "successor_slip": 1,
        "overrun": 1,
    }

    with override("en"):
        kept = stored(delay_text, "受理用户申请", **facts)
        shown = delay_text("application acceptance", **facts)

    assert kept == (
        "受理用户申请拖延1个工作日，是关键工作，紧后工作最早开始推迟1个工作日，"
        "计算工期推迟1个工作日，超出计划工期1个工作日"
    )
    assert shown.startswith("Application acceptance is 1 working day late")


def test_shorten_proposals_name_the_durations():
    compiled = network(*SHORTEN)

    together, alone, _other = propose_corrections(compiled.evaluate())

    assert described(compiled, alone) == {
        "zh-hans": "将B由5个工作日压缩至3个工作日，完工提前2个工作日",
        "en": "Shorten B from 5 working days to 3 working days; the finish moves 2 working days "
        "earlier.",
    }
    assert described(compiled, together) == {
        "zh-hans": "将B、C同时压缩至最短持续时间，完工提前4个工作日",
        "en": "Shorten B, C together to their shortest durations; the finish moves 4 working "
        "days earlier.",
    }


def test_escalation_names_the_departments():
    compiled = network(*SHORTEN, planned_duration=10)

    escalation = propose_corrections(compiled.evaluate(), deviating="B")[-1]

    assert described(compiled, escalation) == {
        "zh-hans": "预计超出计划工期2个工作日，请上报分管领导并由运维检修部协调处理",
        "en": "The finish is forecast 2 working days beyond the planned duration; escalate to the "
        "supervisor and to 运维检修部.",
    }


def test_escalation_without_the_activities_at_hand_uses_the_stored_departments():
    compiled = network(*SHORTEN, planned_duration=10)
    escalation = propose_corrections(compiled.evaluate(), deviating="B")[-1]
    row = SimpleNamespace(
        kind=escalation.kind,
        activities=list(escalation.activities),
        days_recovered=None,
        detail={**escalation.detail, "departments": ["运维检修部"]},
    )

    nobody = SimpleNamespace(**{**vars(row), "detail": {"overrun": 2}})

    with override("zh-hans"):
        assert proposal_text(row, {}) == (
            "预计超出计划工期2个工作日，请上报分管领导并由运维检修部协调处理"
        )
    with override("en"):
        assert proposal_text(nobody, {}) == (
            "The finish is forecast 2 working days beyond the planned duration; escalate to the "
            "supervisor and to the owning department."
        )


def test_parallel_and_meeting_proposals_read_in_both_languages():
    parallel = network(*PARALLEL)
    meeting_network = network(*MEETING)

    (run_together,) = propose_corrections(parallel.evaluate())
    meeting = propose_corrections(
        meeting_network.evaluate(), meeting_weekday=2, weekday_of=monday_start
    )[0]

    assert described(parallel, run_together) == {
        "zh-hans": "营销部勘查与运检部勘查并行开展，完工提前2个工作日",
        "en": "Run 营销部勘查 and 运检部勘查 in parallel; the finish moves 2 working days earlier.",
    }
    assert described(meeting_network, meeting) == {
        "zh-hans": "供电方案设计提前2个工作日完成，供电方案审查会即可赶上本周例会，"
        "不必再等3个工作日，完工提前5个工作日",
        "en": "Finish supply-plan design 2 working days earlier so that the supply-plan review "
        "is held at this week's meeting instead of waiting 3 working days; the finish moves 5 "
        "working days earlier.",
    }


def test_escalating_customer_side_work_names_the_account_manager():
    row = SimpleNamespace(
        kind="escalate", activities=["I"], days_recovered=None, detail={"overrun": 3}
    )
    activities = {"I": SimpleNamespace(name="受电工程设计", name_en="", party="customer")}

    with override("zh-hans"):
        assert proposal_text(row, activities) == (
            "预计超出计划工期3个工作日，请上报分管领导并由客户经理督促客户协调处理"
        )
