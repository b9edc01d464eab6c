"""The application lifecycle through its services: states, guards, permissions, log, clock."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from accounts.roles import Role
from applications import selectors, services
from applications.models import TRANSITIONS, Application, StageTransition, transition_label
from applications.sweep import application_reanalyse
from scheduling.models import Activity, ActivityEvent
from scheduling.selectors import working_calendar
from tests.factories import AccountManagerProfileFactory, UserFactory, make_application
from yekuo.errors import InvalidInput, NotPermitted, TransitionNotAllowed

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db]

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 27)
DAY0 = date(2026, 3, 2)  # a Monday


def at(day: date, hour: int = 17) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


class Desk:
    """An account manager's desk: records progress and applies transitions on one application."""

    def __init__(self, application, user):
        self.application = application
        self.user = user
        self.calendar = working_calendar()

    def activity(self, code) -> Activity:
        return Activity.objects.get(application=self.application, code=code)

    def work(self, code, start: date, days: int | None = None, by=None) -> date:
        """Record an activity from ``start`` for ``days`` working days; return the next day."""
        activity = self.activity(code)
        days = activity.duration if days is None else days
        finish = self.calendar.add_working_days(start, max(days, 1) - 1)
        services.activity_progress_record(
            activity_id=activity.pk, start=start, by=by or self.user, today=TODAY
        )
        services.activity_progress_record(
            activity_id=activity.pk, finish=finish, by=by or self.user, today=TODAY
        )
        return self.calendar.next_working_day(finish)

    def move(self, transition, day: date, note="", by=None) -> Application:
        self.application = services.application_transition(
            application_id=self.application.pk,
            transition=transition,
            by=by or self.user,
            note=note,
            now=at(day),
        )
        return self.application

    def clock(self, day=TODAY):
        fresh = Application.objects.get(pk=self.application.pk)
        readings = selectors.application_time_limits(fresh, today=day)
        return {name: (r.used, r.status) for name, r in readings.items()}

    def log(self):
        return list(
            StageTransition.objects.filter(application=self.application).values_list(
                "transition", "from_state", "to_state", "by__username"
            )
        )


@pytest.fixture
def desk(manager, supervisor):
    application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    return Desk(application, manager)


def test_creation_plans_the_application_from_its_template(desk):
    app = desk.application
    assert app.number == "YK-2026-000001"
    assert (app.state, app.template.code, app.start_date) == (
        "consultation",
        "hv-single-10kv",
        DAY0,
    )
    # Tp = 22 utility-side working days + 30 customer-side days on the critical path.
    assert app.committed_duration == 52
    assert app.committed_finish_date == date(2026, 5, 15)
    assert app.forecast_finish_date == date(2026, 5, 14)
    assert app.total_float == 1
    e = desk.activity("E")
    assert (e.baseline_es, e.baseline_ef, e.baseline_start, e.baseline_finish) == (
        4,
        6,
        date(2026, 3, 6),
        date(2026, 3, 9),
    )
    assert app.baselines.get().version == 1
    assert desk.log() == [("create", "", "consultation", "supervisor-t")]


def test_the_numbers_count_up_within_a_year(supervisor, manager):
    first = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    second = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    assert (first.number, second.number) == ("YK-2026-000001", "YK-2026-000002")


