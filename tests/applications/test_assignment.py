"""Account-manager assignment (DESIGN §7): who gets a new application, and what if nobody can."""

import logging
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import OperationalError, connection
from django.utils import timezone, translation

from accounts.models import AccountManagerProfile, Notification
from applications import assignment
from applications.models import Application, AssignmentChange
from tests.conftest import load_reference_data, need_service
from tests.factories import (
    AccountManagerProfileFactory,
    RegionFactory,
    UserFactory,
    make_application,
)
from yekuo.celery import app

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def east(db):
    return RegionFactory(code="east", name="城东供电区")


def manager_in(region, username, *, capacity=20, voltages=("10kV",), last_assigned_at=None):
    profile = AccountManagerProfileFactory(
        user__username=username,
        regions=[region] if region else [],
        capacity=capacity,
        voltage_classes=list(voltages),
        last_assigned_at=last_assigned_at,
    )
    return profile.user


def holding(user, region, supervisor, count, **kwargs):
    """Give ``user`` ``count`` active applications in ``region``."""
    for _ in range(count):
        make_application(by=supervisor, manager=user, region=region, **kwargs)


def unassigned(supervisor, region, **kwargs):
    return make_application(by=supervisor, manager=None, region=region, **kwargs)


def manager_of(application):
    return Application.objects.get(pk=application.pk).account_manager


# --- Who gets it ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_manager_with_the_lowest_load_relative_to_capacity_gets_the_application(
    supervisor, east
):
    half_full = manager_in(east, "half-full", capacity=2)
    fifth_full = manager_in(east, "fifth-full", capacity=10)
    holding(half_full, east, supervisor, 1)
    holding(fifth_full, east, supervisor, 2)
    application = unassigned(supervisor, east)

    assert assignment.account_manager_assign(application_id=application.pk, now=NOW) == "assigned"

    assert manager_of(application) == fifth_full


@pytest.mark.django_db
def test_equal_loads_go_to_the_manager_assigned_least_recently(supervisor, east):
    manager_in(east, "recent", last_assigned_at=NOW - timedelta(hours=1))
    longest = manager_in(east, "longest", last_assigned_at=NOW - timedelta(days=3))
    application = unassigned(supervisor, east)

    assignment.account_manager_assign(application_id=application.pk, now=NOW)

    assert manager_of(application) == longest
    assert "longest without a new assignment" in (
        AssignmentChange.objects.get(application=application).reason
    )


@pytest.mark.django_db
def test_a_manager_never_assigned_comes_before_one_assigned_before(supervisor, east):
    manager_in(east, "aaa-before", last_assigned_at=NOW - timedelta(days=30))
    never = manager_in(east, "zzz-never")
    application = unassigned(supervisor, east)

    assignment.account_manager_assign(application_id=application.pk, now=NOW)

    assert manager_of(application) == never


@pytest.mark.django_db
def test_only_active_managers_serving_the_region_and_qualified_for_the_voltage_are_eligible(
    supervisor, east
):
    west = RegionFactory(code="west", name="城西供电区")
    manager_in(west, "other-region")
    manager_in(east, "low-voltage-only", voltages=["0.4kV"])
    inactive = manager_in(east, "inactive-profile")
    AccountManagerProfile.objects.filter(user=inactive).update(is_active=False)
    gone = manager_in(east, "inactive-user")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    busy_but_eligible = manager_in(east, "eligible", voltages=["10kV", "35kV"])
    holding(busy_but_eligible, east, supervisor, 3)
    application = unassigned(supervisor, east)

    assignment.account_manager_assign(application_id=application.pk, now=NOW)

    assert manager_of(application) == busy_but_eligible


@pytest.mark.django_db
def test_a_manager_without_room_for_the_applications_weight_is_skipped(supervisor, east):
    # An important customer weighs 2: an empty manager of capacity 1 has no room for it.
    manager_in(east, "tiny", capacity=1)
    roomy = manager_in(east, "roomy", capacity=20)
    holding(roomy, east, supervisor, 1)
    application = unassigned(supervisor, east, is_important=True)

    assignment.account_manager_assign(application_id=application.pk, now=NOW)

    assert manager_of(application) == roomy


@pytest.mark.django_db
def test_assignment_records_why_and_tells_the_manager(supervisor, east):
    chosen = manager_in(east, "chosen", capacity=20)
    holding(chosen, east, supervisor, 3)
    application = unassigned(supervisor, east)
    version = Application.objects.get(pk=application.pk).version

    assignment.account_manager_assign(application_id=application.pk, now=NOW)

    stored = Application.objects.get(pk=application.pk)
    assert stored.account_manager == chosen
    assert stored.assigned_at == NOW
    assert stored.version == version + 1
    assert AccountManagerProfile.objects.get(user=chosen).last_assigned_at == NOW
    change = AssignmentChange.objects.get(application=application)
    assert (change.from_manager, change.to_manager, change.by, change.at) == (
        None,
        chosen,
        None,
        NOW,
    )
    assert change.reason == (
        "Assigned automatically: serves 城东供电区, qualified for 10 kV, load 3/20 (the lowest)."
    )
    notification = Notification.objects.get(recipient=chosen, kind="assigned")
    assert notification.application_id == application.pk
    assert notification.dedupe_key == f"assigned:{application.pk}:{chosen.pk}"
    assert application.number in notification.text and change.reason in notification.text


