"""A supervisor's journey on the dashboard, in Chromium: filter to red, reassign."""

import pytest

from accounts.roles import Role
from applications.models import AssignmentChange
from tests.factories import AccountManagerProfileFactory, UserFactory, make_application
from tests.pages.conftest import open_deviation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk():
    supervisor = UserFactory(username="wangjg", display_name="王建国", role=Role.SUPERVISOR)
    zhang = AccountManagerProfileFactory(user__username="zhangmin", user__display_name="张敏")
    li = AccountManagerProfileFactory(user__username="liqiang", user__display_name="李强")
    late = make_application(by=supervisor, manager=zhang.user)
    slow = make_application(by=supervisor, manager=zhang.user)
    fine = make_application(by=supervisor, manager=li.user)
    waiting = make_application(by=supervisor, manager=None, region=late.region)
    li.regions.set([late.region])  # li may take them: automatic assignment's checks hold
    open_deviation(late, "F", severity="red", delay=4)
    open_deviation(slow, "J", severity="amber", delay=2)
    open_deviation(fine, "E", severity="info", delay=1)
    return {
        "supervisor": supervisor,
        "zhang": zhang.user,
        "li": li.user,
        "late": late,
        "waiting": waiting,
    }


def test_a_supervisor_filters_to_red_and_reassigns(page, login, screenshot, desk):
    login(page, desk["supervisor"])
    assert page.locator("h1").inner_text() == "工作台"
    assert page.locator("#application-table tbody tr").count() == 4
    screenshot(page, "workspace")

    page.click("nav.mainnav >> text=偏差看板")
    page.wait_for_url("**/dashboard/")
    assert page.locator("#kpi-red .value").inner_text() == "1"
    assert page.locator("#deviation-table tbody tr").count() == 3

    # htmx refreshes the table when the filter changes.
    page.select_option("#id_severity", "red")
    page.wait_for_url("**/dashboard/?*severity=red*")
    rows = page.locator("#deviation-table tbody tr")
    assert rows.count() == 1
    assert desk["late"].number in rows.first.inner_text()
    screenshot(page, "dashboard")

    rows.first.locator("a.reassign-link").click()
    page.wait_for_url(f"**/dashboard/?*severity=red*reassign={desk['late'].number}*")
    assert page.locator("#id_reassign_application").input_value() == desk["late"].number
    page.select_option("#id_reassign_manager", str(desk["li"].pk))
    page.fill("#id_reassign_reason", "张敏休假，转李强跟进")
    page.click("#reassign button[type=submit]")
    # Back to the list as it was filtered.
    page.wait_for_url("**/dashboard/?*severity=red*")
    assert f"{desk['late'].number} 已改由 李强 负责。" in page.locator(".messages").inner_text()

    change = AssignmentChange.objects.get(application=desk["late"])
    assert (change.from_manager, change.to_manager, change.by) == (
        desk["zhang"],
        desk["li"],
        desk["supervisor"],
    )
    row = page.locator("#deviation-table tbody tr", has_text=desk["late"].number)
    assert "李强" in row.inner_text()

    # The queue's buttons share one form (its CSRF token outside the cached rows).
    waiting = desk["waiting"]
    page.locator(f"#unassigned tr[data-number='{waiting.number}'] button").click()
    page.wait_for_url("**/dashboard/")
    assert "已分派客户经理。" in page.locator(".messages").inner_text()
    waiting.refresh_from_db()
    assert waiting.account_manager == desk["li"]
    assert page.locator(f"#unassigned tr[data-number='{waiting.number}']").count() == 0
