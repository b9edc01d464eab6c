"""The set-based catch-up assigns as the single assignment would, in a constant number of
queries, never twice, and at once when a manager gets more room."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection, transaction
from django.utils import translation

from accounts.models import AccountManagerProfile, Notification
from applications import assignment
from applications.models import Application, AssignmentChange
from tests.applications.test_assignment import _wait_for, broker_at, manager_in, unassigned
from tests.conftest import load_reference_data, need_service
from tests.dates import pinned
from tests.factories import RegionFactory, UserFactory, make_application
from yekuo.celery import app

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def outcome() -> dict:
    """Return what a person sees of the assignments: who holds what, the change log, the
    notifications and the managers' last assignment."""
    return {
        "applications": list(
            Application.objects.order_by("pk").values_list(
                "pk", "account_manager_id", "assigned_at", "version"
            )
        ),
        "changes": list(
            AssignmentChange.objects.order_by("application_id").values_list(
                "application_id", "from_manager_id", "to_manager_id", "reason", "by_id", "at"
            )
        ),
        "notifications": sorted(
            Notification.objects.values_list(
                "recipient_id", "kind", "application_id", "text", "dedupe_key", "by_mail"
            )
        ),
        "profiles": list(
            AccountManagerProfile.objects.order_by("pk").values_list("pk", "last_assigned_at")
        ),
    }


@pytest.fixture
def office(supervisor):
    """Two regions with managers of every kind, and applications waiting in both and in a
    third region nobody serves.

    East: ``a`` (10 kV, room for 5), ``b`` (10 and 35 kV, room for 6, never assigned),
    ``c`` (35 kV, room for 3, assigned long ago), ``d`` (10 kV, room for 4, holding 2 and
    assigned recently). West: ``w`` (10 kV, room for 2). Waiting: ordinary, important and
    dual-supply applications (weight 2) at 10 and 35 kV, a 110 kV one nobody is qualified
    for, and one in a region nobody serves; more than the room, so some stay waiting.
    """
    east = RegionFactory(code="east", name="城东供电区")
    west = RegionFactory(code="west", name="城西供电区")
    nowhere = RegionFactory(code="nowhere", name="无人供电区")
    manager_in(east, "a", capacity=5)
    manager_in(east, "b", capacity=6, voltages=("10kV", "35kV"))
    manager_in(east, "c", capacity=3, voltages=("35kV",), last_assigned_at=NOW - timedelta(days=9))
    d = manager_in(east, "d", capacity=4, last_assigned_at=NOW - timedelta(hours=1))
    manager_in(west, "w", capacity=2)
    for _ in range(2):
        make_application(by=supervisor, manager=d, region=east)
    kinds = [
        {},
        {"is_important": True},
        {"voltage_class": "35kV"},
        {"customer_class": "hv_dual"},
        {},
        {"voltage_class": "110kV"},
        {"voltage_class": "35kV", "is_important": True},
        {},
        {},
        {"customer_class": "hv_dual", "voltage_class": "35kV"},
        {},
        {},
        {},
    ]
    waiting = [unassigned(supervisor, east, **kind) for kind in kinds]
    waiting += [unassigned(supervisor, west) for _ in range(3)]
    waiting.append(unassigned(supervisor, nowhere))
    return waiting


@pinned(NOW)
@pytest.mark.django_db
def test_the_catch_up_chooses_every_manager_the_single_assignment_chooses(office):
    # The single assignment, run for each waiting application in the order they arrived.
    before = transaction.savepoint()
    statuses = [assignment.account_manager_assign(application_id=a.pk, now=NOW) for a in office]
    one_by_one = outcome()
    transaction.savepoint_rollback(before)

    counts = assignment.account_manager_assign_waiting(now=NOW)

    assert outcome() == one_by_one
    assert counts == {
        "assigned": statuses.count("assigned"),
        "unassigned": statuses.count("unassigned"),
    }
    # The cases are all there: assigned, waiting for lack of room, of qualification and of
    # anyone serving the region; ties broken by the last assignment.
    assert counts["assigned"] >= 10 and counts["unassigned"] >= 3
    reasons = {reason for *_k, reason, _by, _at in one_by_one["changes"]}
    assert any("the longest without a new assignment" in r for r in reasons)
    notices = " ".join(
        text for _r, kind, _a, text, _k, _m in one_by_one["notifications"] if kind == "unassigned"
    )
    assert "is at capacity" in notices
    assert "is qualified for" in notices
    assert "no active account manager serves 无人供电区" in notices


@pinned(NOW)
@pytest.mark.django_db
def test_the_catch_up_twice_assigns_once_and_notifies_once(office):
    first = assignment.account_manager_assign_waiting(now=NOW)
    seen = outcome()

    second = assignment.account_manager_assign_waiting(now=NOW + timedelta(minutes=15))

    assert second == {"assigned": 0, "unassigned": first["unassigned"]}
    assert outcome() == seen


def _waiting(supervisor, count, region, template):
    """Return ``count`` waiting applications: ``template`` created through the service,
    the others copies of its row (the catch-up reads only the application rows)."""
    rows = []
    for serial in range(count - 1):
        row = Application.objects.get(pk=template.pk)
        row.pk = None
        row.number = f"{template.number}-{serial}"
        rows.append(row)
    Application.objects.bulk_create(rows)
    return Application.objects.filter(region=region, account_manager__isnull=True).count()