@pytest.mark.django_db
def test_assigning_twice_assigns_once(supervisor, east):
    chosen = manager_in(east, "once")
    manager_in(east, "other")
    application = unassigned(supervisor, east)

    first = assignment.account_manager_assign(application_id=application.pk, now=NOW)
    version = Application.objects.get(pk=application.pk).version
    second = assignment.account_manager_assign(
        application_id=application.pk, now=NOW + timedelta(minutes=1)
    )

    assert (first, second) == ("assigned", "already_assigned")
    assert Application.objects.get(pk=application.pk).version == version
    assert AssignmentChange.objects.filter(application=application).count() == 1
    assert Notification.objects.filter(application=application, kind="assigned").count() == 1
    assert manager_of(application) == chosen


@pytest.mark.django_db
def test_an_application_that_is_no_longer_active_is_left_alone(supervisor, east):
    manager_in(east, "idle")
    application = unassigned(supervisor, east)
    Application.objects.filter(pk=application.pk).update(state="cancelled")

    assert assignment.account_manager_assign(application_id=application.pk) == "not_active"
    assert manager_of(application) is None
    assert not AssignmentChange.objects.filter(application=application).exists()


@pytest.mark.django_db
def test_a_task_for_an_application_that_does_not_exist_does_not_fail():
    assert assignment.account_manager_assign(application_id=987654) == "missing"


# --- Nobody eligible ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "setup, why",
    [
        ("nobody", "no active account manager serves 城东供电区."),
        (
            "unqualified",
            "no active account manager serving 城东供电区 is qualified for 10 kV.",
        ),
        (
            "full",
            "every account manager serving 城东供电区 and qualified for 10 kV is at capacity.",
        ),
    ],
)
def test_with_nobody_eligible_the_application_waits_for_the_supervisors(
    setup, why, supervisor, admin_user, east
):
    if setup == "unqualified":
        manager_in(east, "lv", voltages=["0.4kV"])
    elif setup == "full":
        full = manager_in(east, "full", capacity=1)
        holding(full, east, supervisor, 1)
    application = unassigned(supervisor, east)

    outcomes = [
        assignment.account_manager_assign(application_id=application.pk, now=NOW) for _ in range(2)
    ]

    assert outcomes == ["unassigned", "unassigned"]
    assert manager_of(application) is None
    assert not AssignmentChange.objects.filter(application=application).exists()
    notified = Notification.objects.filter(kind="unassigned", application=application)
    assert sorted(n.recipient.username for n in notified) == ["admin-t", "supervisor-t"]
    text = notified.get(recipient=supervisor).text
    assert text == (
        f"{application.number} ({application.customer}, 城东供电区, 10 kV) has no account "
        f"manager: {why} Assign one from the unassigned queue."
    )
    assert notified.get(recipient=supervisor).dedupe_key == f"unassigned:{application.pk}"
    assert application.pk in [a.pk for a in assignment.unassigned_applications()]


@pytest.mark.django_db
def test_the_unassigned_queue_lists_active_unowned_applications_oldest_first(
    supervisor, east, manager
):
    older = unassigned(supervisor, east)
    newer = unassigned(supervisor, east)
    make_application(by=supervisor, manager=manager, region=east)
    cancelled = unassigned(supervisor, east)
    Application.objects.filter(pk=cancelled.pk).update(state="cancelled")
    Application.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(hours=2))

    queue = list(assignment.unassigned_applications())

    assert [a.pk for a in queue] == [older.pk, newer.pk]


@pytest.mark.django_db
def test_loads_are_weighted_and_read_in_a_constant_number_of_queries(
    supervisor, east, django_assert_num_queries
):
    mixed = manager_in(east, "mixed", capacity=10)
    holding(mixed, east, supervisor, 1)
    holding(mixed, east, supervisor, 1, is_important=True)
    holding(mixed, east, supervisor, 1, customer_class="hv_dual")
    done = make_application(by=supervisor, manager=mixed, region=east)
    Application.objects.filter(pk=done.pk).update(state="closed")
    manager_in(east, "empty", capacity=5)
    manager_in(east, "another", capacity=5)

    with django_assert_num_queries(2):
        loads = {row.profile.user.username: row for row in assignment.account_manager_loads()}
        regions = {name: [r.code for r in row.profile.regions.all()] for name, row in loads.items()}

    assert (loads["mixed"].load, loads["mixed"].capacity) == (5, 10)
    assert loads["empty"].load == 0 and loads["empty"].free == 5
    assert regions["mixed"] == ["east"]


