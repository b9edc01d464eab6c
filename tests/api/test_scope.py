"""Scope on every write and every field: who may create for whom, who reads a customer's
contact details (issue 16, finding 4)."""

import pytest

from accounts.roles import Role
from applications.models import Application, Customer
from tests.dates import pin_today
from tests.factories import AccountManagerProfileFactory, make_application

from .conftest import assert_problem, token_client
from .test_applications import new_application_body

pytestmark = [pytest.mark.django_db, pin_today]


def test_a_manager_may_not_assign_a_new_application_to_another_manager(
    as_manager, north, other_manager
):
    body = new_application_body(account_manager=other_manager.pk)
    problem = assert_problem(as_manager.post("/api/v1/applications/", body, format="json"), 403)
    assert (
        "Only a supervisor assigns an application to another account manager" in (problem["detail"])
    )
    assert Application.objects.count() == 0
    assert Customer.objects.count() == 0


def test_a_manager_may_name_themself_as_the_account_manager(as_manager, manager, north):
    body = new_application_body(account_manager=manager.pk)
    response = as_manager.post("/api/v1/applications/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["account_manager"]["id"] == manager.pk


def test_a_supervisor_may_assign_another_manager(as_supervisor, north, other_manager):
    body = new_application_body(account_manager=other_manager.pk)
    response = as_supervisor.post("/api/v1/applications/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["account_manager"]["id"] == other_manager.pk


def test_a_manager_may_not_register_a_new_customer_of_a_region_they_do_not_serve(
    as_manager, manager, south
):
    body = new_application_body(account_manager=manager.pk)
    body["customer"]["region"] = "south"
    problem = assert_problem(as_manager.post("/api/v1/applications/", body, format="json"), 403)
    assert "You do not serve the region 南区" in problem["detail"]
    assert Application.objects.count() == 0
    assert Customer.objects.count() == 0


def test_a_manager_may_not_file_under_another_regions_customer(
    as_manager, manager, south_application
):
    theirs = south_application.customer
    body = new_application_body(account_manager=manager.pk)
    body["customer"] = {"credit_code": theirs.credit_code}
    problem = assert_problem(as_manager.post("/api/v1/applications/", body, format="json"), 403)
    assert "belongs to a customer of a region you do not serve" in problem["detail"]
    assert Application.objects.filter(customer=theirs).count() == 1
    # ... and so never comes to read that customer's contact details.
    assert as_manager.get(f"/api/v1/customers/{theirs.pk}/").status_code == 404


@pytest.fixture
def contacted(supervisor, manager, north):
    """An application in the north whose customer has a contact person and phone."""
    application = make_application(by=supervisor, manager=manager, region=north)
    Customer.objects.filter(pk=application.customer_id).update(
        contact_name="王工", contact_phone="0571-88888888", address="杭州市某路 1 号"
    )
    return application


@pytest.mark.parametrize(
    ("role", "sees_contact"),
    [
        (Role.ADMINISTRATOR, True),
        (Role.SUPERVISOR, True),
        (Role.ACCOUNT_MANAGER, True),
        (Role.DEPARTMENT_STAFF, False),
    ],
)
def test_only_those_who_serve_a_customer_read_its_contact(clients, contacted, role, sees_contact):
    client = clients[role]
    detail = client.get(f"/api/v1/customers/{contacted.customer_id}/")
    assert detail.status_code == 200, detail.content
    listed = {row["id"]: row for row in client.get("/api/v1/customers/").json()["results"]}
    for body in (detail.json(), listed[contacted.customer_id]):
        assert body["name"] == contacted.customer.name
        assert body["credit_code"] == contacted.customer.credit_code
        assert body["address"] == "杭州市某路 1 号"  # the site staff work at
        if sees_contact:
            assert (body["contact_name"], body["contact_phone"]) == ("王工", "0571-88888888")
        else:
            assert (body["contact_name"], body["contact_phone"]) == (None, None)
            assert "0571-88888888" not in str(body)


def test_a_manager_of_the_region_reads_the_contact_and_one_of_another_region_not_at_all(
    contacted, other_manager, manager
):
    # A second manager of the north serves its customers without holding this application.
    colleague = AccountManagerProfileFactory(
        user__username="manager-n2", regions=[contacted.region]
    ).user
    body = token_client(colleague).get(f"/api/v1/customers/{contacted.customer_id}/").json()
    assert body["contact_phone"] == "0571-88888888"
    outsider = token_client(other_manager).get(f"/api/v1/customers/{contacted.customer_id}/")
    assert outsider.status_code == 404


def test_patch_of_an_application_of_another_manager_is_refused(
    as_manager, south_application, other_manager
):
    response = as_manager.patch(
        f"/api/v1/applications/{south_application.pk}/",
        {"requested_capacity_kva": 9_999},
        format="json",
        HTTP_IF_MATCH=f'"{south_application.version}"',
    )
    assert response.status_code == 404  # not theirs to read, so not theirs to change
    south_application.refresh_from_db()
    assert south_application.requested_capacity_kva == 2000


def test_a_manager_of_the_region_may_not_change_a_colleagues_application(application, north):
    colleague = AccountManagerProfileFactory(user__username="manager-n3", regions=[north]).user
    client = token_client(colleague)
    url = f"/api/v1/applications/{application.pk}/"
    assert client.get(url).status_code == 200  # the region's work is theirs to read
    response = client.patch(
        url, {"requested_capacity_kva": 3150}, format="json", HTTP_IF_MATCH='W/"1"'
    )
    assert_problem(response, 403)
    row = Application.objects.get(pk=application.pk)
    assert (row.requested_capacity_kva, row.version) == (2000, 1)