def test_happy_path_of_a_high_voltage_single_source_application(desk, supervisor):
    manager = desk.user
    metering = UserFactory(
        username="metering-t", role=Role.DEPARTMENT_STAFF, department_code="metering"
    )
    operations = UserFactory(
        username="operations-t", role=Role.DEPARTMENT_STAFF, department_code="operations"
    )

    # Consultation: A, B, C, D one day each.
    day = DAY0
    for code in "ABCD":
        day = desk.work(code, day)
    assert desk.move("start_survey", date(2026, 3, 5)).state == "survey"
    assert desk.clock(date(2026, 3, 5))["plan_reply"] == (4, "ok")

    day = desk.work("E", day)  # 6-9 March
    assert desk.activity("E").actual_finish == date(2026, 3, 9)
    assert desk.move("start_design", date(2026, 3, 9)).state == "design"

    for code in "FGH":  # 10-13, 16, 17 March
        day = desk.work(code, day)
    assert desk.move("start_fees", date(2026, 3, 17)).state == "fees"
    # Twelve working days from acceptance to the plan reply: 80 % of the 15-day limit.
    assert desk.clock(date(2026, 3, 17))["plan_reply"] == (12, "warning")

    fees_day = day  # 18 March: the fees, the customer's design and the grid works begin
    desk.work("M", fees_day)
    assert desk.move("start_construction", date(2026, 3, 20)).state == "construction"

    day = desk.work("I", fees_day)
    day = desk.work("J", day, by=operations)
    day = desk.work("K", day)
    day = desk.work("L", day, by=operations)
    desk.work("N", fees_day)
    inspection_passed = desk.activity("L").actual_finish
    assert desk.move("start_energization", inspection_passed).state == "energization"

    day = desk.work("O", day)
    desk.work("P", day, by=metering)
    energized_on = desk.activity("P").actual_finish
    app = desk.move("energize", energized_on, by=metering)
    assert app.state == "energized" and app.energized_at == at(energized_on)

    services.application_record_review(
        application_id=app.pk, quality=5, safety=5, efficiency=4, satisfaction=5, by=manager
    )
    assert desk.move("close", energized_on).state == "closed"

    assert [row[:3] for row in desk.log()] == [
        ("create", "", "consultation"),
        ("start_survey", "consultation", "survey"),
        ("start_design", "survey", "design"),
        ("start_fees", "design", "fees"),
        ("start_construction", "fees", "construction"),
        ("start_energization", "construction", "energization"),
        ("energize", "energization", "energized"),
        ("close", "energized", "closed"),
    ]
    assert desk.log()[6][3] == "metering-t"
    # Every real activity ran on its planned duration: the schedule finished as planned.
    assert not Activity.objects.filter(application=app, is_dummy=False, actual_finish=None)
    assert energized_on == date(2026, 5, 14) == app.forecast_finish_date
    clock = desk.clock()
    assert clock["plan_reply"] == (12, "warning")
    assert clock["design_review"] == (3, "ok")
    assert clock["completion_inspection"] == (3, "ok")
    assert clock["energization"] == (3, "ok")
    assert clock["whole_process"] == (21, "warning")


def test_leaving_a_stage_with_unfinished_work_is_refused_and_changes_nothing(desk):
    desk.work("A", DAY0)
    before = Application.objects.get(pk=desk.application.pk).version
    assert before == 3  # created, then A started and finished
    with pytest.raises(TransitionNotAllowed) as exc:
        desk.move("start_survey", DAY0)
    assert exc.value.reasons == ["本环节工作尚未完成：B 受理用户征询、C 答复客户、D 受理用户申请。"]
    app = Application.objects.get(pk=desk.application.pk)
    assert (app.state, app.version) == ("consultation", before)
    assert StageTransition.objects.filter(application=app).count() == 1


def test_the_plan_must_pass_review_before_fees(desk):
    day = DAY0
    for code in "ABCD":
        day = desk.work(code, day)
    desk.move("start_survey", day)
    day = desk.work("E", day)
    desk.move("start_design", day)
    day = desk.work("F", day)
    with pytest.raises(TransitionNotAllowed) as exc:
        desk.move("start_fees", day)
    assert exc.value.reasons[0] == "供电方案尚未通过审查（G 供电方案审查会）。"


def test_energize_needs_fees_inspection_and_contract(desk, supervisor):
    app = desk.application
    # Walk to energization by recording everything but the fees, the inspection and the
    # contract, then check the three guards speak together.
    day = DAY0
    for code in "ABCD":
        day = desk.work(code, day)
    desk.move("start_survey", day)
    day = desk.work("E", day)
    desk.move("start_design", day)
    for code in "FGH":
        day = desk.work(code, day)
    desk.move("start_fees", day)
    spec = selectors.transition_spec(Application.objects.get(pk=app.pk), "start_construction")
    assert spec.refusals == [
        "业务费用尚未结清（M 缴纳业务费用）。",
        "本环节工作尚未完成：M 缴纳业务费用。",
    ]


def test_close_needs_the_post_completion_review(desk):
    app = desk.application
    spec = selectors.transition_spec(app, "close")
    assert not spec.source_ok  # not energized yet: the button is not offered at all
    assert selectors.transition_spec(app, "close").transition.conditions[0].refusal(app) == (
        "尚未录入问效（竣工后评价）。"
    )


