"""The customer's page on a phone: it reads at 390 pixels and takes the customer's word."""

import pytest
from playwright.sync_api import expect

from applications import customer_links
from applications.models import Application, CustomerLinkVisit
from tests.factories import AccountManagerProfileFactory, UserFactory, make_application

pytestmark = [
    pytest.mark.usefixtures("meetings_when_ready"),
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

PHONE = {"width": 390, "height": 844}


def test_a_customer_follows_and_answers_on_a_phone(browser, live_server, screenshot):
    supervisor = UserFactory(username="sup-phone", role="supervisor")
    manager = AccountManagerProfileFactory(
        user__username="mgr-phone", user__display_name="李娜", user__phone="0571-87654321"
    ).user
    application = make_application(by=supervisor, manager=manager)
    # At the customer's construction (the stages before have their own tests).
    Application.objects.filter(pk=application.pk).update(state="construction")
    link = customer_links.customer_link_create(application_id=application.pk, by=manager)
    path = customer_links.link_path(link)

    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(path)
        expect(page.locator("h1")).to_have_text(application.customer.name)
        expect(page.locator(".steps li")).to_have_count(8)
        expect(page.locator(".contact")).to_contain_text("李娜")
        # Nothing wider than the phone: no sideways scrolling.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "customer-page-phone")

        page.fill("#note", "配电房已完工，请安排验收")
        page.click("button[value=construction_finished]")
        expect(page.locator(".notice")).to_contain_text("已告知您的客户经理")
        expect(page.locator(".waiting").first).to_be_visible()
    finally:
        context.close()
    said = CustomerLinkVisit.objects.get(kind="construction_finished")
    assert said.note == "配电房已完工，请安排验收"
