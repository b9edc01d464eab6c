import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role

NAV = re.compile(r'<nav class="mainnav".*?</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"[^>]*>([^<]+)</a>')

FOLLOW_UPS = ("/follow-ups/", "问责事项")  # everyone: their own items, supervisors all
TODO = ("/todo/", "待办")  # whoever records work or answers for applications

EXPECTED = {
    Role.ADMINISTRATOR: [
        ("/", "工作台"),
        TODO,
        ("/dashboard/", "偏差看板"),
        ("/assessment/", "考核"),
        FOLLOW_UPS,
        ("/admin/", "系统管理"),
    ],
    Role.SUPERVISOR: [
        ("/", "工作台"),
        ("/dashboard/", "偏差看板"),
        ("/assessment/", "考核"),
        FOLLOW_UPS,
    ],
    Role.ACCOUNT_MANAGER: [("/", "工作台"), TODO, FOLLOW_UPS],
    Role.DEPARTMENT_STAFF: [("/", "工作台"), TODO, FOLLOW_UPS],
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_only_its_navigation(client, role_users, role):
    client.force_login(role_users[role])
    html = client.get("/").content.decode()
    assert LINK.findall(NAV.search(html).group(0)) == EXPECTED[role]


def test_a_page_reads_the_roles_of_its_user_once(client, role_users):
    """The two-step sign-in's check, the navigation and the workspace all ask for the
    user's roles: one query answers them all."""
    client.force_login(role_users[Role.ACCOUNT_MANAGER])
    with CaptureQueriesContext(connection) as captured:
        html = client.get("/").content.decode()
    assert "客户经理" in html
    groups = [
        q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "auth_group"')
    ]
    assert len(groups) == 1


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.ADMINISTRATOR, 200),
        (Role.SUPERVISOR, 200),
        (Role.ACCOUNT_MANAGER, 403),
        (Role.DEPARTMENT_STAFF, 403),
    ],
)
def test_dashboard_is_only_for_supervisors_and_administrators(client, role_users, role, status):
    client.force_login(role_users[role])
    assert client.get("/dashboard/").status_code == status


def test_dashboard_lists_account_managers_with_capacity(client, supervisor, manager):
    client.force_login(supervisor)
    html = client.get("/dashboard/").content.decode()
    assert str(manager) in html
    assert "营销部/客户服务中心" in html
    assert "10kV" in html


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ACCOUNT_MANAGER, Role.DEPARTMENT_STAFF])
def test_only_administrators_reach_the_admin(client, role_users, role):
    client.force_login(role_users[role])
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(
        "/admin/login/?next=/admin/"
    )


def test_workspace_shows_the_managers_profile(client, manager):
    client.force_login(manager)
    html = client.get("/").content.decode()
    assert 'id="account-manager-profile"' in html
    assert "客户经理" in html and "10kV" in html


def test_workspace_of_staff_shows_their_department(client, staff):
    client.force_login(staff)
    html = client.get("/").content.decode()
    assert "运维检修部" in html and "部门人员" in html
    assert 'id="account-manager-profile"' not in html