@pinned(NOW)
@pytest.mark.django_db
@pytest.mark.parametrize("count, managers", [(5, 3), (500, 30)])
def test_the_queries_of_the_catch_up_do_not_grow_with_the_waiting_applications(
    supervisor, count, managers, django_assert_max_num_queries
):
    east = RegionFactory(code="east", name="城东供电区")
    nowhere = RegionFactory(code="nowhere", name="无人供电区")
    for serial in range(managers):
        manager_in(east, f"m{serial:02d}", capacity=1000)
    assert _waiting(supervisor, count, east, unassigned(supervisor, east)) == count
    unassigned(supervisor, nowhere)

    # Waiting applications, active profiles, their regions, loads, supervisors; the update
    # of the applications (on PostgreSQL: staging table, copy, update), the stamp, the
    # read-back, the change log, the notifications (on PostgreSQL: keys, staging table,
    # copy, insert) and the savepoint;
    # the dashboard's counters: two reads before the updates, two after, an upsert each;
    # the webhook subscriptions that want the assignments (none here: nothing stored).
    # SQLite takes at most ``max_query_params`` a statement: its two inserts of nine
    # columns and its update of five are split there.
    limit = connection.features.max_query_params
    split = 0 if limit is None else 2 * ((count + 1) * 9 // limit) + count * 5 // limit
    with django_assert_max_num_queries(23 + split):
        counts = assignment.account_manager_assign_waiting(now=NOW)

    assert counts == {"assigned": count, "unassigned": 1}
    assert AssignmentChange.objects.count() == count
    assert Notification.objects.filter(kind="assigned").count() == count
    held = assignment.manager_weighted_loads(
        user_ids=AccountManagerProfile.objects.values_list("user_id", flat=True)
    )
    assert max(held.values()) - min(held.values()) <= 1


# --- On a real PostgreSQL: row locks, a real worker ----------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_catch_up_beside_single_assignments_never_assigns_twice(db_pool_of):
    need_service(
        "PostgreSQL", connection.vendor == "postgresql", "row locks need a real database server"
    )
    db_pool_of(8)
    load_reference_data()
    supervisor = UserFactory(username="sup-k", role="supervisor")
    region = RegionFactory(code="race", name="竞争供电区")
    managers = [manager_in(region, f"mgr-k{n}", capacity=15) for n in range(2)]
    with broker_at("memory://"):
        waiting = [make_application(by=supervisor, manager=None, region=region) for _ in range(40)]
    start = threading.Barrier(4)
    outcomes, errors = [], []

    def single(ids):
        try:
            start.wait(timeout=30)
            outcomes.extend(assignment.account_manager_assign(application_id=pk) for pk in ids)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    def catch_up():
        try:
            start.wait(timeout=30)
            for _ in range(3):
                counts = assignment.account_manager_assign_waiting()
                outcomes.extend(["assigned"] * counts["assigned"])
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    ids = [a.pk for a in waiting]
    with broker_at("memory://"):
        threads = [
            threading.Thread(target=single, args=(ids,)),
            threading.Thread(target=single, args=(ids[::-1],)),
            threading.Thread(target=catch_up),
            threading.Thread(target=catch_up),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert errors == []
    # Room for 30: exactly 30 assigned, each once, nobody past capacity.
    assert outcomes.count("assigned") == 30
    assert AssignmentChange.objects.count() == 30
    assert AssignmentChange.objects.values("application").distinct().count() == 30
    loads = assignment.manager_weighted_loads(user_ids=[m.pk for m in managers])
    assert loads == {managers[0].pk: 15, managers[1].pk: 15}
    assert Notification.objects.filter(kind="assigned").count() == 30


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_manager_given_more_room_in_the_admin_takes_the_waiting_application_at_once(client):
    load_reference_data()
    supervisor = UserFactory(username="sup-r", role="supervisor")
    administrator = UserFactory(username="admin-r", role="administrator")
    region = RegionFactory(code="room", name="扩容供电区")
    manager = manager_in(region, "mgr-r", capacity=1)
    make_application(by=supervisor, manager=manager, region=region)
    with broker_at("memory://"):
        waiting = make_application(by=supervisor, manager=None, region=region)
    assert Application.objects.get(pk=waiting.pk).account_manager is None
    profile = manager.account_manager
    client.force_login(administrator)

    # A worker as bin/run starts one: no queue named, so it consumes every declared queue
    # (the catch-up goes to the heavy one).
    with start_worker(
        app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=30
    ):
        response = client.post(
            f"/admin/accounts/accountmanagerprofile/{profile.pk}/change/",
            {
                "user": manager.pk,
                "regions": [region.pk],
                "voltage_classes": ["10kV"],
                "capacity": 2,
                "is_active": "on",
            },
        )
        assert response.status_code == 302
        assert _wait_for(
            lambda: Application.objects.filter(pk=waiting.pk, account_manager=manager).exists()
        )
    assert AssignmentChange.objects.get(application=waiting).to_manager == manager
