"""The application page in a real browser: progress, a transition, a deviation, a proposal."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from applications import services
from applications.models import Application, StageTransition
from scheduling.models import Activity, Proposal
from scheduling.selectors import working_calendar
from tests.factories import AccountManagerProfileFactory, UserFactory, make_application

# The proposals offered depend on the day of the week of today when the plan waits for a
# weekly review meeting; these flows are of an office that convenes it when work is ready.
pytestmark = [
    pytest.mark.usefixtures("meetings_when_ready"),
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def test_account_manager_records_progress_moves_the_stage_and_a_supervisor_accepts_a_proposal(
    page, login, screenshot, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    calendar = working_calendar()
    today = timezone.localdate()
    supervisor = UserFactory(username="wangjg", display_name="王建国", role=Role.SUPERVISOR)
    manager = AccountManagerProfileFactory(
        user__username="zhangmin", user__display_name="张敏"
    ).user
    # Accepted eight working days ago; the first three activities went to plan.
    day0 = calendar.add_working_days(today, -8)
    application = make_application(by=supervisor, manager=manager, accepted_on=day0)
    day = application.start_date
    for code in "ABC":
        activity = Activity.objects.get(application=application, code=code)
        services.activity_progress_record(
            activity_id=activity.pk, start=day, by=manager, today=today
        )
        services.activity_progress_record(
            activity_id=activity.pk, finish=day, by=manager, today=today
        )
        day = calendar.next_working_day(day)
    d = Activity.objects.get(application=application, code="D")
    services.activity_progress_record(activity_id=d.pk, start=day, by=manager, today=today)

    login(page, manager)
    page.goto(f"/applications/{application.number}/")
    expect(page.locator("h1")).to_have_text(application.customer.name)
    expect(page.locator("#app-state")).to_have_text("受理咨询")
    expect(page.locator("#app-manager")).to_have_text("张敏")
    # The survey cannot start while D is open: the guard says why, and no button offers it.
    refusal = page.locator(".refusals li[data-transition=start_survey]")
    expect(refusal).to_contain_text("本环节工作尚未完成")
    expect(page.locator("form[data-transition=start_survey]")).to_have_count(0)

    # Record D's finish in the activity table.
    page.fill(f"#id_a{d.pk}_actual_finish", day.isoformat())
    page.click("#activity-D td.record button")
    expect(page.locator("#messages")).to_contain_text("D 受理用户申请")
    expect(page.locator("#activity-D td").nth(7)).to_have_text(f"{day.month}月{day.day}日")
    d.refresh_from_db()
    assert d.actual_finish == day

    # Now the survey may start: apply it with a note.
    form = page.locator("form[data-transition=start_survey]")
    form.locator("textarea").fill("客户资料齐全，安排勘查")
    form.locator("button").click()
    expect(page.locator("#messages")).to_contain_text("现场勘查")
    expect(page.locator("#app-state")).to_have_text("现场勘查")
    expect(page.locator(".timeline li").last).to_contain_text("客户资料齐全，安排勘查")
    assert Application.objects.get(pk=application.pk).state == "survey"
    assert StageTransition.objects.filter(application=application, to_state="survey").exists()

    # The survey (E) should have started four working days ago: the transition's own
    # analysis finds it late, and the page that answers the transition says so (no sweep).
    deviation = page.locator("article.deviation").first
    expect(deviation).to_contain_text("现场勘查")
    expect(deviation.locator(".explanation")).to_contain_text("关键工作")
    expect(deviation.locator(".badge.red")).to_be_visible()
    # The account manager may acknowledge and dismiss, but only a supervisor accepts.
    expect(deviation.locator("form[action$='/accept/']")).to_have_count(0)
    # Acknowledging is answering: the cause, the action and its due day (the party is
    # prefilled with the late activity's owner).
    deviation.locator("select[name=cause]").select_option("materials")
    deviation.locator("textarea[name=planned_action]").fill("换第二家供应商")
    deviation.locator("input[name=action_due]").fill(
        (timezone.localdate() + timedelta(days=7)).isoformat()
    )
    deviation.locator("button", has_text="确认知悉").click()
    expect(page.locator("#messages")).to_contain_text("已答复偏差")
    expect(page.locator(".deviation").first).to_contain_text("物资供应")
    # A document, uploaded through the same page.
    page.select_option("#id_doc_kind", "survey_report")
    page.set_input_files(
        "#id_doc_file",
        files=[{"name": "勘查报告.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 x"}],
    )
    page.click("form.upload button[type=submit]")
    expect(page.locator("#messages")).to_contain_text("勘查报告.pdf")
    expect(page.locator(".documents li").filter(has_text="勘查报告.pdf")).to_be_visible()
    page.set_viewport_size({"width": 1440, "height": 900})
    expect(page.locator("svg.gantt")).to_be_visible()
    expect(page.locator("svg.network")).to_be_visible()
    screenshot(page, "application")

    page.click(".toolbar button.link")
    page.wait_for_url("**/accounts/login/")
    login(page, supervisor)
    page.goto(f"/applications/{application.number}/")
    proposal = page.locator("li.proposal.status-proposed").first
    proposal_id = int(proposal.get_attribute("id").removeprefix("proposal-"))
    proposal.locator("form[action$='/accept/'] button").click()
    expect(page.locator("#messages")).to_contain_text("已采纳纠偏措施")
    expect(page.locator(f"#proposal-{proposal_id} .proposal-status")).to_contain_text("采纳")
    assert Proposal.objects.get(pk=proposal_id).status == "accepted"
    screenshot(page, "application-supervisor")


def test_with_javascript_off_the_forms_still_work(new_context, login, screenshot):
    context = new_context(java_script_enabled=False)
    page = context.new_page()
    supervisor = UserFactory(username="wangjg", display_name="王建国", role=Role.SUPERVISOR)
    manager = AccountManagerProfileFactory(user__username="lina", user__display_name="李娜").user
    today = timezone.localdate()
    day0 = working_calendar().add_working_days(today, -3)
    application = make_application(by=supervisor, manager=manager, accepted_on=day0)
    a = Activity.objects.get(application=application, code="A")

    login(page, manager)
    page.goto(f"/applications/{application.number}/")
    page.fill(f"#id_a{a.pk}_actual_start", "2020-01-01")
    page.click("#activity-A td.record button")
    # Refused beside the field (before day 0), the typed date kept; nothing stored.
    expect(page.locator(f"#id_a{a.pk}_actual_start-error")).to_contain_text("2020年1月1日")
    expect(page.locator(f"#id_a{a.pk}_actual_start")).to_have_value("2020-01-01")
    page.fill(f"#id_a{a.pk}_actual_start", application.start_date.isoformat())
    page.click("#activity-A td.record button")
    expect(page.locator("#messages")).to_contain_text("A 办理需求手续：于")
    a.refresh_from_db()
    assert a.actual_start == application.start_date
    # A tablet in portrait: the page stays usable, the wide parts scroll sideways.
    page.set_viewport_size({"width": 820, "height": 1180})
    expect(page.locator("#activity-A td.record button")).to_be_visible()
    expect(page.locator("svg.network")).to_be_attached()
    screenshot(page, "application-tablet")
