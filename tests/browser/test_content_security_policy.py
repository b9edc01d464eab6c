"""The application page and the dashboard work in Chromium under the strict policy."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from scheduling.models import Activity
from scheduling.selectors import working_calendar
from tests.factories import AccountManagerProfileFactory, UserFactory, make_application
from tests.pages.conftest import open_deviation

pytestmark = [
    pytest.mark.usefixtures("meetings_when_ready"),
    pytest.mark.django_db(transaction=True),
]


def _watch_policy(page) -> list[str]:
    """Collect Chromium's console reports of what the Content-Security-Policy refused."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("pageerror", lambda error: refused.append(f"page error: {error}"))
    return refused


def test_application_page_and_dashboard_work_without_policy_violations(page, login):
    refused = _watch_policy(page)
    today = timezone.localdate()
    supervisor = UserFactory(username="wangjg", display_name="王建国", role=Role.SUPERVISOR)
    zhang = AccountManagerProfileFactory(user__username="zhangmin", user__display_name="张敏")
    day0 = working_calendar().add_working_days(today, -3)
    application = make_application(by=supervisor, manager=zhang.user, accepted_on=day0)
    other = make_application(by=supervisor, manager=zhang.user)
    open_deviation(application, "F", severity="red", delay=4)
    open_deviation(other, "J", severity="amber", delay=2)

    login(page, supervisor)
    response = page.goto(f"/applications/{application.number}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    a = Activity.objects.get(application=application, code="A")
    # htmx (hx-boost) posts the progress form and swaps the page in place.
    page.fill(f"#id_a{a.pk}_actual_start", application.start_date.isoformat())
    page.click("#activity-A td.record button")
    expect(page.locator("#messages")).to_contain_text("A ")
    a.refresh_from_db()
    assert a.actual_start == application.start_date

    page.goto(f"/applications/{application.number}/receipt/")
    expect(page.locator("#print-receipt")).to_be_visible()

    page.goto("/dashboard/")
    expect(page.locator("#deviation-table tbody tr")).to_have_count(2)
    # htmx refreshes the table when the filter changes.
    page.select_option("#id_severity", "red")
    page.wait_for_url("**/dashboard/?*severity=red*")
    expect(page.locator("#deviation-table tbody tr")).to_have_count(1)
    assert refused == []

    # The watch itself works: an inline script added to the page is refused and reported.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = 1'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.injected") is None
    assert any("inline script" in text and "script-src 'self'" in text for text in refused)


def test_the_api_documentation_renders_under_the_policy(page):
    refused = _watch_policy(page)
    response = page.goto("/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#swagger-ui .info .title")).to_contain_text("yekuo API")
    page.goto("/api/redoc/")
    # ReDoc lays the whole schema out before its heading shows: seconds on a busy machine.
    expect(page.locator("h1").first).to_contain_text("yekuo API", timeout=30_000)
    # The bundle's footer logo on the vendor's site is refused on purpose (api/redoc.html).
    assert [text for text in refused if "cdn.redoc.ly" not in text] == []
