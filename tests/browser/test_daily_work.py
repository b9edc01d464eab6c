"""A normal day in the browser: an account manager accepts applications at the counter and
prints the receipt; department staff finish their work from the to-do list."""

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from applications import services
from scheduling.models import Activity
from scheduling.selectors import working_calendar
from tests.factories import (
    AccountManagerProfileFactory,
    RegionFactory,
    UserFactory,
    make_application,
)

pytestmark = [
    pytest.mark.usefixtures("meetings_when_ready"),
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def desk():
    region = RegionFactory(code="xihu", name="西湖供电区")
    profile = AccountManagerProfileFactory(user__username="zhangmin", user__display_name="张敏")
    profile.regions.set([region])
    return profile.user, region


@time_machine.travel("2026-03-18 10:00 +0800", tick=True)
def test_survey_staff_finish_an_activity_from_their_to_do_list(page, login, screenshot, desk):
    manager, region = desk
    supervisor = UserFactory(username="wangjg", role=Role.SUPERVISOR)
    surveyor = UserFactory(
        username="zhoutao",
        display_name="周涛",
        role=Role.DEPARTMENT_STAFF,
        department_code="operations",
    )
    today = timezone.localdate()
    application = make_application(
        by=supervisor,
        manager=manager,
        region=region,
        customer_class="lv_non_residential",
        voltage_class="0.4kV",
        accepted_on=working_calendar().add_working_days(today, -5),
    )
    day = application.start_date
    for code in "ABC":
        activity = Activity.objects.get(application=application, code=code)
        services.activity_progress_record(
            activity_id=activity.pk, start=day, finish=day, by=manager, today=today
        )
    survey = Activity.objects.get(application=application, code="E")

    login(page, surveyor)
    expect(page.locator("#todo-count")).to_have_text("1")
    page.click(".mainnav >> text=待办")
    row = page.locator(f"#todo-{survey.pk}")
    expect(row).to_contain_text("配套表箱及接户线工程")
    expect(row).to_contain_text("可开始")
    screenshot(page, "todo-department")
    row.locator("button[value=finish]").click()
    expect(page.locator(".messages")).to_contain_text("今天完成。预测已更新。")
    expect(page.locator(f"#todo-{survey.pk}")).to_have_count(0)
    expect(page.locator("#todo-activities-empty")).to_be_visible()
    survey.refresh_from_db()
    assert survey.actual_finish == today
    assert page.url.endswith("/todo/")
