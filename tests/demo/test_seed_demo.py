"""`manage.py seed_demo --applications N`: a realistic, reproducible demo history."""

import io
import os
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from accounts.models import AccountManagerProfile, User
from applications import services
from applications.credit_code import validate_credit_code
from applications.models import (
    STAGE_ORDER,
    WORK_STATES,
    Application,
    ApplicationSequence,
    ApplicationState,
    StageTransition,
)
from applications.sweep import application_reanalyse
from scheduling import selectors as schedule_selectors
from scheduling.models import Activity, ActivityEvent, Baseline
from scheduling.services import FORECAST_FIELDS
from yekuo.domain import BusinessType

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 6, 17)  # a Wednesday
KINDS = {
    ("lv_non_residential", "0.4kV"),
    *(("hv_single", v) for v in ("10kV", "35kV", "110kV", "220kV")),
    *(("hv_dual", v) for v in ("10kV", "35kV", "110kV", "220kV")),
}


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def seed_60(seed_value: int = 7) -> str:
    return seed("--applications", "60", "--seed", str(seed_value), "--today", TODAY.isoformat())


@pytest.fixture
def seeded():
    return seed_60()


def dump() -> list:
    """Return the demo data in a canonical form: everything but keys and their order."""
    rows = []
    applications = Application.objects.select_related("customer", "account_manager").order_by(
        "number"
    )
    for application in applications.prefetch_related("activities", "transitions"):
        rows.append(
            (
                application.number,
                application.customer.credit_code,
                application.customer.name,
                application.state,
                application.account_manager.username if application.account_manager else None,
                application.start_date,
                application.forecast_finish_date,
                application.total_float,
                [
                    (a.code, a.actual_start, a.actual_finish, a.forecast_finish)
                    for a in application.activities.all()
                ],
                [
                    (t.transition, t.from_state, t.to_state, t.at)
                    for t in application.transitions.all()
                ],
            )
        )
    return rows


def test_every_state_customer_class_and_voltage_class_appears(seeded):
    assert "applications: 60/60" in seeded
    applications = Application.objects.all()

    assert applications.count() == 60
    assert {a.state for a in applications} == set(ApplicationState.values)
    assert {(a.customer_class, a.voltage_class) for a in applications} == KINDS
    assert {a.business_type for a in applications} == set(BusinessType.values)
    assert all(
        a.supply_type == ("dual" if a.customer_class == "hv_dual" else "single")
        for a in applications
    )


def test_customers_have_valid_unique_credit_codes_and_look_real(seeded):
    applications = list(Application.objects.select_related("customer"))
    codes = [a.customer.credit_code for a in applications]

    for code in codes:
        validate_credit_code(code)
    assert len(set(codes)) == len(codes)
    for application in applications:
        customer = application.customer
        assert customer.name.endswith("公司"), customer.name
        assert customer.industry and customer.address.startswith("浙江省")
        assert customer.contact_name and customer.contact_phone
        assert customer.region_id == application.region_id


def test_progress_follows_the_network_and_nothing_is_after_today(seeded):
    calendar = schedule_selectors.working_calendar()
    for application in Application.objects.prefetch_related("activities", "transitions"):
        activities = list(application.activities.all())
        by_code = {a.code: a for a in activities if a.code}
        network = schedule_selectors.compile_activities(activities)
        for activity in activities:
            for day in (activity.actual_start, activity.actual_finish):
                if day is not None:
                    assert application.start_date <= day <= TODAY
                    assert calendar.is_working_day(day)
            if activity.actual_finish is not None:
                assert activity.actual_start <= activity.actual_finish
            if activity.actual_start is None:
                continue
            for link in network.predecessors(activity.code):
                before = by_code[link.id]
                assert before.actual_finish is not None, (application.number, activity.code)
                assert before.actual_finish <= activity.actual_start
        for row in application.transitions.all():
            assert timezone.localdate(row.at) <= TODAY


def test_progress_is_recorded_only_while_the_application_is_worked_on(seeded):
    log = {}
    for row in StageTransition.objects.order_by("at", "id"):
        log.setdefault(row.application_id, []).append(row)
    events = ActivityEvent.objects.select_related("activity")

    assert events.exists()
    for event in events:
        state_then = [
            row.to_state for row in log[event.activity.application_id] if row.at <= event.at
        ][-1]
        assert state_then in WORK_STATES


