import pytest

from accounts.roles import Role
from tests.factories import PASSWORD, AccountManagerProfileFactory, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _sign_in(page, username, password):
    page.goto("/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")


def test_account_manager_signs_in_sees_the_workspace_and_signs_out(page):
    user = AccountManagerProfileFactory(user__username="zhangmin", user__display_name="张敏").user
    _sign_in(page, user.username, "not-the-password")
    assert page.locator("#login-errors").inner_text().splitlines()[0] == "用户名或密码不正确。"

    _sign_in(page, user.username, PASSWORD)
    page.wait_for_url("**/")
    assert page.locator("h1").inner_text() == "工作台"
    assert page.locator("nav.mainnav a").all_inner_texts() == ["工作台", "待办", "问责事项"]
    assert "张敏" in page.locator(".toolbar .who").inner_text()

    page.select_option("#language-select", "en")
    page.click(".langswitch button")
    assert page.locator("h1").inner_text() == "Workspace"

    page.click(".toolbar button.link")
    page.wait_for_url("**/accounts/login/")
    assert page.locator("h1").inner_text() == "Sign in"


def test_supervisor_reaches_the_dashboard_from_the_navigation(page):
    UserFactory(username="wangjg", display_name="王建国", role=Role.SUPERVISOR)
    AccountManagerProfileFactory(user__display_name="李强", capacity=16)
    _sign_in(page, "wangjg", PASSWORD)
    page.click("nav.mainnav >> text=偏差看板")
    page.wait_for_url("**/dashboard/")
    row = page.locator("#managers table.table tbody tr", has_text="李强")
    assert row.locator("td.num").last.inner_text() == "16"  # load, then capacity


def test_a_404_and_a_403_render_in_the_layout_with_a_way_back(page):
    AccountManagerProfileFactory(user__username="liuyang", user__display_name="刘洋")
    _sign_in(page, "liuyang", PASSWORD)
    page.wait_for_url("**/")

    answer = page.goto("/applications/YK-1999-000001/")
    assert answer.status == 404
    assert page.locator("#error-title").inner_text() == "找不到页面"
    assert page.locator("nav.mainnav a").all_inner_texts() == ["工作台", "待办", "问责事项"]

    answer = page.goto("/admin/")
    assert answer.status == 403
    assert page.locator("#error-title").inner_text() == "无权操作"
    assert page.locator("#error-message").inner_text() == "系统管理仅限管理员使用。"
    page.click("#error-home")
    page.wait_for_url("**/")
    assert page.locator("h1").inner_text() == "工作台"