# --- The catch-up ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_catch_up_assigns_an_application_whose_message_was_lost_and_leaves_fresh_ones(
    supervisor, east
):
    manager = manager_in(east, "sweeper")
    lost = unassigned(supervisor, east)
    fresh = unassigned(supervisor, east)
    Application.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=6))

    counts = assignment.account_manager_assign_waiting(older_than_minutes=5)

    assert counts == {"assigned": 1, "unassigned": 0}
    assert manager_of(lost) == manager
    assert manager_of(fresh) is None


@pytest.mark.django_db
def test_the_catch_up_counts_what_it_could_not_assign(supervisor, east):
    stuck = unassigned(supervisor, east)
    Application.objects.filter(pk=stuck.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )

    assert assignment.account_manager_assign_waiting() == {"assigned": 0, "unassigned": 1}
    assert assignment.account_manager_assign_waiting() == {"assigned": 0, "unassigned": 1}
    assert Notification.objects.filter(kind="unassigned", recipient=supervisor).count() == 1


# --- Concurrency, the worker and the broker (real services) ---------------------------------


@contextmanager
def broker_at(url):
    """Point the Celery app at another broker, and back (pools are cached per broker)."""

    def forget_pools():
        app._pool = None
        app.amqp._producer_pool = None

    original = app.conf.broker_url
    forget_pools()
    app.conf.broker_url = url
    try:
        yield
    finally:
        app.pool.force_close_all()
        forget_pools()
        app.conf.broker_url = original


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_fifty_applications_at_once_never_fill_a_manager_past_capacity(db_pool_of):
    need_service(
        "PostgreSQL", connection.vendor == "postgresql", "row locks need a real database server"
    )
    # The ten threads each hold a connection while they wait for one another.
    db_pool_of(12)
    load_reference_data()
    supervisor = UserFactory(username="sup-a", role="supervisor")
    region = RegionFactory(code="busy", name="繁忙供电区")
    managers = [manager_in(region, f"mgr-{n}", capacity=20) for n in range(2)]
    arrived, assign = threading.Barrier(10), threading.Barrier(10)
    outcomes, errors = [], []

    def arrive():
        try:
            arrived.wait(timeout=30)
            applications = [
                make_application(by=supervisor, manager=None, region=region) for _ in range(5)
            ]
            # Every thread assigns at the same moment, so the assignments contend for the
            # same two managers instead of being spaced out by the creations.
            assign.wait(timeout=60)
            for application in applications:
                outcomes.append(assignment.account_manager_assign(application_id=application.pk))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    # The on-commit messages go to an in-memory broker: this test drives the assignment.
    with broker_at("memory://"):
        threads = [threading.Thread(target=arrive) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert errors == []
    assert sorted(set(outcomes)) == ["assigned", "unassigned"]
    assert outcomes.count("assigned") == 40
    loads = assignment.manager_weighted_loads(user_ids=[m.pk for m in managers])
    assert loads == {managers[0].pk: 20, managers[1].pk: 20}
    assert Application.objects.filter(account_manager__isnull=True).count() == 10
    assert AssignmentChange.objects.count() == 40
    assert assignment.unassigned_applications().count() == 10


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OperationalError as exc:
            # SQLite's shared in-memory test database locks a table while the worker
            # writes it and does not wait: read again, as the next poll would.
            if "locked" not in str(exc):
                raise
        time.sleep(0.2)
    return False


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_assigns_an_application_that_arrives_without_a_manager():
    load_reference_data()
    supervisor = UserFactory(username="sup-w", role="supervisor")
    region = RegionFactory(code="worker", name="工人供电区")
    manager = manager_in(region, "mgr-w")

    with start_worker(
        app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=30
    ):
        application = make_application(by=supervisor, manager=None, region=region)
        assert _wait_for(
            lambda: Application.objects.filter(pk=application.pk, account_manager=manager).exists()
        )

    assert AssignmentChange.objects.filter(application=application, to_manager=manager).exists()


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_application_is_stored_and_the_catch_up_assigns_it(caplog):
    load_reference_data()
    supervisor = UserFactory(username="sup-b", role="supervisor")
    region = RegionFactory(code="outage", name="停电供电区")
    manager = manager_in(region, "mgr-b")

    with (
        caplog.at_level(logging.ERROR, logger="yekuo.celery"),
        broker_at("redis://127.0.0.1:9/0"),
    ):
        started = time.monotonic()
        application = make_application(by=supervisor, manager=None, region=region)
        took = time.monotonic() - started

    assert Application.objects.get(pk=application.pk).account_manager is None
    assert any(
        r.name == "yekuo.celery"
        and "could not enqueue applications.tasks.assign_account_manager" in r.getMessage()
        for r in caplog.records
    )
    print(f"create with the broker down took {took:.1f}s")
    assert took < 15, "an unreachable broker must not hold the person's request for long"

    counts = assignment.account_manager_assign_waiting()

    assert counts == {"assigned": 1, "unassigned": 0}
    assert manager_of(application) == manager
