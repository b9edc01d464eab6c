"""Nightly KPI snapshots per account manager and per department (DESIGN §6-7)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Department
from applications import selectors, services
from applications.kpi import (
    application_time_limits_many,
    kpi_monthly_trend,
    kpi_snapshot_take,
    kpi_trend,
)
from applications.models import Application, KpiSnapshot
from applications.tasks import snapshot_kpis
from scheduling.models import Deviation
from tests.applications.test_lifecycle import DAY0, TODAY, Desk
from tests.dates import on_days_of_note
from tests.factories import AccountManagerProfileFactory, make_application
from yekuo.errors import InvalidInput

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db]

SNAPSHOT_DAY = date(2026, 5, 29)

FIGURES = (
    "active",
    "finished",
    "on_time",
    "average_cycle_days",
    "average_utility_days",
    "deviations_red",
    "deviations_amber",
    "deviations_info",
    "limits_exceeded",
)


def energize(desk: Desk, *, construction_days=None, inspection_days=None) -> date:
    """Walk an application from acceptance to energized; return the energization day."""
    day = DAY0
    for code in "ABCD":
        day = desk.work(code, day)
    desk.move("start_survey", day)
    day = desk.work("E", day)
    desk.move("start_design", day)
    for code in "FGH":
        day = desk.work(code, day)
    desk.move("start_fees", day)
    fees_day = day
    desk.work("M", fees_day)
    desk.move("start_construction", fees_day)
    day = desk.work("I", fees_day)
    day = desk.work("J", day)
    day = desk.work("K", day, construction_days)
    day = desk.work("L", day, inspection_days)
    desk.work("N", fees_day)
    desk.move("start_energization", desk.activity("L").actual_finish)
    day = desk.work("O", day)
    desk.work("P", day)
    energized_on = desk.activity("P").actual_finish
    desk.move("energize", energized_on)
    return energized_on


def deviation(application, code, *, severity, status="open"):
    activity = application.activities.get(code=code)
    now = timezone.now()
    return Deviation.objects.create(
        application=application,
        activity=activity,
        department=activity.department,
        detected_at=now,
        updated_at=now,
        delay=2,
        total_float=0,
        free_float=0,
        critical=severity == "red",
        total_slip=2 if severity == "red" else 0,
        successor_slip=2 if severity != "info" else 0,
        commitment_overrun=2 if severity == "red" else 0,
        severity=severity,
        status=status,
        resolved_at=now if status == "resolved" else None,
    )


@pytest.fixture
def book(supervisor, manager):
    """The applications of two managers, walked to where the KPIs can be read off.

    ``manager`` holds: one energized on time, one energized late (the customer's
    construction took 25 days instead of 20, the completion inspection 7 instead of 3),
    one in design whose plan-reply clock has run out, one suspended since its second day,
    and one cancelled. ``colleague`` holds one 35 kV application just accepted.
    """
    colleague = AccountManagerProfileFactory(user__username="colleague-t").user
    desks = {
        name: Desk(make_application(by=supervisor, manager=manager, accepted_on=DAY0), manager)
        for name in ("on_time", "late", "design", "suspended", "cancelled")
    }
    new = make_application(by=supervisor, manager=colleague, voltage_class="35kV")

    on_time = energize(desks["on_time"])
    late = energize(desks["late"], construction_days=25, inspection_days=7)

    design = desks["design"]
    design.work("A", DAY0)
    design.move("suspend", date(2026, 3, 3), note="客户变更用电容量，暂停办理")
    design.move("resume", date(2026, 3, 10))
    # B recorded from 3 March after the resumption: only 10 March counts on the clock.
    day = design.work("B", date(2026, 3, 3), 6)
    for code in "CD":
        day = design.work(code, day)
    design.move("start_survey", day)
    day = design.work("E", day)
    design.move("start_design", day)
    services.activity_progress_record(
        activity_id=design.activity("F").pk, start=day, by=manager, today=TODAY
    )

    suspended = desks["suspended"]
    suspended.work("A", DAY0)
    suspended.move("suspend", date(2026, 3, 3), note="客户资料不全，暂停办理")

    desks["cancelled"].move("cancel", DAY0, note="客户撤回申请")

    # The figures below count these deviations alone: the ones the progress entries opened
    # on the way are resolved first.
    Deviation.objects.exclude(status="resolved").update(
        status="resolved", resolved_at=timezone.now()
    )
    deviation(design.application, "F", severity="red")
    deviation(design.application, "E", severity="info", status="resolved")
    deviation(suspended.application, "B", severity="amber", status="acknowledged")
    deviation(new, "A", severity="info")
    return {
        "manager": manager,
        "colleague": colleague,
        "desks": desks,
        "new": new,
        "on_time": on_time,
        "late": late,
    }


def figures(*, day=SNAPSHOT_DAY, manager=None, department=None) -> dict:
    if manager is not None:
        row = KpiSnapshot.objects.get(day=day, scope="manager", manager=manager)
    else:
        row = KpiSnapshot.objects.get(day=day, scope="department", department__code=department)
    return {name: getattr(row, name) for name in FIGURES}


def test_the_walked_applications_finish_as_the_kpis_expect(book):
    on_time = book["desks"]["on_time"].application
    late = book["desks"]["late"].application
    assert on_time.committed_finish_date == late.committed_finish_date == date(2026, 5, 15)
    assert book["on_time"] == date(2026, 5, 14)
    # Nine working days later: five more of construction, four more of inspection.
    assert book["late"] == date(2026, 5, 27)
    assert book["desks"]["on_time"].clock()["whole_process"] == (21, "warning")
    assert book["desks"]["late"].clock()["whole_process"] == (25, "exceeded")
    assert book["desks"]["design"].clock(SNAPSHOT_DAY)["plan_reply"][1] == "exceeded"


def test_the_snapshot_of_a_manager(book):
    # Two managers and every department.
    assert kpi_snapshot_take(day=SNAPSHOT_DAY) == 2 + Department.objects.count()
    assert figures(manager=book["manager"]) == {
        "active": 2,  # in design and suspended; not the cancelled one
        "finished": 2,
        "on_time": 1,
        # Working days from 2 March, both ends counted: 51 to 14 May, 60 to 27 May.
        "average_cycle_days": Decimal("55.50"),
        # Utility-side whole-process days: 21 and 25.
        "average_utility_days": Decimal("23.00"),
        "deviations_red": 1,
        "deviations_amber": 1,  # acknowledged is still open
        "deviations_info": 0,  # resolved
        "limits_exceeded": 2,  # the late one and the one in design
    }
    assert figures(manager=book["colleague"]) == {
        "active": 1,
        "finished": 0,
        "on_time": 0,
        "average_cycle_days": None,
        "average_utility_days": None,
        "deviations_red": 0,
        "deviations_amber": 0,
        "deviations_info": 1,
        "limits_exceeded": 0,
    }


def test_the_snapshot_of_a_department(book):
    kpi_snapshot_take(day=SNAPSHOT_DAY)
    # 营销部 owns activities in every application, the 35 kV one included. The late one's
    # days were caused by the customer's construction and 运维检修部's inspection, not by
    # 营销部: both finished ones are on time for it.
    assert figures(department="marketing") == {
        "active": 3,
        "finished": 2,
        "on_time": 2,
        "average_cycle_days": Decimal("55.50"),
        "average_utility_days": Decimal("23.00"),
        "deviations_red": 0,
        "deviations_amber": 1,
        "deviations_info": 1,
        "limits_exceeded": 2,
    }
    assert figures(department="planning")["deviations_red"] == 1
    # 运维检修部 caused four of the late one's days (see the assessment's page tests).
    assert figures(department="operations")["finished"] == 2
    assert figures(department="operations")["on_time"] == 1
    # 调控中心 owns work only in the 35 kV template.
    assert figures(department="dispatch") == {
        "active": 1,
        "finished": 0,
        "on_time": 0,
        "average_cycle_days": None,
        "average_utility_days": None,
        "deviations_red": 0,
        "deviations_amber": 0,
        "deviations_info": 0,
        "limits_exceeded": 0,
    }


def test_a_manager_without_applications_gets_zeros_and_an_inactive_one_no_row(book):
    idle = AccountManagerProfileFactory(user__username="idle-t").user
    gone = AccountManagerProfileFactory(user__username="gone-t", is_active=False).user
    kpi_snapshot_take(day=SNAPSHOT_DAY)
    assert figures(manager=idle) == {
        "active": 0,
        "finished": 0,
        "on_time": 0,
        "average_cycle_days": None,
        "average_utility_days": None,
        "deviations_red": 0,
        "deviations_amber": 0,
        "deviations_info": 0,
        "limits_exceeded": 0,
    }
    assert not KpiSnapshot.objects.filter(manager=gone).exists()


def test_the_window_is_the_thirty_days_ending_on_the_snapshot_day(book):
    manager = book["manager"]
    # 14 May is the first day of the window ending 12 June, and outside the one ending 13 June.
    kpi_snapshot_take(day=date(2026, 6, 12))
    kpi_snapshot_take(day=date(2026, 6, 13))
    last_day_in = figures(day=date(2026, 6, 12), manager=manager)
    first_day_out = figures(day=date(2026, 6, 13), manager=manager)
    assert (last_day_in["finished"], last_day_in["on_time"]) == (2, 1)
    assert first_day_out["finished"] == 1
    assert first_day_out["on_time"] == 0
    assert first_day_out["average_cycle_days"] == Decimal("60.00")
    assert first_day_out["average_utility_days"] == Decimal("25.00")
    assert first_day_out["limits_exceeded"] == 2


def test_taking_the_snapshot_twice_the_same_day_updates_the_rows(book):
    kpi_snapshot_take(day=SNAPSHOT_DAY)
    first = list(KpiSnapshot.objects.order_by("pk").values("pk", *FIGURES))
    assert kpi_snapshot_take(day=SNAPSHOT_DAY) == len(first)
    assert list(KpiSnapshot.objects.order_by("pk").values("pk", *FIGURES)) == first

    Deviation.objects.filter(severity="red").update(status="resolved")
    kpi_snapshot_take(day=SNAPSHOT_DAY)
    assert KpiSnapshot.objects.count() == len(first)
    assert figures(manager=book["manager"])["deviations_red"] == 0


def test_the_task_takes_the_snapshot_of_the_day_it_is_given(book):
    assert snapshot_kpis.apply(args=["2026-05-29"]).get() == KpiSnapshot.objects.count()
    assert figures(manager=book["manager"])["finished"] == 2


def test_the_queries_do_not_grow_with_the_applications(book, supervisor):
    def queries(day):
        with CaptureQueriesContext(connection) as captured:
            kpi_snapshot_take(day=day)
        return len(captured)

    before = queries(SNAPSHOT_DAY)
    for _ in range(3):
        make_application(by=supervisor, manager=book["manager"], accepted_on=DAY0)
    after = queries(SNAPSHOT_DAY + timedelta(days=1))
    assert after == before
    assert figures(day=SNAPSHOT_DAY + timedelta(days=1), manager=book["manager"])["active"] == 5


def test_the_clocks_in_bulk_read_as_the_clocks_of_one_application(book):
    applications = list(Application.objects.all())
    bulk = application_time_limits_many([a.pk for a in applications], today=SNAPSHOT_DAY)
    for application in applications:
        one = selectors.application_time_limits(application, today=SNAPSHOT_DAY)
        assert bulk[application.pk] == one, application.number


def test_the_trend_of_a_manager_oldest_first(book):
    manager = book["manager"]
    for day in (date(2026, 5, 27), date(2026, 5, 28), SNAPSHOT_DAY):
        kpi_snapshot_take(day=day)
    trend = kpi_trend(scope="manager", key=manager.pk, days=2, today=SNAPSHOT_DAY)
    assert [(row.day, row.finished) for row in trend] == [
        (date(2026, 5, 28), 2),
        (SNAPSHOT_DAY, 2),
    ]
    marketing = Department.objects.get(code="marketing")
    assert len(kpi_trend(scope="department", key=marketing.pk, today=SNAPSHOT_DAY)) == 3
    with pytest.raises(InvalidInput) as exc:
        kpi_trend(scope="region", key=1)
    assert list(exc.value.errors) == ["scope"]


@on_days_of_note
def test_the_nightly_snapshot_is_of_the_day_in_shanghai(supervisor, manager, now):
    # Energized now, 29 days ago (the window's first day) and 30 days ago (just outside).
    for days_ago in (0, 29, 30):
        application = make_application(by=supervisor, manager=manager, accepted_on=date(2026, 9, 1))
        Application.objects.filter(pk=application.pk).update(
            state="energized", energized_at=now - timedelta(days=days_ago)
        )
    assert snapshot_kpis.apply().get() == KpiSnapshot.objects.count()
    assert set(KpiSnapshot.objects.values_list("day", flat=True)) == {now.date()}
    assert figures(day=now.date(), manager=manager)["finished"] == 2


def test_the_monthly_trend_reads_each_months_last_night_of_nightly_snapshots(
    django_assert_max_num_queries,
):
    """A year of nightly snapshots is read as one day per month: the last night each
    month has (a missed month end counts the night before), in two queries."""
    managers = [AccountManagerProfileFactory().user for _ in range(2)]
    day, nights = date(2026, 3, 1), []
    while day <= date(2026, 5, 20):
        if day != date(2026, 4, 30):  # the snapshot of April's last night did not run
            nights.append(day)
        day += timedelta(days=1)
    KpiSnapshot.objects.bulk_create(
        KpiSnapshot(
            day=night,
            scope="manager",
            manager=manager,
            active=10,
            finished=night.day + index,
            on_time=0,
            average_cycle_days=Decimal(20 + index * 10),
            average_utility_days=None,
            deviations_red=0,
            deviations_amber=0,
            deviations_info=0,
            limits_exceeded=0,
        )
        for night in nights
        for index, manager in enumerate(managers)
    )

    with django_assert_max_num_queries(2) as captured:
        trend = kpi_monthly_trend(months=12, today=date(2026, 5, 20))
    # The snapshots read: each manager's of three nights, not of 80.
    with connection.cursor() as cursor:
        cursor.execute(captured.captured_queries[-1]["sql"])
        assert len(cursor.fetchall()) == 2 * 3

    assert [(m.month, m.finished, m.average_cycle_days) for m in trend] == [
        # 31 + 32 energized; (31 × 20 + 32 × 30) / 63
        (date(2026, 3, 1), 63, Decimal("25.08")),
        (date(2026, 4, 1), 59, Decimal("25.08")),
        (date(2026, 5, 1), 41, Decimal("25.12")),
    ]
