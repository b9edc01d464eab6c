"""Bulk writes: rows read back exactly as given, on SQLite and on PostgreSQL."""

import math
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from accounts.models import Department, Notification
from scheduling.models import Activity, ApplicationRisk, Deviation, Proposal
from tests.factories import make_application
from yekuo import bulk

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
AWKWARD = "第一行\t制表符\n第二行 C:\\路径\\ \\N 末尾\\"

DEVIATION_FIELDS = [
    "application",
    "activity_id",
    "department",
    "detected_at",
    "updated_at",
    "delay",
    "total_float",
    "free_float",
    "critical",
    "total_slip",
    "successor_slip",
    "commitment_overrun",
    "severity",
]


@pytest.fixture
def application(supervisor, manager):
    return make_application(by=supervisor, manager=manager)


@pytest.fixture
def activities(application):
    return list(Activity.objects.filter(application=application).order_by("pk"))


def deviation_row(application, activity, *, department=None, delay=3, at=None):
    at = at or datetime(2026, 3, 2, 18, 30, 15, 123456, tzinfo=SHANGHAI)
    return (
        application.pk,
        activity.pk,
        department,
        at,
        at,
        delay,
        -delay,
        0,
        delay % 2 == 1,
        delay,
        delay - 1,
        -2,
        "red",
    )


def stored(model, ids, fields):
    by_pk = {row[0]: row[1:] for row in model.objects.filter(pk__in=ids).values_list("pk", *fields)}
    return [by_pk[pk] for pk in ids]


def test_inserted_rows_come_back_with_their_keys_in_row_order(application, activities):
    marketing = Department.objects.get(code="marketing").pk
    rows = [
        deviation_row(application, activities[2], department=marketing, delay=5),
        deviation_row(
            application, activities[0], delay=0, at=datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
        ),
        deviation_row(application, activities[1], delay=2),
    ]
    ids = bulk.insert_rows(Deviation, DEVIATION_FIELDS, rows, returning=True)

    assert len(set(ids)) == 3
    names = ["application_id", *DEVIATION_FIELDS[1:]]
    names[2] = "department_id"
    assert stored(Deviation, ids, names) == rows
    # Fields not named get their default, as with bulk_create.
    assert set(Deviation.objects.values_list("status", "resolved_at")) == {("open", None)}


def test_a_time_given_for_an_auto_now_field_is_kept_and_one_not_given_is_now(manager):
    # A loader writes history: a notification of last March must not read as made today.
    past = datetime(2026, 3, 2, 18, 30, 15, 123456, tzinfo=SHANGHAI)
    now = datetime(2026, 12, 31, 23, 59, 30, tzinfo=SHANGHAI)
    with time_machine.travel(now, tick=False):
        given = bulk.insert_rows(
            Notification,
            ["recipient", "kind", "text", "created_at"],
            [(manager.pk, "deviation_red", "旧的", past)],
            returning=True,
        )
        unnamed = bulk.insert_rows(
            Notification,
            ["recipient", "kind", "text"],
            [(manager.pk, "deviation_red", "新的")],
            returning=True,
        )

    assert Notification.objects.get(pk=given[0]).created_at == past
    assert Notification.objects.get(pk=unnamed[0]).created_at == now


def test_inserted_values_keep_nulls_dates_json_and_text(application, activities):
    deviation = bulk.insert_rows(
        Deviation, DEVIATION_FIELDS, [deviation_row(application, activities[0])], returning=True
    )[0]
    detail = {
        "durations": {"A12": [5, 3], "乙": [2, 1]},
        "departments": ["营销部", "运检部"],
        "note": AWKWARD,
        "nested": [None, True, False, 1.5, {"空": {}}],
    }
    basis = date(2026, 9, 1)
    rows = [
        (
            "shorten:A,乙",
            "shorten",
            ["A", "乙"],
            date(2026, 8, 31),
            6,
            detail,
            "proposed",
            AWKWARD,
        ),
        ("escalate:", "escalate", [], None, None, {}, "proposed", "原因\\"),
    ]
    fields = ["measure", "kind", "activities", "new_finish", "days_recovered"]
    fields += ["detail", "status", "reason"]

    assert (
        bulk.insert_rows(
            Proposal,
            ["application", "deviation", "basis", "basis_finish", *fields],
            [(application.pk, deviation, "f" * 32, basis, *r) for r in rows],
        )
        is None
    )

    got = list(Proposal.objects.filter(deviation=deviation).order_by("pk").values_list(*fields))
    assert got == rows
    assert set(Proposal.objects.values_list("decided_by", "decided_at")) == {(None, None)}


