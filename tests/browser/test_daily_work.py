"""A normal day in the browser: an account manager accepts applications at the counter and
prints the receipt; department staff finish their work from the to-do list."""

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from applications import services
from applications.models import Application, Document
from scheduling.models import Activity
from scheduling.selectors import working_calendar
from tests.factories import (
    AccountManagerProfileFactory,
    RegionFactory,
    UserFactory,
    credit_code,
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


def settled(page):
    """Wait until the form's live preview has answered (htmx marks a running request)."""
    # A function, not an expression: Playwright evaluates an expression with eval(), which
    # the page's Content-Security-Policy refuses.
    page.wait_for_function("() => !document.querySelector('#acceptance-form.htmx-request')")


def accept(page, *, code, business_type="new", customer_class="hv_single", voltage="10kV"):
    """Open the acceptance form from the workspace and type the customer's credit code."""
    page.goto("/")
    page.click("#accept-new")
    page.wait_for_url("**/applications/new/")
    page.fill("#id_credit_code", code)
    page.press("#id_credit_code", "Tab")  # leaving the field looks the customer up
    settled(page)
    for field, value in (
        ("#id_business_type", business_type),
        ("#id_customer_class", customer_class),
        ("#id_voltage_class", voltage),
    ):
        page.select_option(field, value)
        settled(page)


def hand_in_and_accept(page, *files):
    expect(page.locator("#preview-template")).not_to_be_empty()
    for kind, name in files:
        page.set_input_files(
            f"#id_document_{kind}",
            files=[{"name": name, "mimeType": "application/pdf", "buffer": b"%PDF-1.7 x"}],
        )
    settled(page)
    page.click("#accept-button")
    page.wait_for_url("**/receipt/")


@time_machine.travel("2026-03-04 10:00 +0800", tick=True)
def test_an_account_manager_accepts_applications_and_prints_the_receipts(
    page, login, screenshot, desk, tmp_path
):
    manager, region = desk
    supervisor = UserFactory(username="wangjg", role=Role.SUPERVISOR)
    known = make_application(by=supervisor, region=region, serial=5151).customer
    login(page, manager)

    # A customer yekuo already knows: filled in from the credit code, nothing to type.
    accept(page, code=known.credit_code)
    expect(page.locator("#customer-known")).to_be_visible()
    expect(page.locator("#known-name")).to_have_text(known.name)
    page.fill("#id_requested_capacity_kva", "1600")
    page.check("#id_assign_to_me")
    hand_in_and_accept(page, ("application_form", "用电申请书.pdf"))
    first = Application.objects.filter(customer=known).latest("pk")
    assert first.requested_capacity_kva == 1600 and first.account_manager == manager
    expect(page.locator("#receipt-number")).to_have_text(first.number)
    expect(page.locator("#receipt-documents")).to_contain_text("✓ 已收到")
    committed = first.committed_finish_date
    expect(page.locator("#receipt-committed")).to_have_text(
        f"{committed.year}年{committed.month}月{committed.day}日"
    )
    # Printed as the customer gets it: an A4 PDF of the receipt.
    pdf = tmp_path / "receipt.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), format="A4")
    page.emulate_media(media="screen")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    screenshot(page, "acceptance-receipt")

    # A new customer: registered with the application.
    code = credit_code(5252)
    accept(page, code=code, customer_class="lv_non_residential", voltage="0.4kV")
    expect(page.locator("#customer-new")).to_be_visible()
    page.fill("#id_name", "钱塘精密制造有限公司")
    page.select_option("#id_region", str(region.pk))
    page.fill("#id_address", "杭州市西湖区文三路 1 号")
    page.fill("#id_contact_name", "王工")
    page.fill("#id_contact_phone", "13800000000")
    page.fill("#id_requested_capacity_kva", "200")
    page.check("#id_assign_to_me")
    screenshot(page, "acceptance-form")
    hand_in_and_accept(page, ("application_form", "申请书.pdf"), ("licence", "营业执照.pdf"))
    second = Application.objects.get(customer__credit_code=code)
    assert second.customer.name == "钱塘精密制造有限公司" and second.customer.region == region
    assert sorted(Document.objects.filter(application=second).values_list("kind", flat=True)) == [
        "application_form",
        "licence",
    ]
    expect(page.locator("#receipt-number")).to_have_text(second.number)

    # Both are in the account manager's workspace.
    page.goto("/")
    expect(page.locator("main")).to_contain_text(first.number)
    expect(page.locator("main")).to_contain_text(second.number)


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
