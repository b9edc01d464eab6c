"""Answering a deviation: its cause, who answers for it, the action and its due day."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Department
from applications import services, sweep
from scheduling.models import Activity, Deviation, DeviationAnswer, DeviationCause
from tests.dates import TODAY, pin_today
from tests.factories import make_application
from yekuo.errors import InvalidInput, NotPermitted, TransitionNotAllowed

pytestmark = [pytest.mark.django_db, pin_today]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)  # a Monday
NOW = datetime.combine(TODAY, time(10), tzinfo=SHANGHAI)


@pytest.fixture
def application(supervisor, manager):
    return make_application(by=supervisor, manager=manager, accepted_on=DAY0)


def late(application, manager, code="A") -> Deviation:
    """Activity ``code`` started on day 0 needs 3 more days: a deviation."""
    a = Activity.objects.get(application=application, code=code)
    services.activity_progress_record(activity_id=a.pk, start=DAY0, by=manager, today=DAY0)
    services.activity_progress_record(activity_id=a.pk, remaining=3, by=manager, today=DAY0)
    sweep.deviation_sweep_batch(
        application_ids=[application.pk], now=datetime.combine(DAY0, time(18), tzinfo=SHANGHAI)
    )
    return Deviation.objects.get(application=application, activity=a)


def answer(deviation, by, **fields):
    values = {
        "cause": "materials",
        "planned_action": "Order the cable from the second supplier.",
        "action_due": TODAY + timedelta(days=3),
    }
    values.update(fields)
    return services.deviation_acknowledge(deviation_id=deviation.pk, by=by, now=NOW, **values)


def test_the_seeded_causes_in_their_order():
    assert [(c.code, c.name) for c in DeviationCause.objects.filter(is_active=True)] == [
        ("customer-not-ready", "客户原因未就绪"),
        ("design-rework", "设计返工"),
        ("materials", "物资供应"),
        ("weather", "天气"),
        ("other-department", "其他部门配合"),
        ("outage-window", "停电窗口"),
        ("documents-missing", "资料不全"),
        ("other", "其他"),
    ]


def test_acknowledging_records_the_answer_and_the_activity_department_answers(application, manager):
    deviation = late(application, manager)
    answer(deviation, manager)
    deviation.refresh_from_db()
    marketing = Department.objects.get(code="marketing")
    assert deviation.status == "acknowledged"
    assert (deviation.acknowledged_by, deviation.acknowledged_at) == (manager, NOW)
    assert deviation.cause.code == "materials"
    assert (deviation.responsible_party, deviation.responsible_department) == (
        "department",
        marketing,
    )
    assert deviation.planned_action == "Order the cable from the second supplier."
    assert deviation.action_due == TODAY + timedelta(days=3)
    row = DeviationAnswer.objects.get(deviation=deviation)
    assert (row.by, row.at, row.cause.code, row.responsible_department) == (
        manager,
        NOW,
        "materials",
        marketing,
    )


def test_a_customer_side_activity_is_the_customer_s_to_answer(application, manager):
    Activity.objects.filter(application=application, code="A").update(
        party="customer", department=None
    )
    deviation = late(application, manager)
    answer(deviation, manager, cause="customer-not-ready")
    deviation.refresh_from_db()
    assert (deviation.responsible_party, deviation.responsible_department) == ("customer", None)
    assert deviation.party_reason == ""


def test_another_party_than_the_owner_needs_a_reason(application, manager):
    deviation = late(application, manager)
    with pytest.raises(InvalidInput) as refused:
        answer(deviation, manager, responsible_party="external")
    assert refused.value.errors == {"party_reason": ["请说明为何由延误工作负责方以外的一方负责。"]}
    deviation.refresh_from_db()
    assert (deviation.status, deviation.cause, deviation.responsible_party) == ("open", None, "")
    assert not DeviationAnswer.objects.exists()
    operations = Department.objects.get(code="operations")
    with pytest.raises(InvalidInput) as refused:
        answer(
            deviation, manager, responsible_party="department", responsible_department=operations.pk
        )
    assert list(refused.value.errors) == ["party_reason"]

    answer(
        deviation,
        manager,
        responsible_party="department",
        responsible_department=operations.pk,
        party_reason="The cable is theirs to deliver.",
    )
    deviation.refresh_from_db()
    assert (deviation.responsible_department, deviation.party_reason) == (
        operations,
        "The cable is theirs to deliver.",
    )


def test_a_due_day_past_an_inactive_cause_and_no_action_are_refused(application, manager):
    deviation = late(application, manager)
    DeviationCause.objects.filter(code="weather").update(is_active=False)
    with pytest.raises(InvalidInput) as refused:
        answer(
            deviation,
            manager,
            cause="weather",
            planned_action="  ",
            action_due=TODAY - timedelta(days=1),
        )
    assert refused.value.errors == {
        "cause": ["请选择列出的原因之一。"],
        "planned_action": ["请说明将采取的措施。"],
        "action_due": ["措施的完成期限不能是已经过去的日期。"],
    }
    assert Deviation.objects.get(pk=deviation.pk).status == "open"
    assert not DeviationAnswer.objects.exists()


def test_due_today_is_accepted(application, manager):
    deviation = late(application, manager)
    answer(deviation, manager, action_due=TODAY)
    assert Deviation.objects.get(pk=deviation.pk).action_due == TODAY


def test_a_correction_is_kept_beside_the_first_answer(application, manager, supervisor):
    deviation = late(application, manager)
    answer(deviation, manager)
    later = NOW + timedelta(hours=2)
    services.deviation_acknowledge(
        deviation_id=deviation.pk,
        cause="design-rework",
        planned_action="Redraw the single-line diagram.",
        action_due=TODAY + timedelta(days=5),
        by=supervisor,
        now=later,
    )
    deviation.refresh_from_db()
    # Still acknowledged by the first to answer; the correction is in the history.
    assert (deviation.acknowledged_by, deviation.cause.code) == (manager, "design-rework")
    history = list(DeviationAnswer.objects.filter(deviation=deviation))
    assert [(row.cause.code, row.by, row.at) for row in history] == [
        ("materials", manager, NOW),
        ("design-rework", supervisor, later),
    ]


def test_staff_of_another_department_may_not_answer(application, manager, staff):
    deviation = late(application, manager)
    with pytest.raises(NotPermitted):
        answer(deviation, staff)
    assert not DeviationAnswer.objects.exists()


def test_a_resolved_deviation_is_not_answered(application, manager):
    deviation = late(application, manager)
    Deviation.objects.filter(pk=deviation.pk).update(status="resolved")
    with pytest.raises(TransitionNotAllowed):
        answer(deviation, manager)
    assert not DeviationAnswer.objects.exists()