def test_only_the_own_manager_a_supervisor_or_an_administrator_moves_an_application(desk, staff):
    other = AccountManagerProfileFactory(user__username="other-manager").user
    for code in "ABCD":
        desk.work(
            code,
            DAY0
            if code == "A"
            else desk.calendar.next_working_day(desk.activity(chr(ord(code) - 1)).actual_finish),
        )
    for user in (other, staff):
        with pytest.raises(NotPermitted):
            desk.move("start_survey", date(2026, 3, 5), by=user)
    assert Application.objects.get(pk=desk.application.pk).state == "consultation"
    assert StageTransition.objects.filter(application=desk.application).count() == 1


def test_department_staff_record_only_their_departments_activities(desk, staff):
    # staff belongs to 运维检修部; A belongs to 营销部.
    with pytest.raises(NotPermitted):
        services.activity_progress_record(
            activity_id=desk.activity("A").pk, start=DAY0, by=staff, today=TODAY
        )
    assert desk.activity("A").actual_start is None
    assert not ActivityEvent.objects.exists()


def test_suspend_and_resume_return_to_the_state_left_and_stop_the_clock(desk):
    desk.work("A", DAY0)  # 2 March
    desk.move("suspend", date(2026, 3, 3), note="客户资料不全，暂停办理")
    app = Application.objects.get(pk=desk.application.pk)
    assert (app.state, app.suspended_from) == ("suspended", "consultation")
    with pytest.raises(TransitionNotAllowed):
        services.activity_progress_record(
            activity_id=desk.activity("B").pk, start=date(2026, 3, 4), by=desk.user, today=TODAY
        )
    app = desk.move("resume", date(2026, 3, 10))
    assert (app.state, app.suspended_from) == ("consultation", "")
    services.activity_progress_record(
        activity_id=desk.activity("B").pk, start=date(2026, 3, 3), by=desk.user, today=TODAY
    )
    # B has run from 3 March to 13 March: 9 working days, of which 3-9 March (5) suspended.
    assert desk.clock(date(2026, 3, 13))["plan_reply"] == (5, "ok")


def test_cancel_is_terminal_and_needs_a_reason(desk):
    with pytest.raises(InvalidInput) as exc:
        desk.move("cancel", DAY0)
    assert exc.value.errors == {"note": ["请说明“取消”的原因。"]}
    app = desk.move("cancel", DAY0, note="客户撤回申请")
    assert (app.state, app.cancel_reason) == ("cancelled", "客户撤回申请")
    assert selectors.application_transitions(app, desk.user) == []
    with pytest.raises(TransitionNotAllowed):
        services.activity_progress_record(
            activity_id=desk.activity("A").pk, start=DAY0, by=desk.user, today=TODAY
        )


def test_rework_goes_back_and_keeps_the_history(desk):
    day = DAY0
    for code in "ABCD":
        day = desk.work(code, day)
    desk.move("start_survey", day)
    survey_done = desk.work("E", day)
    desk.move("start_design", survey_done)
    app = desk.move("rework_survey", survey_done, note="勘查资料不足，需补充负荷情况")
    assert app.state == "survey"
    e = desk.activity("E")
    assert (e.actual_start, e.actual_finish, e.remaining) == (date(2026, 3, 6), None, 2)
    kinds = list(e.events.values_list("kind", flat=True))
    assert kinds == ["started", "finished", "reopened"]
    assert [row[0] for row in desk.log()][-2:] == ["start_design", "rework_survey"]


def test_progress_cannot_start_before_its_predecessors_finish(desk):
    with pytest.raises(InvalidInput) as exc:
        services.activity_progress_record(
            activity_id=desk.activity("B").pk, start=DAY0, by=desk.user, today=TODAY
        )
    assert exc.value.errors == {
        "actual_start": ["B 受理用户征询 须待 A 办理需求手续 完成后才能开始。"]
    }


@pytest.mark.parametrize(
    ("start", "finish", "field", "message"),
    [
        (
            date(2026, 3, 3),
            date(2026, 3, 2),
            "actual_finish",
            "完成日期 2026年3月2日 早于开始日期 2026年3月3日。",
        ),
        (date(2026, 12, 1), None, "actual_start", "2026年12月1日 是将来的日期。"),
        (date(2026, 3, 7), None, "actual_start", "2026年3月7日 不是工作日。"),
        (
            date(2026, 2, 27),
            None,
            "actual_start",
            "2026年2月27日 早于该申请的受理日 2026年3月2日。",
        ),
    ],
)
def test_bad_progress_dates_are_refused_naming_the_field(desk, start, finish, field, message):
    a = desk.activity("A")
    with pytest.raises(InvalidInput) as exc:
        services.activity_progress_record(activity_id=a.pk, start=start, by=desk.user, today=TODAY)
        services.activity_progress_record(
            activity_id=a.pk, finish=finish, by=desk.user, today=TODAY
        )
    assert exc.value.errors == {field: [message]}
    a.refresh_from_db()
    assert a.actual_finish is None
    if field == "actual_start":
        assert a.actual_start is None


