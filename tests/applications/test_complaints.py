"""Customer complaints (客户投诉): recorded on the application page and through the API,
counted in the assessment of the account manager and the handling department."""

from datetime import date

import pytest

from accounts.models import Department
from accounts.roles import Role
from applications import services
from applications.kpi import assessment
from applications.models import Complaint
from tests.api.conftest import assert_problem, token_client
from tests.applications.test_application_page import messages_of, page_url
from tests.dates import TODAY, pin_today
from tests.factories import AccountManagerProfileFactory, UserFactory, make_application

pytestmark = [pytest.mark.django_db, pin_today]

DAY0 = date(2026, 3, 2)


@pytest.fixture
def application(supervisor, manager):
    return make_application(by=supervisor, manager=manager, accepted_on=DAY0)


def complain(client, application, **changes):
    data = {
        "channel": "hotline",
        "category": "delay",
        "received_on": "2026-11-20",
        "text": "装表接电迟迟未安排",
        "substantiated": "on",
        "department": Department.objects.get(code="metering").pk,
        "outcome": "已协调计量中心 11 月 24 日装表",
        **changes,
    }
    return client.post(page_url(application, "complaints/"), data, follow=True)


def test_a_complaint_recorded_on_the_page_is_stored_and_listed(client, application, manager):
    client.force_login(manager)
    response = complain(client, application)
    assert messages_of(response) == ["投诉已记录。"]
    row = Complaint.objects.get(application=application)
    assert (row.channel, row.category, row.received_on, row.substantiated) == (
        "hotline",
        "delay",
        date(2026, 11, 20),
        True,
    )
    assert row.department.code == "metering" and row.recorded_by == manager
    html = client.get(page_url(application)).content.decode()
    listed = html.split('id="complaint-list"')[1].split("</table>")[0]
    assert "装表接电迟迟未安排" in listed and "95598 热线" in listed and "计量中心" in listed


def test_bad_input_is_refused_beside_its_field_and_nothing_is_stored(client, application, manager):
    client.force_login(manager)

    def error_of(response, field):
        html = response.content.decode()
        found = html.split(f'id="id_complaint_{field}-error">')
        return found[1].split("</p>")[0] if len(found) > 1 else None

    response = complain(client, application, text="  ")
    assert response.status_code == 200
    assert error_of(response, "text") == "该字段是必填项。"
    response = complain(client, application, received_on="2026-11-28")
    assert error_of(response, "received_on") == "投诉的受理日期不能晚于今天。"
    assert error_of(response, "text") is None
    # The typed values are kept.
    assert "装表接电迟迟未安排" in response.content.decode()
    assert not Complaint.objects.exists()


def test_with_many_people_the_handler_is_typed_by_name(client, application, manager, monkeypatch):
    from accounts import forms as accounts_forms

    monkeypatch.setattr(accounts_forms, "PERSON_SELECT_MAX", 1)
    handler = UserFactory(username="jl-handler", display_name="钱七")
    client.force_login(manager)
    html = client.get(page_url(application)).content.decode()
    field = html.split('id="id_complaint_handled_by"')[0].rsplit("<", 1)[1]
    assert field.startswith('input type="text" name="handled_by"')
    assert '<select name="handled_by"' not in html

    response = complain(client, application, handled_by="钱六")
    error = response.content.decode().split('id="id_complaint_handled_by-error">')[1]
    assert error.split("</p>")[0] == "这里没有名为“钱六”的人员。"
    assert not Complaint.objects.exists()
    complain(client, application, handled_by="钱七")
    assert Complaint.objects.get(application=application).handled_by == handler


def test_department_staff_may_read_but_not_record(client, application):
    staff = UserFactory(username="jl-staff", role=Role.DEPARTMENT_STAFF, department_code="metering")
    client.force_login(staff)
    response = complain(client, application)
    assert response.status_code == 200
    assert messages_of(response) == ["只有客户经理或分管领导可以记录投诉。"]
    assert not Complaint.objects.exists()


def test_the_api_records_and_lists_complaints(application, manager):
    api = token_client(manager)
    url = f"/api/v1/applications/{application.pk}/complaints/"
    response = api.post(
        url,
        {
            "channel": "online",
            "category": "service",
            "text": "Nobody answered for a week.",
            "received_on": "2026-11-02",
            "department": "marketing",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["department"] == "marketing"
    assert response.json()["substantiated"] is False
    listed = api.get(url).json()
    assert [(c["channel"], c["received_on"]) for c in listed] == [("online", "2026-11-02")]


def test_the_api_refuses_bad_input_with_a_message_per_field(application, manager):
    api = token_client(manager)
    url = f"/api/v1/applications/{application.pk}/complaints/"
    body = {"channel": "fax", "category": "delay", "text": "x", "received_on": "2026-11-02"}
    problem = assert_problem(api.post(url, body, format="json"), 400)
    assert list(problem["errors"]) == ["channel"]
    body = {**body, "channel": "online", "received_on": "2026-12-01"}
    assert_problem(
        api.post(url, body, format="json"),
        400,
        errors={"received_on": ["A complaint cannot be received in the future."]},
    )
    assert not Complaint.objects.exists()


def test_complaints_count_for_the_manager_and_the_handling_department(
    application, manager, supervisor
):
    colleague = AccountManagerProfileFactory(user__username="colleague-c").user
    other = make_application(by=supervisor, manager=colleague, accepted_on=DAY0)
    metering = Department.objects.get(code="metering")
    marketing = Department.objects.get(code="marketing")

    def record(app, received_on, department, substantiated):
        services.complaint_record(
            application_id=app.pk,
            channel="hotline",
            category="delay",
            text="投诉",
            received_on=received_on,
            substantiated=substantiated,
            department=department,
            by=supervisor,
            today=TODAY,
        )

    record(application, date(2026, 11, 2), metering, True)
    record(application, date(2026, 11, 9), marketing, False)
    record(other, date(2026, 11, 16), metering, False)
    record(application, date(2026, 10, 31), metering, True)  # before the period

    result = assessment(start=date(2026, 11, 1), end=date(2026, 11, 30))
    managers = {row.key: row for row in result.managers}
    departments = {row.key: row for row in result.departments}

    def counts(row):
        return (row.complaints, row.complaints_substantiated)

    # The manager: the two of November about their application, one substantiated.
    assert counts(managers[manager.pk]) == (2, 1)
    assert counts(managers[colleague.pk]) == (1, 0)
    # 计量中心 handled two in November (one substantiated), 营销部 one.
    assert counts(departments[metering.pk]) == (2, 1)
    assert counts(departments[marketing.pk]) == (1, 0)
    assert counts(departments[Department.objects.get(code="planning").pk]) == (0, 0)