def test_nothing_to_write_sends_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert bulk.insert_rows(Notification, ["recipient", "kind"], [], returning=True) == []
        assert bulk.insert_rows(Notification, ["recipient", "kind"], []) is None
        bulk.update_rows(Deviation, ["delay"], [])
        bulk.upsert_rows(ApplicationRisk, ["on_time"], [])


def test_a_conflicting_pair_is_skipped_and_only_new_keys_come_back(manager, supervisor):
    fields = ["recipient_id", "kind", "text", "dedupe_key"]
    first = bulk.insert_rows(
        Notification, fields, [(manager.pk, "deviation_red", "旧的", "red:1")], returning=True
    )
    rows = [
        (manager.pk, "deviation_red", "新的", "red:2"),
        (manager.pk, "deviation_red", "重复", "red:1"),
        (supervisor.pk, "deviation_red", "主管", "red:1"),
        (manager.pk, "deviation_red", AWKWARD, "red:3"),
    ]
    ids = bulk.insert_rows(Notification, fields, rows, returning=True, ignore_conflicts=True)

    assert len(ids) == 3 and first[0] not in ids
    assert stored(Notification, ids, fields) == [rows[0], rows[2], rows[3]]
    assert Notification.objects.get(pk=first[0]).text == "旧的"
    assert Notification.objects.count() == 4
    assert not Notification.objects.filter(created_at=None).exists()
    # Only conflicts: nothing stored, nothing returned.
    again = bulk.insert_rows(Notification, fields, rows[1:2], returning=True, ignore_conflicts=True)
    assert again == []
    bulk.insert_rows(Notification, fields, rows, ignore_conflicts=True)
    assert Notification.objects.count() == 4


def test_updated_rows_take_the_new_values_and_others_keep_theirs(application, activities):
    rows = [deviation_row(application, a, delay=k + 1) for k, a in enumerate(activities[:3])]
    ids = bulk.insert_rows(Deviation, DEVIATION_FIELDS, rows, returning=True)
    marketing = Department.objects.get(code="marketing").pk
    later = datetime(2026, 7, 1, 9, 0, 0, 1, tzinfo=SHANGHAI)
    fields = ["department", "updated_at", "critical", "delay", "severity", "resolved_at"]
    changes = [
        (ids[2], marketing, later, False, -7, "amber", later),
        (ids[0], None, later, True, 0, "", None),
    ]
    bulk.update_rows(Deviation, fields, changes)

    names = ["department_id", *fields[1:]]
    assert stored(Deviation, [ids[2], ids[0]], names) == [c[1:] for c in changes]
    assert stored(Deviation, [ids[1]], ["delay", "severity"]) == [(2, "red")]

    proposal = bulk.insert_rows(
        Proposal,
        ["application", "deviation", "kind", "measure", "reason", "basis", "basis_finish"],
        [(application.pk, ids[0], "shorten", "shorten:", AWKWARD, "", date(2026, 9, 1))],
        returning=True,
    )[0]
    detail = {"durations": {"甲": [3, 1]}, "text": AWKWARD}
    bulk.update_rows(
        Proposal, ["detail", "activities", "days_recovered"], [(proposal, detail, ["甲"], None)]
    )
    assert stored(Proposal, [proposal], ["detail", "activities", "days_recovered"]) == [
        (detail, ["甲"], None)
    ]


def test_an_update_where_null_leaves_the_rows_someone_else_filled(application, activities):
    rows = [deviation_row(application, a, delay=k + 1) for k, a in enumerate(activities[:3])]
    ids = bulk.insert_rows(Deviation, DEVIATION_FIELDS, rows, returning=True)
    marketing = Department.objects.get(code="marketing").pk
    Deviation.objects.filter(pk__in=ids).update(department=None)
    Deviation.objects.filter(pk=ids[1]).update(department=marketing, delay=20)

    bulk.update_rows(
        Deviation,
        ["department", "delay"],
        [(pk, marketing, 9) for pk in ids],
        where_null=("department",),
    )

    assert stored(Deviation, ids, ["department_id", "delay"]) == [
        (marketing, 9),
        (marketing, 20),
        (marketing, 9),
    ]