def test_each_log_reads_as_one_chain_ending_in_the_state(seeded):
    for application in Application.objects.prefetch_related("transitions"):
        rows = list(application.transitions.order_by("at", "id"))

        assert (rows[0].transition, rows[0].from_state, rows[0].to_state) == (
            "create",
            "",
            "consultation",
        )
        for before, row in zip(rows, rows[1:], strict=False):
            assert row.from_state == before.to_state, application.number
            assert row.at >= before.at
        assert rows[-1].to_state == application.state
        state = application.state
        assert (application.energized_at is not None) == (state in ("energized", "closed"))
        assert (application.closed_at is not None) == (state == "closed")
        if state == "closed":
            review = application.review
            scores = [review.quality, review.safety, review.efficiency, review.satisfaction]
            assert all(1 <= score <= 5 for score in scores)
        if state == "cancelled":
            assert application.cancel_reason and application.cancelled_at
            assert rows[-1].note == application.cancel_reason
        if state == "suspended":
            assert application.suspended_from in WORK_STATES
            assert (rows[-1].transition, rows[-1].from_state) == (
                "suspend",
                application.suspended_from,
            )
        else:
            assert application.suspended_from == ""
        for row in rows:
            if row.transition in ("suspend", "cancel"):
                assert row.note


def test_every_stage_move_passed_the_stage_machines_own_guards(seeded):
    """Replay each move against the guards with the activities finished by that day."""
    for application in Application.objects.prefetch_related("activities", "transitions"):
        activities = list(application.activities.all())
        for row in application.transitions.all():
            if row.transition in ("create", "suspend", "resume", "cancel", "close"):
                continue
            day = timezone.localdate(row.at)
            then = [
                SimpleNamespace(
                    code=a.code,
                    name=a.name,
                    stage=a.stage,
                    is_dummy=a.is_dummy,
                    milestone=a.milestone,
                    actual_finish=a.actual_finish
                    if a.actual_finish and a.actual_finish <= day
                    else None,
                )
                for a in activities
            ]
            as_then = SimpleNamespace(
                state=row.from_state,
                activities=SimpleNamespace(all=lambda then=then: then),
                document_checklist=[],
            )
            transition = next(
                t
                for t in Application(state=row.from_state).get_all_state_transitions()
                if t.name == row.transition
            )
            refusals = [c.refusal(as_then) for c in transition.conditions]
            assert not any(refusals), (application.number, row.transition, refusals)
        if application.state in WORK_STATES:
            earlier = STAGE_ORDER[: STAGE_ORDER.index(application.state)]
            assert all(a.actual_finish for a in activities if a.stage in earlier)
        if application.state in ("energized", "closed"):
            assert all(a.actual_finish for a in activities if not a.is_dummy)


def test_the_stored_forecast_and_readiness_are_what_reforecasting_gives(seeded):
    # Every column the services store with a forecast, readiness included.
    fields = ("code", *FORECAST_FIELDS)
    working = Application.objects.filter(state__in=WORK_STATES).prefetch_related("activities")

    assert working.exists()
    for application in working:
        stored = (
            application.forecast_finish_date,
            application.total_float,
            sorted(
                tuple(getattr(a, name) for name in fields)
                for a in application.activities.all()
                if not a.is_dummy
            ),
        )
        # Forget the stored fingerprint, so that the analysis computes it all again.
        Application.objects.filter(pk=application.pk).update(sweep_fingerprint="")
        application_reanalyse(
            application_id=application.pk,
            now=datetime.combine(TODAY, time(12), tzinfo=ZoneInfo("Asia/Shanghai")),
        )
        application.refresh_from_db()
        recomputed = (
            application.forecast_finish_date,
            application.total_float,
            sorted(
                Activity.objects.filter(application=application, is_dummy=False).values_list(
                    *fields
                )
            ),
        )
        assert stored == recomputed, application.number


def test_the_baseline_and_numbers_are_those_application_create_gives(seeded):
    seeded_application = Application.objects.filter(customer_class="hv_single").first()
    supervisor = User.objects.get(username="supervisor")
    year = seeded_application.start_date.year
    last = max(
        int(number.rsplit("-", 1)[1])
        for number in Application.objects.filter(number__startswith=f"YK-{year}-").values_list(
            "number", flat=True
        )
    )
    assert ApplicationSequence.objects.get(year=year).last_number == last
    for application in Application.objects.select_related("customer"):
        # Compared by the database, which compares stored values, not instants.
        assert application.baselines.filter(version=1, created_at=application.accepted_at).exists()
        assert application.baselines.count() == 1
        assert application.customer.created_at == application.accepted_at
        assert application.created_at == application.accepted_at
        assert application.updated_at >= application.accepted_at

    created = services.application_create(
        customer=seeded_application.customer,
        business_type=seeded_application.business_type,
        customer_class=seeded_application.customer_class,
        voltage_class=seeded_application.voltage_class,
        requested_capacity_kva=seeded_application.requested_capacity_kva,
        accepted_on=seeded_application.start_date,
        by=supervisor,
    )

    assert created.number == f"YK-{year}-{last + 1:06d}"
    assert created.committed_duration == seeded_application.committed_duration
    assert created.committed_finish_date == seeded_application.committed_finish_date
    mine, theirs = (
        Baseline.objects.get(application=a, version=1) for a in (seeded_application, created)
    )
    assert (mine.duration, mine.planned_duration, mine.network, mine.schedule) == (
        theirs.duration,
        theirs.planned_duration,
        theirs.network,
        theirs.schedule,
    )
    fields = ("code", "baseline_es", "baseline_ef", "baseline_tf", "baseline_ff")
    dated = (*fields, "baseline_start", "baseline_finish")
    assert list(seeded_application.activities.values_list(*dated)) == list(
        created.activities.values_list(*dated)
    )


