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


@pytest.mark.parametrize(
    ("activity_id", "delay", "chinese", "english"),
    [
        (
            "S",
            3,
            "受理用户申请拖延3天，是关键工作，总工期推迟3天",
            "Application acceptance is 3 days late and on the critical path; "
            "the total duration slips by 3 days.",
        ),
        (
            "F",
            3,
            "现场勘查拖延3天，超出其总时差（1天），总工期推迟2天",
            "Site survey is 3 days late, more than its total float of 1 day; "
            "the total duration slips by 2 days.",
        ),
        (
            "F",
            1,
            "现场勘查拖延1天，超出其自由时差（0天），紧后工作最早开始推迟1天，总工期不受影响",
            "Site survey is 1 day late, more than its free float of 0 days; its successors' "
            "earliest start slips by 1 day, the total duration is not affected.",
        ),
        (
            "P",
            2,
            "缴纳业务费用拖延2天，未超出其自由时差（3天），不影响紧后工作和总工期",
            "Fee payment is 2 days late, within its free float of 3 days; "
            "neither its successors nor the total duration are affected.",
        ),
    ],
    ids=["critical", "beyond-total-float", "beyond-free-float", "absorbed"],
)
def test_each_case_of_a_delay_reads_in_both_languages(activity_id, delay, chinese, english):
    compiled = network(*CASES)

    texts = explained(compiled, analyse_delay(compiled, activity_id, delay))

    assert texts == {"zh-hans": chinese, "en": english}


def test_the_overrun_of_a_commitment_with_slack_is_said_separately():
    compiled = network(*CASES, planned_duration=9)

    within = explained(compiled, analyse_delay(compiled, "S", 1))
    beyond = explained(compiled, analyse_delay(compiled, "S", 4))

    assert within["zh-hans"] == "受理用户申请拖延1天，是关键工作，总工期推迟1天"
    assert beyond == {
        "zh-hans": "受理用户申请拖延4天，是关键工作，总工期推迟4天，超出计划工期2天",
        "en": "Application acceptance is 4 days late and on the critical path; "
        "the total duration slips by 4 days, 2 days beyond the planned duration.",
    }


def test_an_activity_without_a_name_is_called_by_its_id():
    compiled = network(activity("a1", 2, []), activity("b1", 1, ["a1"]))

    texts = explained(compiled, analyse_delay(compiled, "a1", 1))

    assert texts["zh-hans"] == "a1拖延1天，是关键工作，总工期推迟1天"
    assert texts["en"].startswith("A1 is 1 day late and on the critical path")


def test_forecast_deviations_read_like_the_what_if_of_the_same_delay():
    compiled = network(*CASES)
    forecast = compiled.forecast(
        5, {"S": Progress(0, 2), "F": Progress(2, 5), "P": Progress(2, 5), "D": Progress(2)}
    )

    survey, fees, _review = analyse_forecast(compiled.evaluate(), forecast)

    assert explained(compiled, survey) == explained(compiled, analyse_delay(compiled, "F", 1))
    assert explained(compiled, fees)["en"] == (
        "Fee payment is 2 days late, within its free float of 3 days; "
        "neither its successors nor the total duration are affected."
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

    assert chinese == "现场勘查拖延3天，超出其总时差（1天），总工期推迟2天"
    assert english == (
        "Site survey is 3 days late, more than its total float of 1 day; "
        "the total duration slips by 2 days."
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

    assert kept == "受理用户申请拖延1天，是关键工作，总工期推迟1天"
    assert shown.startswith("Application acceptance is 1 day late")


def test_shorten_proposals_name_the_durations():
    compiled = network(*SHORTEN)

    together, alone, _other = propose_corrections(compiled.evaluate())

    assert described(compiled, alone) == {
        "zh-hans": "将B由5天压缩至3天，完工提前2天",
        "en": "Shorten B from 5 days to 3 days; the finish moves 2 days earlier.",
    }
    assert described(compiled, together) == {
        "zh-hans": "将B、C同时压缩至最短持续时间，完工提前4天",
        "en": "Shorten B, C together to their shortest durations; the finish moves 4 days earlier.",
    }


def test_escalation_names_the_departments():
    compiled = network(*SHORTEN, planned_duration=10)

    escalation = propose_corrections(compiled.evaluate(), deviating="B")[-1]

    assert described(compiled, escalation) == {
        "zh-hans": "预计超出计划工期2天，请上报分管领导并由运维检修部协调处理",
        "en": "The finish is forecast 2 days beyond the planned duration; escalate to the "
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
            "预计超出计划工期2天，请上报分管领导并由运维检修部协调处理"
        )
    with override("en"):
        assert proposal_text(nobody, {}) == (
            "The finish is forecast 2 days beyond the planned duration; escalate to the "
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
        "zh-hans": "营销部勘查与运检部勘查并行开展，完工提前2天",
        "en": "Run 营销部勘查 and 运检部勘查 in parallel; the finish moves 2 days earlier.",
    }
    assert described(meeting_network, meeting) == {
        "zh-hans": "供电方案设计提前2天完成，供电方案审查会即可赶上本周例会，不必再等3天，"
        "完工提前5天",
        "en": "Finish supply-plan design 2 days earlier so that the supply-plan review is held "
        "at this week's meeting instead of waiting 3 days; the finish moves 5 days earlier.",
    }