def test_upserted_rows_are_added_or_set_by_their_key(
    application, supervisor, manager, django_assert_num_queries
):
    second = make_application(by=supervisor, manager=manager)
    fields = ["as_of", "on_time", "curve"]
    bulk.upsert_rows(
        ApplicationRisk,
        [*fields, "driver"],
        [(application.pk, date(2026, 3, 2), 0.5, [["2026-05-08", 1.0]], "C")],
    )
    curve = [["2026-05-08", 0.25], ["2026-05-11", 1.0]]
    rows = [
        (second.pk, date(2026, 3, 3), None, []),
        (application.pk, date(2026, 3, 3), 0.25, curve),
    ]
    # The temporary table, COPY into it, INSERT ... ON CONFLICT DO UPDATE (PostgreSQL); one
    # INSERT ... ON CONFLICT elsewhere.
    with django_assert_num_queries(3 if connection.vendor == "postgresql" else 1):
        bulk.upsert_rows(ApplicationRisk, fields, rows)

    assert stored(
        ApplicationRisk, [application.pk, second.pk], [*fields, "driver", "activities"]
    ) == [
        # Stored: the fields named are set, the others kept.
        (date(2026, 3, 3), 0.25, curve, "C", {}),
        # New: the fields not named take their defaults.
        (date(2026, 3, 3), None, [], "", {}),
    ]
    assert ApplicationRisk.objects.count() == 2


def test_an_upsert_refuses_a_repeated_key_and_writes_nothing(application):
    rows = [(application.pk, date(2026, 3, 2), 0.5), (application.pk, date(2026, 3, 3), 0.4)]
    with pytest.raises(ValueError, match="a key is given more than once"):
        bulk.upsert_rows(ApplicationRisk, ["as_of", "on_time"], rows)
    assert not ApplicationRisk.objects.exists()


def test_an_upsert_of_no_fields_adds_new_keys_and_leaves_stored_ones(
    application, supervisor, manager
):
    second = make_application(by=supervisor, manager=manager)
    bulk.upsert_rows(ApplicationRisk, ["on_time"], [(application.pk, 0.5)])
    bulk.upsert_rows(ApplicationRisk, [], [(application.pk,), (second.pk,)])
    assert stored(ApplicationRisk, [application.pk, second.pk], ["on_time", "curve"]) == [
        (0.5, []),
        (None, []),
    ]


def statements(count: int, width: int) -> int:
    """Statements of one bulk write: fixed on PostgreSQL; SQLite splits by its bound-parameter
    limit (999 per statement)."""
    return 1 if connection.vendor == "postgresql" else math.ceil(count * width / 999)


@pytest.mark.parametrize("count", [10, 200])
def test_a_bulk_write_costs_a_fixed_number_of_statements(
    count, manager, application, activities, django_assert_max_num_queries
):
    rows = [(manager.pk, "deviation_red", f"第{k}条", f"red:{k}") for k in range(count)]
    fields = ["recipient", "kind", "text", "dedupe_key"]
    width = 8  # a notification's columns but its key: the fields named and the defaulted ones
    # Keys drawn, then one COPY (PostgreSQL); a fixed number of INSERTs per chunk elsewhere.
    with django_assert_max_num_queries(1 + statements(count, width)):
        ids = bulk.insert_rows(Notification, fields, rows[: count // 2], returning=True)
    # Keys, the temporary table, COPY into it, INSERT ... ON CONFLICT.
    with django_assert_max_num_queries(3 + statements(count, width)):
        new = bulk.insert_rows(Notification, fields, rows, returning=True, ignore_conflicts=True)
    assert len(ids) + len(new) == count
    # The temporary table, COPY into it, UPDATE ... FROM it.
    with django_assert_max_num_queries(2 + statements(count, 2)):
        bulk.update_rows(Notification, ["text"], [(pk, "已读") for pk in ids + new])
    assert set(Notification.objects.values_list("text", flat=True)) == {"已读"}
