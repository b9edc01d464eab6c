"""The deviation sweep: deviations upserted once, proposals stored, people told once."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.utils.translation import override

from accounts.models import Notification
from accounts.roles import Role
from applications import services
from applications import sweep as analysis
from applications.models import WORK_STATES, Application
from applications.sweep import read
from applications.sweep.fingerprint import fingerprint as fingerprint_of
from scheduling import selectors as schedule_selectors
from scheduling import services as schedule_services
from scheduling.models import Activity, Deviation, Proposal
from tests.conftest import need_service
from tests.dates import day_of_note, pin_today, pinned
from tests.factories import RegionFactory, UserFactory, make_application
from yekuo.errors import InvalidInput, NotPermitted, TransitionNotAllowed

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db, pin_today]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)  # a Monday


# The deviations here are found at 18:00 on day 0, and accepting a proposal analyses its
# application as of the moment it is accepted: the tests that accept run on that evening.
on_the_evening_of_day0 = pinned(datetime.combine(DAY0, time(18, 30), tzinfo=SHANGHAI))


def at(day: date) -> datetime:
    return datetime.combine(day, time(18), tzinfo=SHANGHAI)


def sweep(application, day):
    return analysis.deviation_sweep_batch(application_ids=[application.pk], now=at(day))


def activity(application, code) -> Activity:
    return Activity.objects.get(application=application, code=code)


@pytest.fixture
def application(supervisor, manager):
    return make_application(by=supervisor, manager=manager, accepted_on=DAY0)


@pytest.fixture
def marketing_staff():
    return UserFactory(username="yx-staff", role=Role.DEPARTMENT_STAFF, department_code="marketing")


def _late_start(application, manager, remaining=3):
    a = activity(application, "A")
    services.activity_progress_record(activity_id=a.pk, start=DAY0, by=manager, today=DAY0)
    services.activity_progress_record(activity_id=a.pk, remaining=remaining, by=manager, today=DAY0)
    return a


def test_a_late_critical_activity_opens_one_red_deviation_at_once(
    application, manager, supervisor, marketing_staff
):
    # Recorded by a manager who reads English: what is stored as text is still Chinese.
    with override("en"):
        a = _late_start(application, manager)

    row = Deviation.objects.get()
    # A (1 day, critical) needs 3 more days from the end of day 0: it finishes on day 4
    # instead of day 1. Tp = Tc + 1, so the commitment leaves 1 day of float.
    assert (row.activity, row.delay, row.total_float, row.free_float) == (a, 3, 1, 0)
    assert (row.critical, row.total_slip, row.successor_slip, row.commitment_overrun) == (
        True,
        3,
        3,
        2,
    )
    assert (row.severity, row.status, row.department.code) == ("red", "open", "marketing")
    said = (
        "办理需求手续拖延3个工作日，是关键工作，紧后工作最早开始推迟3个工作日，"
        "计算工期推迟3个工作日，超出计划工期2个工作日"
    )
    assert str(row) == said
    with override("en"):
        assert str(row).endswith(
            "the computed duration slips by 3 working days, 2 working days beyond the planned "
            "duration."
        )
    texts = set(Notification.objects.filter(kind="deviation_red").values_list("text", flat=True))
    assert texts == {f"{application.number} {application.customer.name}：{said}"}
    # The sweep that follows finds what the progress entry found: nothing to change.
    stats = sweep(application, DAY0)
    assert (stats.unchanged, stats.opened, stats.updated, stats.notifications) == (1, {}, 0, 0)
    notified = set(
        Notification.objects.filter(kind="deviation_red").values_list(
            "recipient__username", "by_mail"
        )
    )
    # The manager by mail too, the department that holds the work in the application only;
    # the supervisors read it in their digest.
    assert notified == {(manager.username, True), (marketing_staff.username, False)}
    proposals = list(Proposal.objects.filter(deviation=row).values_list("kind", "days_recovered"))
    # Cutting the later critical work to its shortest durations wins back 6 days.
    assert proposals[0] == ("shorten", 6)
    assert ("escalate", None) in proposals


def test_the_batch_task_sweeps_as_of_the_moment_it_is_given(application):
    from applications.tasks import sweep_batch

    # Nobody has started A (1 day, critical) by the end of Friday 6 March: it can start on
    # Monday 9 March, day 5, and finish 5 working days after its baseline finish.
    friday = date(2026, 3, 6)
    result = sweep_batch([application.pk], as_of=at(friday).isoformat())

    assert (result["applications"], result["opened"]) == (1, {"red": 1})
    row = Deviation.objects.get()
    assert (row.activity.code, row.detected_at, row.delay) == ("A", at(friday), 5)


def _rows():
    return (
        list(Deviation.objects.values_list("pk", "delay", "severity", "status")),
        Notification.objects.count(),
        Proposal.objects.filter(status="proposed").count(),
    )


def test_sweeping_twice_changes_nothing_and_notifies_once(application, manager):
    _late_start(application, manager)
    sweep(application, DAY0)
    before = _rows()
    stats = sweep(application, DAY0)
    assert _rows() == before
    assert (stats.opened, stats.updated, stats.notifications) == ({}, 0, 0)
    # Computed again from scratch (as after a lost commit), still the same rows.
    Application.objects.filter(pk=application.pk).update(sweep_fingerprint="")
    stats = sweep(application, DAY0)
    assert stats.unchanged == 0
    assert _rows() == before
    assert (stats.opened, stats.updated, stats.notifications) == ({}, 0, 0)


def test_the_sweep_skips_what_has_not_changed_since_the_last(
    application, manager, admin_user, django_capture_on_commit_callbacks
):
    _late_start(application, manager)
    # The progress entry analysed the application: the sweep of the same day skips it.
    first = sweep(application, DAY0)
    assert (first.applications, first.unchanged) == (1, 1)
    assert Deviation.objects.get().status == "open"  # skipped is not resolved
    # Forgotten fingerprint (as after a lost commit): computed again.
    Application.objects.filter(pk=application.pk).update(sweep_fingerprint="")
    assert sweep(application, DAY0).unchanged == 0
    assert sweep(application, DAY0).unchanged == 1
    # The next day moves the as-of point: computed again.
    next_day = sweep(application, date(2026, 3, 3))
    assert next_day.unchanged == 0
    assert sweep(application, date(2026, 3, 3)).unchanged == 1
    # A calendar change: computed again, with the forecast moved by the day off.
    finish = Application.objects.get(pk=application.pk).forecast_finish_date
    with django_capture_on_commit_callbacks(execute=True):
        schedule_services.calendar_override_set(
            day=date(2026, 3, 4), is_working=False, by=admin_user
        )
    after_calendar = sweep(application, date(2026, 3, 3))
    assert after_calendar.unchanged == 0
    assert Application.objects.get(pk=application.pk).forecast_finish_date > finish


def test_the_deviation_resolves_itself_when_the_delay_disappears(application, manager):
    a = _late_start(application, manager)
    noon = datetime.combine(DAY0, time(12), tzinfo=SHANGHAI)
    services.activity_progress_record(activity_id=a.pk, remaining=0, by=manager, now=noon)
    row = Deviation.objects.get()
    assert (row.status, row.resolved_at) == ("resolved", noon)
    assert not Proposal.objects.filter(status="proposed").exists()
    assert sweep(application, DAY0).resolved == {}


def test_a_delay_absorbed_by_free_float_is_info(supervisor, manager):
    lv = make_application(
        by=supervisor,
        manager=manager,
        customer_class="lv_non_residential",
        voltage_class="0.4kV",
        accepted_on=DAY0,
    )
    day = DAY0
    for code in "ABC":
        a = activity(lv, code)
        services.activity_progress_record(activity_id=a.pk, start=day, by=manager, today=day)
        services.activity_progress_record(activity_id=a.pk, finish=day, by=manager, today=day)
        day = date(2026, 3, day.day + 1)
    today = date(2026, 3, 5)
    for code in "DE":
        services.activity_progress_record(
            activity_id=activity(lv, code).pk, start=today, by=manager, today=today
        )
    # The meter box (2 days, 3 days of float beside the customer's 5-day works) needs 4 more.
    services.activity_progress_record(
        activity_id=activity(lv, "E").pk, remaining=4, by=manager, today=today
    )
    # (Started with D, E was one day late for a moment, until its own start was recorded.)
    row = Deviation.objects.exclude(status="resolved").get()
    assert (row.activity.code, row.delay, row.total_float, row.free_float, row.severity) == (
        "E",
        3,
        5,
        3,
        "info",
    )
    assert not Notification.objects.filter(kind="deviation_red").exists()
    assert not Proposal.objects.exists()


def test_a_time_limit_warning_and_alarm_are_each_notified_once(application, manager, supervisor):
    # The plan-reply clock (15 working days) keeps running while A stays open.
    a = activity(application, "A")
    services.activity_progress_record(activity_id=a.pk, start=DAY0, by=manager, today=DAY0)
    sweep(application, date(2026, 3, 16))
    application.refresh_from_db()
    assert application.time_limit_status == "ok"
    # 2-17 March is 12 working days: 80 % of the limit.
    sweep(application, date(2026, 3, 17))
    sweep(application, date(2026, 3, 17))
    application.refresh_from_db()
    assert (application.time_limit_status, application.time_limit_clock) == (
        "warning",
        "plan_reply",
    )
    assert application.time_limit_text == "供电方案答复时限已用去 80%"
    warnings = Notification.objects.filter(kind="limit_warning")
    assert [(n.recipient, n.dedupe_key) for n in warnings] == [
        (manager, f"limit:{application.pk}:plan_reply:warning")
    ]
    assert warnings.get().text.endswith("已用 12 / 15 个工作日。")
    sweep(application, date(2026, 3, 23))
    sweep(application, date(2026, 3, 24))
    # The account manager answers for the limit: told in the application and by mail;
    # the supervisors read it in their morning digest.
    alarms = Notification.objects.filter(kind="limit_exceeded")
    assert [(n.recipient.username, n.by_mail) for n in alarms] == [(manager.username, True)]
    application.refresh_from_db()
    assert application.time_limit_status == "exceeded"
    assert application.time_limit_text == "供电方案答复时限已超期"
    assert Notification.objects.filter(kind="limit_warning").count() == 1


@pytest.mark.parametrize(
    ("now", "started"),
    [
        day_of_note("year-end", date(2026, 12, 16)),
        day_of_note("new-year", date(2026, 12, 16)),  # 1 January is a day off
        day_of_note("spring-festival", date(2027, 1, 20)),  # 5-10 February are off
        day_of_note("month-first", date(2027, 2, 12)),
        day_of_note("month-last", date(2027, 3, 16)),
    ],
)
def test_the_sweep_reads_the_clocks_up_to_today_in_shanghai(supervisor, manager, now, started):
    # A has run from ``started``: 12 working days up to today of the plan-reply clock's 15.
    application = make_application(by=supervisor, manager=manager, accepted_on=started)
    a = activity(application, "A")
    services.activity_progress_record(activity_id=a.pk, start=started, by=manager)
    analysis.deviation_sweep()  # as beat sends it: as of now
    application.refresh_from_db()
    assert application.time_limit_status == "warning"
    assert Notification.objects.get(kind="limit_warning").text.endswith("已用 12 / 15 个工作日。")


@pytest.mark.parametrize(
    ("now", "first_day", "finish"),
    [
        day_of_note("year-end", date(2027, 1, 4), date(2027, 1, 14)),
        day_of_note("new-year", date(2027, 1, 4), date(2027, 1, 14)),
        day_of_note("spring-festival", date(2027, 2, 11), date(2027, 2, 23)),
        day_of_note("month-first", date(2027, 3, 2), date(2027, 3, 12)),
        day_of_note("month-last", date(2027, 4, 1), date(2027, 4, 14)),  # 5 April is off
    ],
)
def test_the_sweep_forecasts_work_not_started_from_the_next_working_day(
    supervisor, manager, now, first_day, finish
):
    # Nothing started of a low-voltage plan of 9 working days accepted in December 2026.
    lv = make_application(
        by=supervisor,
        manager=manager,
        customer_class="lv_non_residential",
        voltage_class="0.4kV",
        accepted_on=date(2026, 12, 1),
    )
    analysis.deviation_sweep()
    assert activity(lv, "A").forecast_start == first_day
    assert Application.objects.get(pk=lv.pk).forecast_finish_date == finish


def test_the_sweep_is_batched_region_by_region(supervisor, manager):
    north, south = RegionFactory(code="north"), RegionFactory(code="south")
    # Created alternately: in id order the regions interleave.
    made = [
        make_application(by=supervisor, manager=manager, accepted_on=DAY0, region=region)
        for region in (north, south, north, south, north)
    ]
    ids = {region: [a.pk for a in made if a.region_id == region.pk] for region in (north, south)}

    batches = analysis.sweep_batches(batch_size=2)

    # Each region's applications in batches of their own, in id order; north first (its
    # key is the smaller).
    assert batches == [ids[north][:2], ids[north][2:], ids[south]]
    assert analysis.deviation_sweep(now=at(DAY0), batch_size=2).applications == 5


@pytest.mark.parametrize("count", [10, 200])
def test_a_batch_costs_the_same_number_of_queries_whatever_its_size(
    count, django_assert_max_num_queries
):
    # SQLite splits a bulk insert by its bound-parameter limit; PostgreSQL, the production
    # database, sends each write in a fixed number of statements (a COPY, and for updates
    # and skipped conflicts the temporary table around it), which is what this pins.
    need_service("PostgreSQL", connection.vendor == "postgresql", "bulk writes in fixed statements")
    call_command("seed_demo", applications=count, seed=7, today=date(2026, 11, 25), verbosity=0)
    ids = list(Application.objects.filter(state__in=WORK_STATES).values_list("pk", flat=True))
    assert ids
    now = at(date(2026, 11, 25))
    # The first run, at most: the savepoint and its release; the applications, their
    # activities, the time limits, the learned durations of their templates, the open
    # deviations and proposals (6); the dashboard's
    # counters read before and after the writes and one upsert per counter table (7: the
    # deviation counts and their totals, the applications' counts); the
    # forecasts (3), the risk forecasts (3: staging table, COPY, upsert), the new
    # deviations' keys and COPY, the proposals' COPY; the joint
    # departments and their staff (the staff only when a red deviation has any); twice a
    # notification write (keys, staging table, COPY, insert) around the time-limit
    # readings and the sent keys; the webhook subscriptions that want the deviations
    # found (none here: no event stored); the applications' update (3).
    first = 40
    with django_assert_max_num_queries(first):
        analysis.deviation_sweep_batch(application_ids=ids, now=now)
    # The second run finds every fingerprint unchanged: only the reads that tell it so
    # (the learned durations among them: their revision is part of the fingerprint).
    with django_assert_max_num_queries(8):
        analysis.deviation_sweep_batch(application_ids=ids, now=now)


def test_the_tables_the_sweep_rewrites_leave_room_for_updates_in_place():
    need_service("PostgreSQL", connection.vendor == "postgresql", "a storage parameter")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s) ORDER BY relname",
            [[Application._meta.db_table, Activity._meta.db_table]],
        )
        assert cursor.fetchall() == [
            ("applications_application", ["fillfactor=70"]),
            ("scheduling_activity", ["fillfactor=70"]),
        ]


def test_scan_deviations_prints_its_summary(application, capsys):
    # Nobody has started A by the end of Friday 6 March: one red deviation.
    with time_machine.travel(at(date(2026, 3, 6)), tick=False):
        call_command("scan_deviations")
    out = capsys.readouterr().out
    assert "applications scanned: 1" in out
    assert "deviations opened: red 1, amber 0, info 0" in out
    assert "elapsed:" in out


def _red_deviation(application, manager):
    _late_start(application, manager)
    sweep(application, DAY0)
    return Deviation.objects.get()


@on_the_evening_of_day0
def test_accepting_a_shortening_re_plans_the_later_critical_work(application, manager, supervisor):
    from applications.services import proposal_accept

    row = _red_deviation(application, manager)
    shorten = row.proposals.filter(kind="shorten").first()
    with pytest.raises(NotPermitted):
        proposal_accept(proposal_id=shorten.pk, by=manager)
    proposal_accept(proposal_id=shorten.pk, by=supervisor)
    shorten.refresh_from_db()
    assert (shorten.status, shorten.decided_by) == ("accepted", supervisor)
    baseline = application.baselines.order_by("-version").first()
    assert baseline.version == 2 and baseline.reason.startswith("已采纳纠偏措施：")
    assert activity(application, "F").duration == 2  # cut to its shortest duration
    with pytest.raises(TransitionNotAllowed):
        proposal_accept(proposal_id=shorten.pk, by=supervisor)


@on_the_evening_of_day0
def test_accepting_a_parallel_run_redraws_the_arrow_network(application, manager, supervisor):
    from applications.services import proposal_accept

    row = _red_deviation(application, manager)
    parallel = {tuple(p.activities): p for p in row.proposals.filter(kind="parallel")}
    assert set(parallel) == {("D", "E"), ("L", "O")}
    proposal_accept(proposal_id=parallel["D", "E"].pk, by=supervisor)
    e = activity(application, "E")
    assert (e.tail, e.head) == (4, 6)  # from D's tail, beside D
    dummy = Activity.objects.get(application=application, is_dummy=True, tail=5)
    assert dummy.head == 6
    assert application.baselines.order_by("-version").first().duration == 50

    # L ends at event 14, where N and the completion inspection's dummy also arrive: the
    # event is split so that O still waits for N and M, and O's successor P for L.
    again = Proposal.objects.get(
        application=application, kind="parallel", activities=["L", "O"], status="proposed"
    )
    proposal_accept(proposal_id=again.pk, by=supervisor)
    activities = list(Activity.objects.filter(application=application))
    compiled = schedule_selectors.compiled_for(activities)
    assert {link.id for link in compiled.predecessors("O")} == {"K", "M", "N"}
    # P waits for L as well, and (as before, through O) for M and N.
    assert {link.id for link in compiled.predecessors("P")} == {"L", "M", "N", "O"}
    assert all(a.tail < a.head for a in activities)  # renumbered by Fulkerson's rule
    application.refresh_from_db()
    assert application.baselines.count() == 3
    assert application.forecast_finish_date == again.new_finish


def test_dismissing_needs_a_reason(application, manager):
    from applications.services import deviation_acknowledge, proposal_dismiss

    row = _red_deviation(application, manager)
    proposal = row.proposals.first()
    with pytest.raises(InvalidInput) as exc:
        proposal_dismiss(proposal_id=proposal.pk, reason=" ", by=manager)
    assert exc.value.errors == {"reason": ["请说明不采纳的理由。"]}
    proposal_dismiss(proposal_id=proposal.pk, reason="客户已承诺加快施工", by=manager)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.reason) == ("dismissed", "客户已承诺加快施工")
    deviation_acknowledge(
        deviation_id=row.pk,
        cause="other",
        planned_action="跟进客户施工",
        action_due=date(2026, 12, 31),
        by=manager,
    )
    row.refresh_from_db()
    assert (row.status, row.acknowledged_by) == ("acknowledged", manager)


def test_a_fingerprint_is_the_same_for_every_read_of_the_same_rows(application, manager):
    a = _late_start(application, manager)

    def fingerprint():
        with transaction.atomic():
            (swept,) = read.swept_applications([application.pk])
        rows = read.swept_activities([application.pk])[application.pk]
        return fingerprint_of(swept, rows, b"context", read.logic_key(rows))

    first = fingerprint()
    assert fingerprint() == first
    Activity.objects.filter(pk=a.pk).update(remaining=4)
    assert fingerprint() != first
    Activity.objects.filter(pk=a.pk).update(remaining=3)
    assert fingerprint() == first
    Activity.objects.filter(pk=a.pk).update(actual_start=date(2026, 3, 3))
    assert fingerprint() != first
