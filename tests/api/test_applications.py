"""Applications through HTTP: list, create, read, change, transitions, for each role."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from accounts.roles import Role
from applications.models import Application, StageTransition
from scheduling.models import Activity
from tests.dates import pin_today
from tests.factories import UserFactory, credit_code, make_application

from .conftest import DAY0, ROLES, assert_problem, token_client

pytestmark = [pytest.mark.django_db, pin_today]


def numbers(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["number"] for row in response.json()["results"]}


def new_application_body(serial: int = 900, **changes) -> dict:
    body = {
        "customer": {
            "name": "杭州某某制造有限公司",
            "credit_code": credit_code(serial),
            "region": "north",
            "industry": "制造业",
            "contact_name": "王工",
            "contact_phone": "0571-88888888",
        },
        "business_type": "new",
        "customer_class": "hv_single",
        "voltage_class": "10kV",
        "requested_capacity_kva": 1250,
    }
    body.update(changes)
    return body


# --- List and scoping -------------------------------------------------------------------------


def test_each_role_lists_exactly_the_applications_it_may_read(
    clients, application, south_application
):
    both = {application.number, south_application.number}
    assert numbers(clients[Role.ADMINISTRATOR].get("/api/v1/applications/")) == both
    assert numbers(clients[Role.SUPERVISOR].get("/api/v1/applications/")) == both
    assert numbers(clients[Role.ACCOUNT_MANAGER].get("/api/v1/applications/")) == {
        application.number
    }
    # Department staff see applications with work of their department (operations).
    assert numbers(clients[Role.DEPARTMENT_STAFF].get("/api/v1/applications/")) == both


def test_staff_of_a_department_without_work_in_them_see_none(application):
    client = token_client(UserFactory(username="nobody", role=Role.DEPARTMENT_STAFF))
    assert numbers(client.get("/api/v1/applications/")) == set()


def test_filters_narrow_the_list(as_supervisor, application, south_application, manager):
    def listed(query):
        return numbers(as_supervisor.get("/api/v1/applications/" + query))

    assert listed("?region=north") == {application.number}
    assert listed(f"?manager={manager.pk}") == {application.number}
    assert listed("?state=consultation&state=survey") == {
        application.number,
        south_application.number,
    }
    assert listed("?state=energized") == set()
    assert listed("?customer_class=hv_single&voltage_class=10kV") == {
        application.number,
        south_application.number,
    }
    assert listed("?customer_class=hv_dual") == set()
    assert listed("?created_after=2026-03-02&created_before=2026-03-02") == {
        application.number,
        south_application.number,
    }
    assert listed("?created_after=2026-03-03") == set()
    committed = application.committed_finish_date.isoformat()
    assert len(listed(f"?committed_after={committed}&committed_before={committed}")) == 2
    assert listed("?committed_before=2026-03-01") == set()
    assert listed("?deviation=red") == set()
    assert listed("?unassigned=true") == set()
    # A fragment with the dash: the digits alone also occur in credit codes.
    assert listed(f"?search={application.number[-7:]}") == {application.number}
    assert listed(f"?search={application.customer.credit_code}") == {application.number}
    assert listed(f"?search={application.customer.name}") == {application.number}


def test_the_department_filter_keeps_applications_with_unfinished_work_of_it(
    as_supervisor, application
):
    from accounts.models import Department

    metering = Department.objects.get(code="metering")
    assert numbers(as_supervisor.get(f"/api/v1/applications/?department={metering.pk}")) == {
        application.number
    }


def test_invalid_filter_values_are_400(as_supervisor):
    body = assert_problem(as_supervisor.get("/api/v1/applications/?state=nonsense"), 400)
    assert list(body["errors"]) == ["state"]
    assert_problem(as_supervisor.get("/api/v1/applications/?created_after=yesterday"), 400)
    assert_problem(as_supervisor.get("/api/v1/applications/?manager=x"), 400)


def test_ordering_and_page_size_capped_at_200(as_supervisor, supervisor, manager):
    made = [make_application(by=supervisor, manager=manager) for _ in range(3)]
    response = as_supervisor.get("/api/v1/applications/?ordering=number&page_size=2")
    body = response.json()
    assert body["count"] == 3
    assert [r["number"] for r in body["results"]] == sorted(a.number for a in made)[:2]
    assert body["next"].endswith("page=2&page_size=2") or "page=2" in body["next"]
    descending = as_supervisor.get("/api/v1/applications/?ordering=-number").json()
    assert descending["results"][0]["number"] == max(a.number for a in made)
    capped = as_supervisor.get("/api/v1/applications/?page_size=1000")
    assert capped.status_code == 200
    from applications.api import ApplicationListCreate

    assert ApplicationListCreate.pagination_class.max_page_size == 200
    assert_problem(as_supervisor.get("/api/v1/applications/?page=9"), 404)


def test_the_page_size_is_capped_at_200_rows(as_supervisor, supervisor, manager):
    from applications.models import Application as Model

    template_application = make_application(by=supervisor, manager=manager)
    # Copies share the customer and the plan: only the list is under test here.
    fields = {
        f.name: getattr(template_application, f.name)
        for f in Model._meta.concrete_fields
        if f.name not in {"id", "number", "state"}
    }
    Model.objects.bulk_create(Model(**fields, number=f"YK-2099-{n:06d}") for n in range(205))
    body = as_supervisor.get("/api/v1/applications/?page_size=500").json()
    assert body["count"] == 206
    assert len(body["results"]) == 200


# --- Create -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.SUPERVISOR, Role.ACCOUNT_MANAGER])
def test_managers_and_supervisors_create_an_application(clients, role, north, manager):
    response = clients[role].post("/api/v1/applications/", new_application_body(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    application = Application.objects.get(pk=body["id"])
    assert body["number"] == application.number
    assert body["state"] == "consultation"
    assert body["customer"]["credit_code"] == credit_code(900)
    assert body["region"] == {"code": "north", "name": "北区"}
    assert response["ETag"] == f'W/"{application.version}"'
    assert response["Location"].endswith(f"/api/v1/applications/{application.pk}/")
    assert body["committed_finish_date"] == application.committed_finish_date.isoformat()
    assert StageTransition.objects.filter(application=application, transition="create").exists()


def test_department_staff_may_not_create(clients, north):
    response = clients[Role.DEPARTMENT_STAFF].post(
        "/api/v1/applications/", new_application_body(), format="json"
    )
    assert_problem(response, 403)


def test_create_with_a_named_manager_and_a_day_of_acceptance(as_supervisor, north, manager):
    body = new_application_body(account_manager=manager.pk, accepted_on="2026-03-02")
    response = as_supervisor.post("/api/v1/applications/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["account_manager"]["id"] == manager.pk
    assert response.json()["start_date"] == "2026-03-02"


def test_create_refuses_an_unknown_region_and_a_future_day(as_supervisor, north):
    body = new_application_body(accepted_on="2099-01-01")
    body["customer"]["region"] = "atlantis"
    response = as_supervisor.post("/api/v1/applications/", body, format="json")
    problem = assert_problem(response, 400)
    assert problem["errors"] == {"accepted_on": ["The day of acceptance cannot be in the future."]}
    del body["accepted_on"]
    problem = assert_problem(as_supervisor.post("/api/v1/applications/", body, format="json"), 400)
    assert problem["errors"] == {"customer.region": ["Choose an existing service region."]}
    assert Application.objects.count() == 0


# --- Read and change --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_that_sees_it_reads_an_application_with_its_etag(clients, role, application):
    response = clients[role].get(f"/api/v1/applications/{application.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert response["ETag"] == 'W/"1"'
    assert body["version"] == 1
    assert body["state_label"] == "Consultation"
    assert body["account_manager"]["username"] == "manager-t"
    assert body["forecast_finish_date"] == application.forecast_finish_date.isoformat()
    assert body["total_float"] == application.total_float
    assert body["open_red_deviation"] is False
    assert body["time_limit_status"] == "ok"


def test_the_list_filters_by_time_limit_status(as_supervisor, application, south_application):
    Application.objects.filter(pk=south_application.pk).update(time_limit_status="exceeded")

    def listed(query):
        return numbers(as_supervisor.get("/api/v1/applications/" + query))

    assert listed("?time_limit_status=exceeded") == {south_application.number}
    assert listed("?time_limit_status=ok&time_limit_status=warning") == {application.number}
    rows = as_supervisor.get("/api/v1/applications/?time_limit_status=exceeded").json()
    assert rows["results"][0]["time_limit_status"] == "exceeded"
    assert_problem(as_supervisor.get("/api/v1/applications/?time_limit_status=overdue"), 400)


def test_patch_changes_the_editable_fields_and_the_etag(as_manager, application):
    response = as_manager.patch(
        f"/api/v1/applications/{application.pk}/",
        {"is_important": True, "requested_capacity_kva": 3150},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] == 'W/"2"'
    row = Application.objects.get(pk=application.pk)
    assert (row.is_important, row.requested_capacity_kva, row.version) == (True, 3150, 2)


def test_patch_accepts_a_strong_etag_too(as_manager, application):
    response = as_manager.patch(
        f"/api/v1/applications/{application.pk}/",
        {"is_important": True},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 200


def test_patch_refuses_fields_that_are_not_editable(as_manager, application):
    response = as_manager.patch(
        f"/api/v1/applications/{application.pk}/",
        {"state": "energized", "committed_finish_date": "2026-03-03"},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    problem = assert_problem(response, 400)
    assert problem["errors"] == {
        "committed_finish_date": ["This field cannot be changed here."],
        "state": ["This field cannot be changed here."],
    }
    assert Application.objects.get(pk=application.pk).state == "consultation"


def test_department_staff_may_read_but_not_change(as_staff, application):
    response = as_staff.patch(
        f"/api/v1/applications/{application.pk}/",
        {"is_important": True},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    assert_problem(response, 403, detail=f"You may not change {application.number}.")


def test_put_and_delete_are_not_offered(as_supervisor, application):
    assert_problem(as_supervisor.delete(f"/api/v1/applications/{application.pk}/"), 405)
    assert Application.objects.filter(pk=application.pk).exists()


# --- Transitions ------------------------------------------------------------------------------


def test_transitions_say_what_is_possible_now_and_why_not(as_manager, as_staff, application):
    body = as_manager.get(f"/api/v1/applications/{application.pk}/transitions/").json()
    by_name = {t["transition"]: t for t in body["transitions"]}
    assert set(by_name) == {"start_survey", "suspend", "cancel"}
    assert by_name["suspend"] == {
        "transition": "suspend",
        "label": "Suspend",
        "available": True,
        "reasons": [],
    }
    assert by_name["start_survey"]["available"] is False
    assert by_name["start_survey"]["reasons"][0].startswith("The work of this stage")
    staff_view = as_staff.get(f"/api/v1/applications/{application.pk}/transitions/").json()
    staff_cancel = next(t for t in staff_view["transitions"] if t["transition"] == "cancel")
    assert staff_cancel["available"] is False
    assert staff_cancel["reasons"] == [f"You may not apply “Cancel” to {application.number}."]


def test_a_transition_needs_its_reason(as_manager, application):
    response = as_manager.post(
        f"/api/v1/applications/{application.pk}/transitions/",
        {"transition": "suspend"},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    assert_problem(response, 400, errors={"note": ["Give the reason for “Suspend”."]})


def test_a_transition_the_user_may_not_apply_is_403(as_staff, application):
    response = as_staff.post(
        f"/api/v1/applications/{application.pk}/transitions/",
        {"transition": "cancel", "note": "x"},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    assert_problem(response, 403)
    assert Application.objects.get(pk=application.pk).state == "consultation"


def test_an_unknown_transition_is_400(as_manager, application):
    response = as_manager.post(
        f"/api/v1/applications/{application.pk}/transitions/",
        {"transition": "teleport"},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    problem = assert_problem(response, 400)
    assert list(problem["errors"]) == ["transition"]


def _working_days_from(day: date, count: int) -> list[date]:
    from scheduling.selectors import working_calendar

    calendar = working_calendar()
    return [calendar.offset_to_date(day, n) for n in range(count)]


def test_an_integrator_follows_an_application_to_energized(north, manager):
    """Create, record every activity, move stage by stage, read the schedule: all by HTTP."""
    integrator = UserFactory(username="marketing-system", role=Role.SUPERVISOR)
    client = token_client(integrator)
    created = client.post(
        "/api/v1/applications/",
        new_application_body(account_manager=manager.pk, accepted_on=str(DAY0)),
        format="json",
        HTTP_IDEMPOTENCY_KEY="create-1",
    )
    assert created.status_code == 201, created.content
    url = created["Location"]
    etag = created["ETag"]
    schedule = client.get(url + "schedule/").json()
    order = sorted(schedule["activities"], key=lambda a: (a["forecast"]["es"], a["code"]))
    days = _working_days_from(DAY0, len(order))
    for activity, day in zip(order, days, strict=True):
        response = client.patch(
            url + f"activities/{activity['code']}/",
            {"actual_start": str(day), "actual_finish": str(day)},
            format="json",
            HTTP_IF_MATCH=etag,
        )
        assert response.status_code == 200, (activity["code"], response.content)
        etag = response["ETag"]
    for transition in [
        "start_survey",
        "start_design",
        "start_fees",
        "start_construction",
        "start_energization",
        "energize",
    ]:
        response = client.post(
            url + "transitions/",
            {"transition": transition},
            format="json",
            HTTP_IF_MATCH=etag,
            HTTP_IDEMPOTENCY_KEY=f"{transition}-1",
        )
        assert response.status_code == 200, (transition, response.content)
        etag = response["ETag"]
    final = client.get(url).json()
    assert final["state"] == "energized"
    assert final["energized_at"] is not None
    done = client.get(url + "schedule/").json()
    assert {a["status"] for a in done["activities"]} == {"finished"}
    assert (
        Activity.objects.filter(application_id=final["id"], actual_finish__isnull=True)
        .filter(is_dummy=False)
        .count()
        == 0
    )


def test_session_authentication_needs_the_csrf_token(manager, application, password):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=manager.username, password=password)
    assert client.get(f"/api/v1/applications/{application.pk}/").status_code == 200
    response = client.patch(
        f"/api/v1/applications/{application.pk}/",
        {"is_important": True},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    problem = assert_problem(response, 403)
    assert "CSRF" in problem["detail"]
