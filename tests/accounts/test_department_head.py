"""部门领导 (department head): answers for its department's work and sees its row of the
assessment; assigns nobody."""

from datetime import date

import pytest
from django.utils import timezone

from accounts.roles import Role
from applications import services
from applications.selectors import visible_applications
from scheduling.models import Deviation
from tests.dates import pin_today
from tests.factories import AccountManagerProfileFactory, UserFactory, make_application
from yekuo.errors import NotPermitted

pytestmark = [pytest.mark.django_db, pin_today]

DAY0 = date(2026, 3, 2)


@pytest.fixture
def head(db):
    # 调控中心 has work only in the 35 kV template.
    return UserFactory(
        username="dispatch-head", role=Role.DEPARTMENT_HEAD, department_code="dispatch"
    )


@pytest.fixture
def applications(supervisor, manager):
    return {
        "35kV": make_application(
            by=supervisor, manager=manager, voltage_class="35kV", accepted_on=DAY0
        ),
        "10kV": make_application(by=supervisor, manager=manager, accepted_on=DAY0),
    }


def open_deviation(application, department_code):
    activity = application.activities.filter(department__code=department_code).first()
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
        critical=True,
        total_slip=2,
        successor_slip=2,
        commitment_overrun=2,
        severity="red",
    )


def test_the_head_reads_the_work_of_its_department_only(client, head, applications):
    assert set(visible_applications(head)) == {applications["35kV"]}
    client.force_login(head)
    assert client.get(f"/applications/{applications['35kV'].number}/").status_code == 200
    assert client.get(f"/applications/{applications['10kV'].number}/").status_code == 404


# An answer to a deviation: its cause, the action planned and when it is due.
ANSWER = {
    "cause": "materials",
    "planned_action": "催促物资到货",
    "action_due": date(2026, 12, 31),
    "today": date(2026, 12, 1),
}


def test_the_head_acknowledges_its_departments_deviation_not_another(head, applications):
    own = open_deviation(applications["35kV"], "dispatch")
    services.deviation_acknowledge(deviation_id=own.pk, by=head, **ANSWER)
    own.refresh_from_db()
    assert (own.status, own.acknowledged_by) == ("acknowledged", head)
    other = open_deviation(applications["35kV"], "metering")
    with pytest.raises(NotPermitted):
        services.deviation_acknowledge(deviation_id=other.pk, by=head, **ANSWER)
    other.refresh_from_db()
    assert other.status == "open"


def test_the_head_assigns_no_account_manager(head, applications):
    colleague = AccountManagerProfileFactory(user__username="colleague-h").user
    with pytest.raises(NotPermitted):
        services.application_reassign(
            application_id=applications["35kV"].pk, manager=colleague, reason="调整", by=head
        )
    applications["35kV"].refresh_from_db()
    assert applications["35kV"].account_manager != colleague


def test_the_head_sees_the_assessment_row_of_its_department_only(
    client, head, staff, applications, django_assert_max_num_queries
):
    client.force_login(staff)
    assert client.get("/assessment/").status_code == 403
    client.force_login(head)
    client.get("/assessment/")
    with django_assert_max_num_queries(16):
        response = client.get("/assessment/", {"start": "2026-01-01", "end": "2026-11-27"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<tr data-key="{head.department_id}">' in html
    assert html.count("<tr data-key=") == 1
    assert 'id="assessment-managers"' not in html and 'id="assessment-customer"' not in html
    rows = client.get("/assessment/export.csv").content.decode("utf-8-sig").splitlines()
    # The period, the header and the department's row.
    assert len(rows) == 3 and rows[2].startswith("部门,调控中心,")