def test_progress_on_another_applications_activity_is_refused(desk, supervisor):
    other = make_application(by=supervisor, manager=desk.user, accepted_on=DAY0)
    foreign = Activity.objects.get(application=other, code="A")
    with pytest.raises(InvalidInput) as exc:
        services.activity_progress_record(
            activity_id=foreign.pk,
            application_id=desk.application.pk,
            start=DAY0,
            by=desk.user,
            today=TODAY,
        )
    assert list(exc.value.errors) == ["activity"]
    foreign.refresh_from_db()
    assert foreign.actual_start is None


def test_a_late_activity_moves_the_forecast_and_the_float(desk):
    a = desk.activity("A")
    services.activity_progress_record(activity_id=a.pk, start=DAY0, by=desk.user, today=TODAY)
    services.activity_progress_record(activity_id=a.pk, remaining=3, by=desk.user, today=DAY0)
    app = Application.objects.get(pk=desk.application.pk)
    # A needs 3 more days after 2 March: the critical path slips 3 days, Tp had 1 day of float.
    assert (app.total_float, app.forecast_finish_date) == (-2, date(2026, 5, 19))
    assert desk.activity("A").forecast_finish == date(2026, 3, 5)


def test_reassignment_is_for_supervisors_and_is_logged(desk, supervisor):
    new = AccountManagerProfileFactory(
        user__username="new-manager", regions=[desk.application.region]
    ).user
    with pytest.raises(NotPermitted):
        services.application_reassign(
            application_id=desk.application.pk, manager=new, reason="调整", by=desk.user
        )
    with pytest.raises(InvalidInput) as exc:
        services.application_reassign(
            application_id=desk.application.pk, manager=new, reason=" ", by=supervisor
        )
    assert list(exc.value.errors) == ["reason"]
    app = services.application_reassign(
        application_id=desk.application.pk, manager=new, reason="原客户经理调岗", by=supervisor
    )
    assert app.account_manager == new
    change = app.assignment_changes.get()
    assert (change.from_manager, change.to_manager, change.by) == (desk.user, new, supervisor)


def test_replan_saves_a_new_baseline_and_keeps_the_old(desk, supervisor):
    with pytest.raises(NotPermitted):
        services.application_replan(
            application_id=desk.application.pk, durations={"K": 25}, reason="扩建", by=desk.user
        )
    baseline = services.application_replan(
        application_id=desk.application.pk,
        durations={"K": 25},
        reason="客户扩大施工范围",
        by=supervisor,
        today=DAY0,
    )
    assert (baseline.version, baseline.duration) == (2, 56)
    assert list(desk.application.baselines.values_list("version", "duration")) == [(1, 51), (2, 56)]
    assert desk.activity("K").duration == 25


def test_replan_with_a_cycle_is_refused_with_the_engines_reason(desk, supervisor):
    with pytest.raises(InvalidInput) as exc:
        services.application_replan(
            application_id=desk.application.pk,
            logic={"P": {"head": 1}},
            reason="错误的逻辑",
            by=supervisor,
        )
    assert exc.value.errors["logic.P"][0].startswith("网络逻辑存在循环：")
    assert desk.application.baselines.count() == 1
    assert desk.activity("P").head == 16


def _walk_to_construction(desk) -> date:
    day = DAY0
    for code in "ABCD":
        day = desk.work(code, day)
    desk.move("start_survey", day)
    day = desk.work("E", day)
    desk.move("start_design", day)
    for code in "FGH":
        day = desk.work(code, day)
    desk.move("start_fees", day)
    desk.work("M", day)
    desk.move("start_construction", day)
    return day


