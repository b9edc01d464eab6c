"""The archive: finished rows leave the hot tables after ARCHIVE_AFTER_DAYS and stay readable.

Resolved deviations (with their proposals), superseded and dismissed proposals and read
notifications move to ``…_archive`` tables in batches; the assessment, the application
page and the API read the same history afterwards.
"""

import dataclasses
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ArchivedNotification, Notification, User
from accounts.services import notification_mark_read, notification_send
from applications import archiving, kpi, services, sweep
from applications.exports import assessment_csv
from applications.models import Application, ApplicationState
from scheduling import services as schedule_services
from scheduling.models import (
    ArchivedDeviation,
    ArchivedProposal,
    Deviation,
    DeviationCause,
    Proposal,
)
from tests.applications.conftest import DAY0, late_on_day0
from tests.factories import AccountManagerProfileFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
SEED_DAY = date(2026, 6, 17)  # a Wednesday
EVENING = datetime.combine(SEED_DAY, time(18), tzinfo=SHANGHAI)

pytestmark = pytest.mark.django_db


def _everything_before() -> datetime:
    """A cutoff after every row of these tests: all that is finished with is eligible."""
    return datetime.combine(SEED_DAY + timedelta(days=1), time.min, tzinfo=SHANGHAI)


def _finish_some_history(now: datetime) -> None:
    """Resolve half the deviations, supersede and dismiss proposals, read notifications."""
    deviations = list(Deviation.objects.order_by("pk").values_list("pk", flat=True))
    schedule_services.deviations_resolve(deviation_ids=deviations[::2], now=now)
    proposals = list(
        Proposal.objects.filter(status=Proposal.Status.PROPOSED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    schedule_services.proposals_supersede(proposal_ids=proposals[::3])
    managers = User.objects.filter(account_manager__isnull=False)
    notification_send(recipients=managers, kind="digest", text="Morning summary")
    for notification in Notification.objects.select_related("recipient")[::2]:
        notification_mark_read(
            notification_ids=[notification.pk], by=notification.recipient, now=now
        )


def _figures(result: kpi.Assessment) -> dict:
    rows = [*result.managers, *result.departments, result.customer]
    return {
        (row.scope, row.key): {
            **dataclasses.asdict(row),
            "on_time_rate": row.on_time_rate,
            "average_delay": row.average_delay,
            "scores": row.scores,
        }
        for row in rows
    }


def test_archiving_keeps_every_figure_of_the_assessment_unchanged():
    with time_machine.travel(EVENING, tick=False):
        call_command(
            "seed_demo",
            "--applications",
            "60",
            "--seed",
            "7",
            "--today",
            SEED_DAY.isoformat(),
            stdout=io.StringIO(),
        )
        sweep.deviation_sweep(now=EVENING)
        _finish_some_history(EVENING)
        period = {"start": date(2025, 6, 1), "end": SEED_DAY}
        before = kpi.assessment(**period)
        exported = assessment_csv(before)

        moved = archiving.archive_old_rows(before=_everything_before())

        after = kpi.assessment(**period)
    assert moved["deviations"] > 0 and moved["proposals"] > 0 and moved["notifications"] > 0
    assert sum(row.finished for row in before.managers) > 0  # figures worth comparing
    assert _figures(after) == _figures(before)
    assert assessment_csv(after) == exported


@pytest.fixture
def red_deviation(supervisor, manager, meetings_when_ready):
    """An application whose first activity is 3 days late: one open red deviation."""
    return Deviation.objects.get(application=late_on_day0(supervisor=supervisor, manager=manager))


@pytest.fixture
def other_manager(db):
    return AccountManagerProfileFactory(user__username="manager-south").user


def _resolve_and_archive(deviation) -> None:
    """Resolve ``deviation`` as the sweep does (its open proposals superseded), archive."""
    schedule_services.deviations_resolve(deviation_ids=[deviation.pk], now=EVENING)
    schedule_services.proposals_supersede(
        proposal_ids=list(deviation.proposals.values_list("pk", flat=True))
    )
    archiving.archive_old_rows(before=_everything_before())


def test_an_archived_deviation_moves_whole_with_its_proposals(red_deviation):
    proposals = set(red_deviation.proposals.values_list("pk", flat=True))
    assert proposals  # a red deviation comes with measures

    _resolve_and_archive(red_deviation)

    assert not Deviation.objects.filter(pk=red_deviation.pk).exists()
    archived = ArchivedDeviation.objects.get(pk=red_deviation.pk)
    assert archived.status == Deviation.Status.RESOLVED
    assert archived.delay == red_deviation.delay
    assert archived.detected_at == red_deviation.detected_at
    assert archived.resolved_at == EVENING
    assert not Proposal.objects.filter(deviation_id=red_deviation.pk).exists()
    moved = ArchivedProposal.objects.filter(deviation_id=red_deviation.pk)
    assert set(moved.values_list("pk", flat=True)) == proposals
    assert set(moved.values_list("status", flat=True)) == {Proposal.Status.SUPERSEDED}


def test_the_application_page_shows_an_archived_deviation_in_its_history(
    client, manager, red_deviation
):
    _resolve_and_archive(red_deviation)
    client.force_login(manager)

    with time_machine.travel(EVENING, tick=False):
        response = client.get(f"/applications/{red_deviation.application.number}/")

    assert response.status_code == 200
    history = response.context["page"].deviation_history
    assert [row.pk for row in history] == [red_deviation.pk]
    assert history[0].is_archived
    assert "deviation-history" in response.content.decode()
    assert str(red_deviation.delay) in response.content.decode()


def test_the_api_reads_an_archived_deviation_and_the_application_history(manager, red_deviation):
    from tests.api.conftest import token_client

    api = token_client(manager)
    proposals = sorted(red_deviation.proposals.values_list("pk", flat=True))
    _resolve_and_archive(red_deviation)

    detail = api.get(f"/api/v1/deviations/{red_deviation.pk}/")
    assert detail.status_code == 200
    body = detail.json()
    assert body["archived"] is True
    assert body["status"] == "resolved"
    assert body["delay"] == red_deviation.delay
    assert sorted(p["id"] for p in body["proposals"]) == proposals

    history = api.get(f"/api/v1/deviations/history/?application={red_deviation.application_id}")
    assert history.status_code == 200
    assert [(row["id"], row["archived"]) for row in history.json()] == [(red_deviation.pk, True)]
    # The id as the filter reads it ("12.0" is 12); anything else is refused by name.
    again = api.get(f"/api/v1/deviations/history/?application={red_deviation.application_id}.0")
    assert [row["id"] for row in again.json()] == [red_deviation.pk]
    refused = api.get("/api/v1/deviations/history/?application=twelve")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["application"]
    # The live list shows only what is in the hot table.
    live = api.get(f"/api/v1/deviations/?application={red_deviation.application_id}").json()
    assert live["results"] == []


def test_an_archived_deviation_stays_out_of_reach_of_those_who_may_not_read_it(
    other_manager, red_deviation
):
    from tests.api.conftest import token_client

    _resolve_and_archive(red_deviation)
    api = token_client(other_manager)
    assert api.get(f"/api/v1/deviations/{red_deviation.pk}/").status_code == 404
    history = api.get(f"/api/v1/deviations/history/?application={red_deviation.application_id}")
    assert history.status_code == 200 and history.json() == []


def test_nothing_live_is_archived(red_deviation, manager, supervisor):
    application = red_deviation.application
    unread = notification_send(
        recipients=[manager], kind="digest", text="unread", dedupe_key="unread-one"
    )[0]
    keyed = notification_send(
        recipients=[manager],
        kind="limit_warning",
        text="a live application's key",
        application=application,
        dedupe_key=f"limit:{application.pk}:whole:warning",
    )[0]
    notification_mark_read(notification_ids=[keyed.pk], by=manager, now=EVENING)
    open_proposals = set(
        Proposal.objects.filter(status=Proposal.Status.PROPOSED).values_list("pk", flat=True)
    )
    unresolved = Deviation.objects.exclude(status=Deviation.Status.RESOLVED).count()

    moved = archiving.archive_old_rows(before=_everything_before())

    assert moved == {
        "deviations": 0,
        "proposals": 0,
        "notifications": 0,
        "events": 0,
        "deliveries": 0,
    }
    assert Deviation.objects.exclude(status=Deviation.Status.RESOLVED).count() == unresolved == 1
    assert (
        set(Proposal.objects.filter(status=Proposal.Status.PROPOSED).values_list("pk", flat=True))
        == open_proposals
    )
    assert Notification.objects.filter(pk__in=[unread.pk, keyed.pk]).count() == 2
    # Once the application is finished with, its keys are no longer asked for.
    Application.objects.filter(pk=application.pk).update(state=ApplicationState.CANCELLED)
    moved = archiving.archive_old_rows(before=_everything_before())
    assert moved["notifications"] == 1
    assert ArchivedNotification.objects.get(pk=keyed.pk).dedupe_key == keyed.dedupe_key


def test_an_answered_deviation_stays_in_the_hot_table(red_deviation, manager):
    cause = DeviationCause.objects.filter(is_active=True).first()
    services.deviation_acknowledge(
        deviation_id=red_deviation.pk,
        by=manager,
        cause=cause.code,
        planned_action="Chase the survey team",
        action_due=DAY0 + timedelta(days=3),
        today=DAY0,
    )
    _resolve_and_archive(red_deviation)
    assert Deviation.objects.filter(pk=red_deviation.pk).exists()
    assert not ArchivedDeviation.objects.filter(pk=red_deviation.pk).exists()


def _read_notifications(user, count: int) -> list[int]:
    ids = [
        notification_send(recipients=[user], kind="digest", text=f"note {n}")[0].pk
        for n in range(count)
    ]
    notification_mark_read(notification_ids=ids, by=user, now=EVENING)
    return ids


def test_the_archive_run_is_idempotent_and_moves_in_batches(manager):
    ids = _read_notifications(manager, 5)

    with CaptureQueriesContext(connection) as first:
        moved = archiving.archive_old_rows(before=_everything_before(), batch_size=2)
    with CaptureQueriesContext(connection) as second:
        again = archiving.archive_old_rows(before=_everything_before(), batch_size=2)

    assert moved["notifications"] == 5 and again["notifications"] == 0
    assert not Notification.objects.filter(pk__in=ids).exists()
    assert sorted(ArchivedNotification.objects.values_list("pk", flat=True)) == ids
    # Three transactions of at most two rows each: every batch is its own INSERT.
    inserts = [q for q in first.captured_queries if "notification_archive" in q["sql"]]
    assert sum(q["sql"].startswith("INSERT") for q in inserts) == 3
    assert len(second.captured_queries) < len(first.captured_queries)


@pytest.mark.parametrize("count", [5, 50])
def test_the_archive_run_reads_in_a_constant_number_of_queries(
    manager, count, django_assert_max_num_queries
):
    _read_notifications(manager, count)
    # Per table: one batch (select, insert, delete) and the transaction's own statements.
    with django_assert_max_num_queries(16):
        moved = archiving.archive_old_rows(before=_everything_before())
    assert moved["notifications"] == count


def test_only_rows_finished_with_before_the_cutoff_move(manager):
    old = _read_notifications(manager, 2)
    later = EVENING + timedelta(days=10)
    recent = notification_send(recipients=[manager], kind="digest", text="recent")[0]
    notification_mark_read(notification_ids=[recent.pk], by=manager, now=later)

    moved = archiving.archive_old_rows(before=EVENING + timedelta(days=1))

    assert moved["notifications"] == 2
    assert list(Notification.objects.values_list("pk", flat=True)) == [recent.pk]
    assert sorted(ArchivedNotification.objects.values_list("pk", flat=True)) == old


def test_the_cutoff_is_archive_after_days_before_today(settings):
    settings.ARCHIVE_AFTER_DAYS = 30
    assert archiving.archive_cutoff(today=date(2026, 6, 17)) == datetime(
        2026, 5, 18, tzinfo=SHANGHAI
    )


# --- manage.py archive_old_rows -------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("archive_old_rows", *args, stdout=out)
    return out.getvalue()


def test_the_command_dry_run_counts_and_moves_nothing(manager):
    _read_notifications(manager, 3)
    with time_machine.travel(EVENING + timedelta(days=200), tick=False):
        output = run("--dry-run")
    assert "notifications would move: 3" in output
    assert "deviations would move: 0" in output
    assert "events would move: 0" in output and "deliveries would move: 0" in output
    assert Notification.objects.count() == 3 and ArchivedNotification.objects.count() == 0


def test_the_command_moves_what_is_older_than_the_setting(manager, settings):
    settings.ARCHIVE_AFTER_DAYS = 180
    _read_notifications(manager, 3)
    with time_machine.travel(EVENING + timedelta(days=179), tick=False):
        assert "notifications moved: 0" in run()
    with time_machine.travel(EVENING + timedelta(days=182), tick=False):
        output = run()
    assert "notifications moved: 3" in output
    assert "finished with before: 2026-06-19" in output
    assert ArchivedNotification.objects.count() == 3


def test_the_command_takes_a_day(manager):
    _read_notifications(manager, 2)
    with time_machine.travel(EVENING + timedelta(days=5), tick=False):
        assert "notifications moved: 2" in run("--before", "2026-06-20")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--before", "17/06/2026"], "--before must be a day as YYYY-MM-DD"),
        (["--before", "2026-06-19"], "is after today"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
    ],
)
def test_the_command_refuses_bad_input_with_status_2(args, message):
    with time_machine.travel(EVENING, tick=False), pytest.raises(CommandError) as refused:
        run(*args)
    assert refused.value.returncode == 2
    assert message in str(refused.value)


def test_the_admin_lists_archived_rows_read_only(admin_user, client, red_deviation):
    _resolve_and_archive(red_deviation)
    client.force_login(admin_user)
    listing = client.get("/admin/scheduling/archiveddeviation/")
    assert listing.status_code == 200
    assert red_deviation.application.number in listing.content.decode()
    row = client.get(f"/admin/scheduling/archiveddeviation/{red_deviation.pk}/change/")
    assert row.status_code == 200
    assert client.get("/admin/scheduling/archiveddeviation/add/").status_code == 403
    assert client.get("/admin/accounts/archivednotification/").status_code == 200
    assert client.get("/admin/scheduling/archivedproposal/").status_code == 200


def test_the_task_archives_what_was_finished_with_before_its_day(manager):
    from applications.tasks import archive_old_rows

    _read_notifications(manager, 2)
    assert archive_old_rows("2026-06-18") == {
        "deviations": 0,
        "proposals": 0,
        "notifications": 2,
        "events": 0,
        "deliveries": 0,
    }
    assert archive_old_rows("2026-06-18")["notifications"] == 0
