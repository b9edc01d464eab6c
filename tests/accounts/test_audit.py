"""The audit trail: the database records who changed which field, before → after, for
save(), QuerySet.update() and bulk writes alike; logs are append-only on PostgreSQL."""

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.db.utils import InternalError

from accounts.models import ChangeRecord
from applications.models import Application, StageTransition
from scheduling.models import Activity
from tests.conftest import need_service
from tests.factories import UserFactory, make_application
from yekuo.audit import acting

pytestmark = pytest.mark.django_db

DAY0 = date(2026, 3, 2)


def mark() -> int:
    """The last record so far: what the fixtures' own writes left."""
    last = ChangeRecord.objects.order_by("-id").first()
    return last.pk if last else 0


def records(model, pk, since):
    return list(
        ChangeRecord.objects.filter(
            table_name=model._meta.db_table, row_id=str(pk), pk__gt=since
        ).order_by("id")
    )


@pytest.fixture
def application(supervisor, manager):
    return make_application(by=supervisor, manager=manager, accepted_on=DAY0)


def test_a_queryset_update_is_recorded_with_who_and_before_after(application, supervisor):
    since = mark()
    with acting(supervisor.pk):
        Application.objects.filter(pk=application.pk).update(requested_capacity_kva=9_999_999)
    [record] = records(Application, application.pk, since)
    assert record.action == "U"
    assert record.actor_id == supervisor.pk
    assert record.changes == {
        "requested_capacity_kva": [application.requested_capacity_kva, 9_999_999]
    }


def test_figures_the_sweep_recomputes_are_not_recorded(application):
    since = mark()
    Application.objects.filter(pk=application.pk).update(
        total_float=-3, sweep_fingerprint="x", version=99
    )
    Activity.objects.filter(application=application).update(forecast_tf=-3, is_critical=True)
    assert not ChangeRecord.objects.filter(pk__gt=since).exists()


def test_a_bulk_update_of_activities_records_each_row(application, manager):
    since = mark()
    activities = list(Activity.objects.filter(application=application, is_dummy=False)[:3])
    for activity in activities:
        activity.duration += 2
    with acting(manager.pk):
        Activity.objects.bulk_update(activities, ["duration"])
    for activity in activities:
        [record] = records(Activity, activity.pk, since)
        assert record.changes == {"duration": [activity.duration - 2, activity.duration]}
        assert record.actor_id == manager.pk


def test_a_password_change_is_recorded_without_the_password(manager, supervisor):
    since = mark()
    manager.set_password("another-long-password-2026")
    with acting(supervisor.pk):
        manager.save(update_fields=["password"])
    [record] = records(type(manager), manager.pk, since)
    assert record.changes == {"password": ["***", "***"]}


def test_a_role_given_is_recorded(manager, supervisor):
    group = Group.objects.get(name="supervisor")
    since = mark()
    with acting(supervisor.pk):
        manager.groups.add(group)
    added = ChangeRecord.objects.get(table_name="accounts_user_groups", action="I", pk__gt=since)
    assert added.changes["user_id"] == [None, manager.pk]
    assert added.changes["group_id"] == [None, group.pk]
    assert added.actor_id == supervisor.pk


def test_a_request_writes_under_its_user(client, application, manager):
    """The page's progress form: the trail names the signed-in account manager."""
    activity = Activity.objects.get(application=application, code="A")
    client.force_login(manager)
    since = mark()
    response = client.post(
        f"/applications/{application.number}/activities/{activity.pk}/progress/",
        {"actual_start": "2026-03-02", "version": application.version},
    )
    assert response.status_code in (200, 302)
    [record] = records(Activity, activity.pk, since)
    assert record.actor_id == manager.pk
    assert record.changes["actual_start"] == [None, "2026-03-02"]


@pytest.mark.services
def test_logs_refuse_update_and_delete_on_postgresql(application):
    need_service("PostgreSQL", connection.vendor == "postgresql", "the database's own triggers")
    transition = StageTransition.objects.filter(application=application).first()
    for write in (
        lambda: StageTransition.objects.filter(pk=transition.pk).update(note="rewritten"),
        lambda: StageTransition.objects.filter(pk=transition.pk).delete(),
    ):
        with pytest.raises((InternalError, IntegrityError, ProgrammingError)), transaction.atomic():
            write()
    transition.refresh_from_db()
    assert transition.note != "rewritten"
    since = mark()
    Application.objects.filter(pk=application.pk).update(requested_capacity_kva=1)
    record = ChangeRecord.objects.get(pk__gt=since)
    with pytest.raises((InternalError, IntegrityError, ProgrammingError)), transaction.atomic():
        ChangeRecord.objects.filter(pk=record.pk).update(changes={})
    assert ChangeRecord.objects.get(pk=record.pk).changes != {}


def test_a_user_unknown_to_the_request_is_no_one(application):
    since = mark()
    UserFactory(username="bystander")
    Application.objects.filter(pk=application.pk).update(is_important=True)
    [record] = records(Application, application.pk, since)
    assert record.actor_id is None


def test_the_application_page_shows_the_change_history(client, application, supervisor, manager):
    with acting(supervisor.pk):
        Application.objects.filter(pk=application.pk).update(requested_capacity_kva=8000)
    client.force_login(manager)
    html = client.get(f"/applications/{application.number}/").content.decode()
    assert 'id="history"' in html and "变更记录" in html
    assert "申请容量" in html.split('id="history"', 1)[1]
    assert f"<del>{application.requested_capacity_kva}</del> → <ins>8000</ins>" in html
    assert str(supervisor) in html.split('id="history"', 1)[1]


def test_auditors_export_the_trail_from_the_admin(client, admin_user, application):
    since = mark()
    clerk = UserFactory(username="=cmd|calc")
    with acting(clerk.pk):
        Application.objects.filter(pk=application.pk).update(requested_capacity_kva=4321)
    record = ChangeRecord.objects.get(pk__gt=since, table_name="applications_application")
    client.force_login(admin_user)
    response = client.post(
        "/admin/accounts/changerecord/",
        {"action": "export_csv", "_selected_action": [record.pk]},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = response.content.decode("utf-8-sig").splitlines()
    assert rows[0] == "at,table,row,action,actor,field,before,after"
    [line] = rows[1:]
    cells = line.split(",")
    assert cells[1:6] == [
        "applications_application",
        str(application.pk),
        "U",
        "'=cmd|calc",  # kept as text: a spreadsheet does not run it
        "requested_capacity_kva",
    ]
    assert cells[6:] == [str(application.requested_capacity_kva), "4321"]
    # The trail cannot be changed from the admin.
    assert client.get(f"/admin/accounts/changerecord/{record.pk}/change/").status_code == 200
    assert client.post(f"/admin/accounts/changerecord/{record.pk}/delete/").status_code == 403