def test_a_failed_inspection_keeps_the_application_in_construction(desk, supervisor):
    day = _walk_to_construction(desk)
    desk.work("N", day)
    day = desk.work("I", day)
    day = desk.work("J", day)
    day = desk.work("K", day)
    inspection = desk.activity("L")
    services.activity_progress_record(
        activity_id=inspection.pk, start=day, by=desk.user, today=TODAY
    )
    with pytest.raises(InvalidInput) as exc:
        services.activity_progress_record(
            activity_id=inspection.pk, finish=day, by=desk.user, passed=False, today=TODAY
        )
    assert exc.value.errors == {"note": ["请说明检验发现的问题。"]}
    services.activity_progress_record(
        activity_id=inspection.pk,
        finish=day,
        by=desk.user,
        passed=False,
        note="接地电阻不合格",
        today=TODAY,
    )
    assert desk.activity("L").actual_finish is None
    assert list(desk.activity("L").events.values_list("kind", "note")) == [
        ("started", ""),
        ("inspection_failed", "接地电阻不合格"),
    ]
    app = Application.objects.get(pk=desk.application.pk)
    assert selectors.transition_spec(app, "start_energization").refusals == [
        "竣工检验尚未通过（L 竣工检验）。",
        "本环节工作尚未完成：L 竣工检验。",
    ]


def test_energize_needs_the_contract_signed(desk):
    day = _walk_to_construction(desk)
    desk.work("N", day)
    for code in "IJKL":
        day = desk.work(code, day)
    desk.move("start_energization", day)
    app = Application.objects.get(pk=desk.application.pk)
    assert selectors.transition_spec(app, "energize").refusals == [
        "供用电合同尚未签订（O 供用电合同签订）。",
        "本环节工作尚未完成：O 供用电合同签订、P 装表接电。",
    ]
    with pytest.raises(TransitionNotAllowed):
        desk.move("energize", day)
    assert Application.objects.get(pk=app.pk).state == "energization"


def test_rework_after_energization_reopens_the_inspection(desk):
    day = _walk_to_construction(desk)
    desk.work("N", day)
    for code in "IJKL":
        day = desk.work(code, day)
    desk.move("start_energization", day)
    app = desk.move("rework_construction", day, note="送电前复检发现缺陷")
    assert app.state == "construction"
    assert desk.activity("L").actual_finish is None
    app = Application.objects.get(pk=app.pk)
    assert (
        "竣工检验尚未通过（L 竣工检验）。"
        in selectors.transition_spec(app, "start_energization").refusals
    )


def test_what_a_manager_may_read(supervisor, manager, staff):
    from tests.factories import RegionFactory

    mine = make_application(by=supervisor, manager=manager)
    served = RegionFactory(code="served")
    manager.account_manager.regions.add(served)
    colleague = AccountManagerProfileFactory(user__username="colleague").user
    in_my_region = make_application(by=supervisor, manager=colleague, region=served)
    elsewhere = make_application(by=supervisor, manager=colleague)
    assert set(selectors.visible_applications(manager)) == {mine, in_my_region}
    assert set(selectors.visible_applications(supervisor)) == {mine, in_my_region, elsewhere}
    # 运维检修部 owns activities in every 10 kV application.
    assert set(selectors.visible_applications(staff)) == {mine, in_my_region, elsewhere}


def test_on_a_sunday_the_forecast_starts_waiting_work_on_monday(desk):
    sunday = datetime(2026, 3, 8, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    application_reanalyse(application_id=desk.application.pk, now=sunday)
    a = desk.activity("A")
    assert a.forecast_start == date(2026, 3, 9)  # Monday, not Tuesday


def test_suspend_and_cancel_work_from_every_stage_of_work(desk):
    day = DAY0
    for code in "ABCD":
        day = desk.work(code, day)
    desk.move("start_survey", day)
    day = desk.work("E", day)
    desk.move("start_design", day)
    app = desk.move("suspend", day, note="客户暂缓")
    assert (app.state, app.suspended_from) == ("suspended", "design")
    assert desk.move("resume", day).state == "design"
    assert desk.move("cancel", day, note="客户项目取消").state == "cancelled"


def test_every_transition_declares_its_label_and_whether_it_needs_a_reason():
    assert list(TRANSITIONS) == [
        "start_survey",
        "start_design",
        "start_fees",
        "start_construction",
        "start_energization",
        "energize",
        "close",
        "suspend",
        "resume",
        "cancel",
        "rework_survey",
        "rework_construction",
    ]
    assert {name for name, meta in TRANSITIONS.items() if meta.get("reason_required")} == {
        "suspend",
        "cancel",
        "rework_survey",
        "rework_construction",
    }
    for name in TRANSITIONS:
        with translation.override("en"):
            english = transition_label(name)
        with translation.override("zh-hans"):
            chinese = transition_label(name)
        assert english != name and not chinese.isascii(), name
    assert transition_label("no_such_step") == "no_such_step"
