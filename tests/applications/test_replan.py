"""A supervisor's re-plan: durations, logic, lags and departments become baseline n + 1.

The network of the default 10 kV template (activity on arrow, Tc 51 = Tp 52 - 1):
A-B-C-D-E-F-G-H-I (events 1 … 10), then J 10→11 (3), K 11→12 (20), L 12→14 (3), O 14→15
(2), P 15→16 (1) on the critical path; M 9→13 (3, TF 33) with a dummy 13→14, and N 9→14
(25, TF 11) beside them.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Department
from applications import services
from applications.models import Application
from applications.sweep import application_reanalyse
from scheduling.models import Activity, ActivityEvent, Baseline, Deviation
from tests.factories import make_application
from yekuo.errors import InvalidInput, NotPermitted, StaleVersion, TransitionNotAllowed

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)  # a Monday
DAY0_MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)  # the moment of acceptance
WEDNESDAY = datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def application(supervisor, manager):
    return make_application(by=supervisor, manager=manager, accepted_on=DAY0)


def activity(application, code) -> Activity:
    return Activity.objects.get(application=application, code=code)


def plan_rows(application) -> list:
    return list(
        Activity.objects.filter(application=application)
        .order_by("pk")
        .values_list(
            "code",
            "duration",
            "shortest_duration",
            "tail",
            "head",
            "predecessors",
            "department_id",
            "baseline_es",
            "baseline_tf",
        )
    )


def test_a_re_plan_stores_version_two_with_the_changed_activities(application, supervisor):
    operations = Department.objects.get(code="operations")
    baseline = services.application_replan(
        application_id=application.pk,
        durations={"K": 25},
        shortest_durations={"K": 18},
        logic={"M": {"tail": 12}},
        departments={"N": "operations"},
        reason="客户扩大施工范围",
        by=supervisor,
        expected_version=application.version,
        now=DAY0_MORNING,
    )
    # K + 5 moves L, O and P by 5: Tc 51 + 5 = 56; M now starts after K (ES 45 + 5 = 50).
    assert (baseline.version, baseline.duration, baseline.planned_duration) == (2, 56, 52)
    assert (baseline.reason, baseline.approved_by) == ("客户扩大施工范围", supervisor)
    assert list(application.baselines.values_list("version", flat=True)) == [1, 2]
    k, m, n = (activity(application, code) for code in "KMN")
    assert (k.duration, k.shortest_duration, k.baseline_ef) == (25, 18, 50)
    # Floats count back from Tp 52, four days short of Tc 56: the critical path has TF -4,
    # and N (EF 37) must finish before O's late start 53 - 4 = 49: TF 12.
    assert (m.tail, m.head, m.baseline_es, m.baseline_tf) == (12, 13, 50, -4)
    assert (n.department, n.baseline_tf) == (operations, 12)
    replanned = ActivityEvent.objects.filter(activity__application=application, kind="replanned")
    assert sorted(replanned.values_list("activity__code", "note")) == [
        ("K", "客户扩大施工范围"),
        ("M", "客户扩大施工范围"),
        ("N", "客户扩大施工范围"),
    ]
    fresh = Application.objects.get(pk=application.pk)
    assert fresh.version == application.version + 1
    # Committed 52, computed 56; nothing has started on day 0, so the analysis starts A on
    # the next working day: the forecast is one more day late, 5 working days past the
    # commitment, finishing on Friday 22 May (P's baseline finish 21 May + 1).
    assert activity(application, "P").baseline_finish == date(2026, 5, 21)
    assert (fresh.total_float, fresh.forecast_finish_date) == (-5, date(2026, 5, 22))
    # The analysis is stored: analysing again at the same moment finds nothing changed.
    assert application_reanalyse(application_id=application.pk, now=DAY0_MORNING).unchanged == 1


def test_a_re_plan_that_absorbs_a_delay_resolves_its_deviation(application, manager, supervisor):
    a = activity(application, "A")
    services.activity_progress_record(
        activity_id=a.pk, start=DAY0, remaining=3, by=manager, now=WEDNESDAY, today=DAY0
    )
    assert Deviation.objects.get(application=application, activity=a).status == "open"
    services.application_replan(
        application_id=application.pk,
        durations={"A": 6},
        reason="勘查需要客户补充资料",
        by=supervisor,
        now=WEDNESDAY,
    )
    # Three more days after Wednesday end on Monday 9 March, A's sixth working day: the new
    # plan's finish of A, so no delay is left.
    assert Deviation.objects.get(application=application, activity=a).status == "resolved"


def test_a_lag_on_node_delays_the_successor(aon_application, supervisor):
    baseline = services.application_replan(
        application_id=aon_application.pk,
        logic={"N": {"predecessors": [{"id": "I", "lag": 2}]}},
        reason="外线工程等待路径许可",
        by=supervisor,
        now=WEDNESDAY,
    )
    # N: ES = I's EF 22 + 2 = 24, EF 49, one day past L's 48: O starts at 49, Tc 52 = Tp.
    n = activity(aon_application, "N")
    assert n.predecessors == [{"id": "I", "lag": 2}]
    assert (n.baseline_es, n.baseline_ef, n.baseline_tf) == (24, 49, 0)
    assert baseline.duration == 52
    assert baseline.network["activities"][13]["predecessors"] == [{"id": "I", "lag": 2}]


def test_an_overlap_on_node_starts_the_successor_before_its_predecessor_ends(
    aon_application, supervisor
):
    # The customer starts building (K, 20 days) two days before the design review (J, 3
    # days, 2 at the shortest, 22 to 25) ends: K from 23 to 43 instead of 25 to 45, L
    # ends on 46, and the fees (N, 22 to 47) now hold up O: Tc 51 becomes 50.
    baseline = services.application_replan(
        application_id=aon_application.pk,
        logic={"K": {"predecessors": [{"id": "J", "lag": -2}]}},
        reason="客户在设计审查期间提前进场准备",
        by=supervisor,
        now=WEDNESDAY,
    )
    k = activity(aon_application, "K")
    assert k.predecessors == [{"id": "J", "lag": -2}]
    assert (k.baseline_es, k.baseline_ef) == (23, 43)
    assert baseline.duration == 50
    assert activity(aon_application, "N").is_critical
    aon_application.refresh_from_db()
    assert aon_application.baselines.count() == 2


def test_an_overlap_on_arrow_starts_the_arc_before_its_tail_event(application, supervisor):
    # K (20 days) may start 2 days before event 11 (J's end, day 25) is reached: 23 to 43,
    # L to 46, O and P two days earlier (the fees N, 9→14, end on 37): Tc 51 becomes 49.
    baseline = services.application_replan(
        application_id=application.pk,
        leads={"K": 2},
        reason="客户在设计审查期间提前进场准备",
        by=supervisor,
        now=WEDNESDAY,
    )
    k = activity(application, "K")
    assert k.lead == 2
    assert (k.baseline_es, k.baseline_ef) == (23, 43)
    assert baseline.duration == 49
    stored = next(a for a in baseline.network["activities"] if a.get("id") == "K")
    assert stored["lead"] == 2
    with pytest.raises(InvalidInput) as exc:
        services.application_replan(
            application_id=application.pk, leads={"K": 3}, reason="提前进场", by=supervisor
        )
    assert exc.value.errors == {"leads.K": ["K 与其开始事件前各工作的搭接不得超过 J 的最短工期。"]}
    assert application.baselines.count() == 2


def test_two_steps_merged_into_one_keep_the_other_as_a_milestone(application, supervisor):
    # Measure (1), optimising the flow: answering the customer (C) is done within the
    # acceptance (D), one day for both instead of one each. C stays, with no working days,
    # as the milestone its stage guards and its history refer to.
    baseline = services.application_replan(
        application_id=application.pk,
        durations={"C": 0},
        reason="答复客户与受理申请合并办理",
        by=supervisor,
        now=WEDNESDAY,
    )
    c, d = activity(application, "C"), activity(application, "D")
    assert (c.duration, c.baseline_es, c.baseline_ef) == (0, 2, 2)
    assert (d.baseline_es, d.baseline_ef) == (2, 3)
    assert baseline.duration == 50
    assert application.baselines.count() == 2


def test_an_overlap_longer_than_the_predecessor_can_be_is_refused(aon_application, supervisor):
    with pytest.raises(InvalidInput) as exc:
        services.application_replan(
            application_id=aon_application.pk,
            logic={"K": {"predecessors": [{"id": "J", "lag": -3}]}},
            reason="提前进场",
            by=supervisor,
            now=WEDNESDAY,
        )
    assert exc.value.errors == {
        "logic.K": ["K 在 J 之后的间隔时间须为整数工作日；负值（搭接）不得超过 J 的最短工期。"]
    }
    assert Baseline.objects.filter(application=aon_application).count() == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"logic": {"P": {"head": 1}}}, "logic.P", "网络逻辑存在循环："),
        ({"logic": {"K": {"head": 20}}}, "logic.K", "事件 12, 20 悬空"),
        ({"durations": {"K": -2}}, "durations.K", "请输入整数工作日，0 至 1000。"),
        ({"durations": {"K": 2.5}}, "durations.K", "请输入整数工作日，0 至 1000。"),
        ({"durations": {"Z": 3}}, "durations.Z", "不存在工作 Z。"),
        ({"shortest_durations": {"K": 21}}, "shortest_durations.K", "最短工期不能超过工期（20）。"),
        ({"departments": {"K": "legal"}}, "departments.K", "没有有效的部门 legal。"),
        ({"logic": {"K": {"predecessors": ["J"]}}}, "logic.K", "本网络用事件编号绘制"),
        ({"durations": {"K": 20}}, "activities", "计划没有任何改动。"),
    ],
)
def test_a_wrong_re_plan_is_refused_beside_its_field_and_stores_nothing(
    application, supervisor, change, field, message
):
    before = plan_rows(application)
    with pytest.raises(InvalidInput) as exc:
        services.application_replan(
            application_id=application.pk, reason="调整", by=supervisor, **change
        )
    assert list(exc.value.errors) == [field]
    assert exc.value.errors[field][0].startswith(message)
    assert Baseline.objects.filter(application=application).count() == 1
    assert plan_rows(application) == before
    assert Application.objects.get(pk=application.pk).version == application.version


def test_an_unknown_predecessor_on_node_is_refused(aon_application, supervisor):
    with pytest.raises(InvalidInput) as exc:
        services.application_replan(
            application_id=aon_application.pk,
            logic={"N": {"predecessors": ["I", "X"]}},
            reason="调整",
            by=supervisor,
        )
    assert exc.value.errors == {"logic.N": ["没有可接续的工作 X。"]}


def test_a_re_plan_needs_a_reason(application, supervisor):
    with pytest.raises(InvalidInput) as exc:
        services.application_replan(
            application_id=application.pk, durations={"K": 25}, reason=" ", by=supervisor
        )
    assert exc.value.errors == {"reason": ["请说明调整计划的原因。"]}


def test_only_a_supervisor_re_plans_a_current_application_in_progress(
    application, manager, supervisor
):
    with pytest.raises(NotPermitted):
        services.application_replan(
            application_id=application.pk, durations={"K": 25}, reason="扩建", by=manager
        )
    with pytest.raises(StaleVersion):
        services.application_replan(
            application_id=application.pk,
            durations={"K": 25},
            reason="扩建",
            by=supervisor,
            expected_version=application.version - 1,
        )
    services.application_transition(
        application_id=application.pk, transition="cancel", note="客户撤回申请", by=supervisor
    )
    with pytest.raises(TransitionNotAllowed):
        services.application_replan(
            application_id=application.pk, durations={"K": 25}, reason="扩建", by=supervisor
        )
    assert Baseline.objects.filter(application=application).count() == 1
    assert activity(application, "K").duration == 20