def test_managers_serve_the_region_and_voltage_and_a_few_are_left_unassigned():
    seed("--applications", "200", "--seed", "3", "--today", TODAY.isoformat())
    profiles = {p.user_id: p for p in AccountManagerProfile.objects.prefetch_related("regions")}

    unassigned = Application.objects.filter(account_manager__isnull=True)
    assert 0 < unassigned.count() <= 10
    assert set(unassigned.values_list("state", flat=True)) == {"consultation"}
    for application in Application.objects.exclude(account_manager__isnull=True):
        profile = profiles[application.account_manager_id]
        assert application.voltage_class in profile.voltage_classes
        serving = [
            p
            for p in profiles.values()
            if application.voltage_class in p.voltage_classes
            and application.region in p.regions.all()
        ]
        if serving:
            assert profile in serving


def test_the_same_seed_and_day_give_the_same_data_and_another_seed_does_not():
    with transaction.atomic():
        seed_60(7)
        first = dump()
        transaction.set_rollback(True)
    with transaction.atomic():
        seed_60(8)
        other = dump()
        transaction.set_rollback(True)
    assert not Application.objects.exists()

    seed_60(7)

    assert dump() == first
    assert len(first) == 60
    assert {row[1] for row in other}.isdisjoint({row[1] for row in first})
    assert [row[8] for row in other] != [row[8] for row in first]


def test_each_run_adds_more_applications_but_once_adds_nothing(capsys):
    seed("--applications", "5", "--today", TODAY.isoformat())
    seed("--applications", "5", "--today", TODAY.isoformat())

    assert Application.objects.count() == 10
    assert len(set(Application.objects.values_list("number", flat=True))) == 10

    out = seed("--once", "--applications", "5", "--today", TODAY.isoformat())

    assert "already loaded" in out
    assert Application.objects.count() == 10


@pytest.mark.parametrize("value", ["-1", "ten", "2.5"])
def test_a_bad_count_is_refused_with_status_2(value):
    with pytest.raises(CommandError) as caught:
        call_command("seed_demo", "--applications", value)

    assert caught.value.returncode == 2
    assert "--applications" in str(caught.value)
    assert not User.objects.exists()


def test_a_bad_count_through_call_command_keywords_is_refused_too():
    with pytest.raises(CommandError) as caught:
        call_command("seed_demo", applications=-3)

    assert caught.value.returncode == 2


def refused_seed_demo(tmp_path, *arguments) -> str:
    """Run seed_demo as a process on an empty embedded database; assert it exits 2 with
    one line on stderr and return that line."""
    env = {**os.environ, "YEKUO_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_process_given_a_bad_count_exits_2_with_one_line(tmp_path):
    line = refused_seed_demo(tmp_path, "--applications", "-5")
    assert "--applications" in line and "-5" in line


def test_the_office_has_room_for_new_work_with_one_manager_over_capacity(seeded):
    from applications.assignment import account_manager_assign_waiting, account_manager_loads

    loads = {row.profile.user.username: row.load / row.capacity for row in account_manager_loads()}
    assert len(loads) == 5
    over = sorted(name for name, share in loads.items() if share > 1)
    near = sorted(name for name, share in loads.items() if 0.9 <= share <= 1)
    assert over == ["manager4"]
    assert near == ["manager2"]
    # The applications that arrived without a manager mostly find one.
    waiting = Application.objects.filter(account_manager=None, state__in=WORK_STATES).count()
    assert waiting > 0
    result = account_manager_assign_waiting()
    assert result["assigned"] >= 0.6 * waiting


@pytest.mark.parametrize("value", ["0001-01-01", "1900-01-01"])
def test_an_implausible_today_is_refused_with_status_2(value):
    with pytest.raises(CommandError) as caught:
        call_command("seed_demo", "--applications", "1", "--today", value)

    assert caught.value.returncode == 2
    assert "--today" in str(caught.value) and value in str(caught.value)
    assert not User.objects.exists()


def test_an_implausible_today_through_call_command_keywords_is_refused_too():
    with pytest.raises(CommandError) as caught:
        call_command("seed_demo", applications=1, today=date(1900, 1, 1))

    assert caught.value.returncode == 2
    assert "1900-01-01 is outside the plausible dates" in str(caught.value)
    assert not User.objects.exists()


def test_a_process_given_an_implausible_today_exits_2_with_one_line(tmp_path):
    line = refused_seed_demo(tmp_path, "--today", "0001-01-01")
    assert "--today" in line and "0001-01-01 is outside the plausible dates" in line
