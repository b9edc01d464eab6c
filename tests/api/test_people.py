"""Customers, account managers, departments, templates and notifications through HTTP."""

import pytest

from accounts.models import Notification, NotificationKind
from accounts.roles import Role
from scheduling.models import NetworkTemplate

from .conftest import assert_problem, token_client

pytestmark = pytest.mark.django_db


def test_customers_are_scoped_like_their_applications(clients, application, south_application):
    def names(role):
        response = clients[role].get("/api/v1/customers/")
        assert response.status_code == 200
        return {row["name"] for row in response.json()["results"]}

    both = {application.customer.name, south_application.customer.name}
    assert names(Role.SUPERVISOR) == both
    assert names(Role.ADMINISTRATOR) == both
    assert names(Role.ACCOUNT_MANAGER) == {application.customer.name}
    assert names(Role.DEPARTMENT_STAFF) == both
    body = clients[Role.ACCOUNT_MANAGER].get(f"/api/v1/customers/{application.customer_id}/")
    assert body.json()["credit_code"] == application.customer.credit_code
    assert body.json()["region"] == {"code": "north", "name": "北区"}


def test_a_manager_sees_the_customers_of_the_regions_served(manager, north, supervisor):
    from tests.factories import make_application

    elsewhere = make_application(by=supervisor, manager=None, region=north)
    names = {
        row["name"] for row in token_client(manager).get("/api/v1/customers/").json()["results"]
    }
    assert elsewhere.customer.name in names


def test_account_managers_with_load_and_capacity(clients, application, manager, other_manager):
    rows = clients[Role.SUPERVISOR].get("/api/v1/account-managers/").json()
    by_name = {row["username"]: row for row in rows}
    assert set(by_name) >= {manager.username, other_manager.username}
    assert by_name[manager.username]["load"] == 1
    assert by_name[manager.username]["capacity"] == 20
    assert by_name[manager.username]["free"] == 19
    assert by_name[manager.username]["regions"] == ["north"]
    own = clients[Role.ACCOUNT_MANAGER].get("/api/v1/account-managers/").json()
    assert [row["username"] for row in own] == [manager.username]
    assert clients[Role.DEPARTMENT_STAFF].get("/api/v1/account-managers/").json() == []


def test_departments_and_templates_are_read_by_everyone(clients):
    for client in clients.values():
        departments = client.get("/api/v1/departments/").json()["results"]
        assert "metering" in {d["code"] for d in departments}
        templates = client.get("/api/v1/network-templates/").json()
        assert templates["count"] == NetworkTemplate.objects.count()
    template = NetworkTemplate.objects.filter(customer_class="hv_single").first()
    body = clients[Role.DEPARTMENT_STAFF].get(f"/api/v1/network-templates/{template.pk}/").json()
    assert body["code"] == template.code
    assert [a["code"] for a in body["activities"] if not a["is_dummy"]][0] == "A"
    assert_problem(clients[Role.SUPERVISOR].get("/api/v1/network-templates/99999/"), 404)


def test_templates_are_read_only(clients):
    assert_problem(
        clients[Role.ADMINISTRATOR].post("/api/v1/network-templates/", {}, format="json"), 405
    )


def test_notifications_are_mine_and_marked_read(manager, supervisor, application):
    kind = NotificationKind.ESCALATION
    mine = Notification.objects.create(recipient=manager, kind=kind, text="给我的")
    theirs = Notification.objects.create(recipient=supervisor, kind=kind, text="给主管的")
    client = token_client(manager)
    rows = client.get("/api/v1/notifications/").json()["results"]
    assert [row["id"] for row in rows if row["kind"] == "escalation"] == [mine.pk]
    response = client.post(
        "/api/v1/notifications/mark-read/", {"ids": [mine.pk, theirs.pk]}, format="json"
    )
    assert response.json() == {"marked": 1}
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.is_read, theirs.is_read) == (True, False)
    assert_problem(client.post("/api/v1/notifications/mark-read/", {"ids": []}, format="json"), 400)
