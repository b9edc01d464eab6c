"""The application page through HTTP: what each reader sees, and every form it posts."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape
from django.utils.translation import override

from accounts.models import Department
from accounts.roles import Role
from applications import services, sweep
from applications.models import Application, Document, PostCompletionReview, StageTransition
from scheduling import selectors as schedule_selectors
from scheduling.models import Activity, ActivityEvent, Deviation, Proposal
from tests.dates import pin_today
from tests.factories import (
    AccountManagerProfileFactory,
    RegionFactory,
    UserFactory,
    make_application,
)
from tests.pages.conftest import open_deviation

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db, pin_today]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)  # a Monday


@pytest.fixture
def on_the_evening_of_day0():
    # The deviations here are found at 18:00 on day 0, and accepting a proposal analyses
    # its application as of the moment it is accepted: these tests accept on that evening.
    with time_machine.travel(datetime.combine(DAY0, time(18, 30), tzinfo=SHANGHAI), tick=False):
        yield


def page_url(application, action=""):
    return f"/applications/{application.number}/{action}"


def activity(application, code) -> Activity:
    return Activity.objects.get(application=application, code=code)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def application(supervisor, manager):
    return make_application(by=supervisor, manager=manager, accepted_on=DAY0)


@pytest.fixture
def marketing_staff():
    return UserFactory(username="yx-staff", role=Role.DEPARTMENT_STAFF, department_code="marketing")


def finish_consultation(application, manager):
    for code in "ABCD":
        a = activity(application, code)
        services.activity_progress_record(activity_id=a.pk, start=DAY0, by=manager, today=DAY0)
        services.activity_progress_record(activity_id=a.pk, finish=DAY0, by=manager, today=DAY0)


def red_deviation(application, manager):
    """A started 1-day A that needs 3 more days: red, with proposals (as in test_sweep)."""
    a = activity(application, "A")
    services.activity_progress_record(activity_id=a.pk, start=DAY0, by=manager, today=DAY0)
    services.activity_progress_record(activity_id=a.pk, remaining=3, by=manager, today=DAY0)
    now = datetime.combine(DAY0, time(18), tzinfo=SHANGHAI)
    sweep.deviation_sweep_batch(application_ids=[application.pk], now=now)
    return Deviation.objects.get(application=application)


# --- Reading ------------------------------------------------------------------------------


def test_the_page_shows_the_header_stages_activities_and_both_drawings(
    client, application, manager
):
    client.force_login(manager)
    response = client.get(page_url(application))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<h1 id="app-title">{application.customer.name}</h1>' in html
    assert '<span class="state state-consultation" id="app-state">受理咨询</span>' in html
    committed = application.committed_finish_date
    assert (
        f'<strong id="committed-finish">{committed.year}年{committed.month}月{committed.day}日'
        in html
    )
    assert html.count('class="step ') == 8
    assert '<li class="step current" aria-current="step">' in html
    # Sixteen activities in the table, sixteen bars, sixteen events and the dashed dummy.
    assert html.count('<tr id="activity-') == 16
    assert html.count('<g class="task') == 16
    assert html.count('<g class="event') == 16
    assert html.count('<g class="arc') == 17
    assert html.count('class="arc dummy"') == 1
    assert 'class="arc critical" data-tail="1" data-head="2" data-code="A"' in html


def test_a_reader_outside_the_applications_scope_gets_404(client, application):
    stranger = AccountManagerProfileFactory(
        user__username="other-manager", regions=[RegionFactory(code="elsewhere")]
    ).user
    client.force_login(stranger)
    assert client.get(page_url(application)).status_code == 404
    assert client.post(page_url(application, "transition/"), {}).status_code == 404
    assert client.get("/applications/YK-2026-999999/").status_code == 404


@pytest.mark.parametrize("others", [5, 100])
def test_the_page_costs_the_same_queries_whatever_the_number_of_applications(
    client, supervisor, manager, application, others, django_assert_max_num_queries
):
    region = application.region
    for _ in range(others):
        make_application(by=supervisor, manager=manager, region=region, accepted_on=DAY0)
    deviation = red_deviation(application, manager)
    assert deviation.proposals.count() > 1
    services.document_upload(
        application_id=application.pk,
        kind="licence",
        file=SimpleUploadedFile("licence.pdf", b"%PDF-1.4 licence"),
        by=manager,
    )
    client.force_login(manager)
    client.get(page_url(application))  # sessions and the calendar, once
    # 12, the causes and departments the deviation's answer form offers, and 3 for the
    # complaints section: its rows, and the people and departments of its form's choices,
    # and 1 for the activities' joint departments; 3 for the to-do figure beside 待办 in the
    # navigation: the department's open activities, their applications' activities, and
    # the applications that wait for the account manager; 1 for the account-manager
    # changes, and 1 for the change history (变更记录) with who made each change; 2 for
    # the resolved deviations (the hot table and its archive). The drawings (both network
    # views, the Gantt zoom and progress line) read nothing more.
    with django_assert_max_num_queries(25):
        response = client.get(page_url(application))
    assert response.status_code == 200
    assert f'id="deviation-{deviation.pk}"' in response.content.decode()


# --- Transitions ----------------------------------------------------------------------------


def transition(client, application, name, note="", version=None):
    data = {"transition": name, "note": note, "version": version or application.version}
    return client.post(page_url(application, "transition/"), data, follow=True)


def test_applying_a_transition_moves_the_stage_and_logs_the_note(client, application, manager):
    finish_consultation(application, manager)
    application.refresh_from_db()
    client.force_login(manager)
    html = client.get(page_url(application)).content.decode()
    assert 'class="transition-form" data-transition="start_survey"' in html

    response = transition(client, application, "start_survey", note="资料齐全")

    assert messages_of(response) == ["已执行“转入现场勘查”，当前环节为“现场勘查”。"]
    assert Application.objects.get(pk=application.pk).state == "survey"
    row = StageTransition.objects.get(application=application, transition="start_survey")
    assert (row.from_state, row.to_state, row.by, row.note) == (
        "consultation",
        "survey",
        manager,
        "资料齐全",
    )
    assert "资料齐全" in response.content.decode()


def test_a_transition_not_allowed_now_is_refused_with_the_guards_reason(
    client, application, manager
):
    client.force_login(manager)
    html = client.get(page_url(application)).content.decode()
    assert 'class="transition-form" data-transition="start_survey"' not in html
    assert '<li data-transition="start_survey">' in html
    assert "本环节工作尚未完成：A 办理需求手续、B 受理用户征询" in html

    response = transition(client, application, "start_survey")

    assert messages_of(response)[0].startswith("本环节工作尚未完成：A 办理需求手续")
    assert Application.objects.get(pk=application.pk).state == "consultation"
    assert not StageTransition.objects.filter(transition="start_survey").exists()


def test_a_transition_the_reader_may_not_apply_is_not_offered_and_refused(
    client, application, staff
):
    # Operations staff read the application (they own J and L) but do not move it.
    client.force_login(staff)
    html = client.get(page_url(application)).content.decode()
    assert 'class="transition-form"' not in html
    assert "您无权执行此操作。" in html

    response = transition(client, application, "suspend", note="客户要求")

    assert messages_of(response) == [f"您无权对 {application.number} 执行“暂停”。"]
    assert Application.objects.get(pk=application.pk).state == "consultation"
    assert StageTransition.objects.filter(application=application).count() == 1


def test_a_stale_version_is_refused_and_nothing_changes(client, application, manager):
    client.force_login(manager)
    old = application.version
    a = activity(application, "A")
    services.activity_progress_record(activity_id=a.pk, start=DAY0, by=manager, today=DAY0)

    response = transition(client, application, "suspend", note="客户要求", version=old)

    assert "该申请在您读取后已被修改" in messages_of(response)[0]
    assert Application.objects.get(pk=application.pk).state == "consultation"


def test_a_reason_is_required_to_cancel_and_is_asked_for_beside_the_field(
    client, application, manager
):
    client.force_login(manager)
    response = transition(client, application, "cancel", note="  ")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<details class="side-steps" open>' in html
    assert '<p class="field-error" id="id_t_cancel_note-error">请说明“取消”的原因。</p>' in html
    assert Application.objects.get(pk=application.pk).state == "consultation"


def test_a_too_long_note_keeps_what_was_typed(client, application, manager):
    client.force_login(manager)
    note = "说明" * 1001
    response = transition(client, application, "suspend", note=note)
    html = response.content.decode()
    assert 'id="id_t_suspend_note-error">备注或原因最多 2000 个字，现有 2002 个字。' in html
    assert f">{note}</textarea>" in html
    assert Application.objects.get(pk=application.pk).state == "consultation"


# --- Progress -------------------------------------------------------------------------------


def progress(client, application, code, **data):
    a = activity(application, code)
    return client.post(page_url(application, f"activities/{a.pk}/progress/"), data, follow=True)


def test_recording_a_start_and_a_finish_stores_them_and_says_so(client, application, manager):
    client.force_login(manager)
    response = progress(client, application, "A", actual_start="2026-03-02")
    assert messages_of(response) == ["A 办理需求手续：于 2026年3月2日 开始。预测已更新。"]
    response = progress(client, application, "A", actual_finish="2026-03-03")
    assert messages_of(response) == ["A 办理需求手续：于 2026年3月3日 完成。预测已更新。"]
    a = activity(application, "A")
    assert (a.actual_start, a.actual_finish) == (date(2026, 3, 2), date(2026, 3, 3))
    assert list(ActivityEvent.objects.filter(activity=a).values_list("kind", "by")) == [
        ("started", manager.pk),
        ("finished", manager.pk),
    ]
    html = response.content.decode()
    assert '<time datetime="2026-03-03" title="2026年3月3日">3月3日</time>' in html


def test_as_served_from_the_cache_the_page_shows_progress_and_the_next_day(
    client, application, manager, settings
):
    """The activity rows and the drawings are cached (not rendered again to compare):
    a progress entry and a new day show at the next request all the same."""
    settings.FRAGMENT_CACHE_CHECK = False
    client.force_login(manager)
    with time_machine.travel(datetime.combine(DAY0, time(9), tzinfo=SHANGHAI), tick=False):
        for _ in range(2):  # the second from the cache
            html = client.get(page_url(application)).content.decode()
        assert html.count('<g class="task critical" data-code="A"') == 1
        assert 'id="progress-A"' in html and 'form="progress-A"' in html
        progress(client, application, "A", actual_start="2026-03-02")
        progress(client, application, "A", actual_finish="2026-03-02")
        html = client.get(page_url(application)).content.decode()
        row = html.split('<tr id="activity-A"', 1)[1].split("</tr>", 1)[0]
        assert row.count('<time datetime="2026-03-02"') == 2  # started and finished
        assert '<g class="task done" data-code="A"' in html
        assert 'id="progress-A"' not in html
        today_line = html.split('<line class="today" x1="', 1)[1].split('"', 1)[0]
    with time_machine.travel(
        datetime.combine(DAY0, time(9), tzinfo=SHANGHAI) + timedelta(days=1), tick=False
    ):
        html = client.get(page_url(application)).content.decode()
    assert html.split('<line class="today" x1="', 1)[1].split('"', 1)[0] != today_line


def test_the_remaining_days_of_a_started_activity(client, application, manager):
    client.force_login(manager)
    progress(client, application, "A", actual_start="2026-03-02")
    response = progress(client, application, "A", remaining="4")
    assert messages_of(response) == ["A 办理需求手续：剩余 4 个工作日。预测已更新。"]
    assert activity(application, "A").remaining == 4


def test_a_bad_date_is_shown_beside_the_field_with_the_typed_value(client, application, manager):
    client.force_login(manager)
    a = activity(application, "A")
    response = progress(client, application, "A", actual_start="2026-02-30")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="2026-02-30" aria-invalid="true"' in html
    assert (
        f'<p class="field-error" id="id_a{a.pk}_actual_start-error">输入一个有效的日期。</p>'
        in html
    )
    assert activity(application, "A").actual_start is None


def test_a_finish_before_the_start_is_refused_beside_the_finish(client, application, manager):
    client.force_login(manager)
    progress(client, application, "A", actual_start="2026-03-03")
    a = activity(application, "A")
    response = progress(client, application, "A", actual_finish="2026-03-02")
    html = response.content.decode()
    assert (
        f'<p class="field-error" id="id_a{a.pk}_actual_finish-error">'
        "完成日期 2026年3月2日 早于开始日期 2026年3月3日。</p>"
    ) in html
    assert 'value="2026-03-02" aria-invalid="true"' in html
    assert activity(application, "A").actual_finish is None


def test_start_and_finish_in_one_post_are_stored_together_or_not_at_all(
    client, application, manager
):
    client.force_login(manager)
    response = progress(
        client, application, "A", actual_start="2026-03-03", actual_finish="2026-03-02"
    )
    assert response.status_code == 200
    assert activity(application, "A").actual_start is None


def test_an_empty_progress_form_asks_for_something(client, application, manager):
    client.force_login(manager)
    html = progress(client, application, "A").content.decode()
    assert "请填写实际开始日期、实际完成日期或剩余工作日。" in html


def test_progress_on_another_departments_work_is_not_offered_and_refused(
    client, application, staff
):
    client.force_login(staff)
    a, j = activity(application, "A"), activity(application, "J")
    html = client.get(page_url(application)).content.decode()
    assert f'id="id_a{a.pk}_actual_start"' not in html
    # J (operations' design review) waits for its predecessors: nothing to record yet.
    assert f'id="id_a{j.pk}_actual_start"' not in html

    response = progress(client, application, "A", actual_start="2026-03-02")

    assert messages_of(response) == [f"您无权登记 {application.number} 的 A 办理需求手续 的进度。"]
    assert activity(application, "A").actual_start is None


def test_department_staff_are_offered_their_own_work_once_it_can_start(
    client, application, manager, marketing_staff
):
    client.force_login(marketing_staff)
    a, e = activity(application, "A"), activity(application, "E")
    html = client.get(page_url(application)).content.decode()
    assert f'id="id_a{a.pk}_actual_start"' in html
    assert f'id="id_a{e.pk}_actual_start"' not in html


# --- Deviations and proposals ---------------------------------------------------------------


def test_acknowledging_a_deviation(client, application, manager):
    deviation = red_deviation(application, manager)
    client.force_login(manager)
    html = client.get(page_url(application)).content.decode()
    assert f'<p class="explanation">{deviation}</p>' in html
    assert "是关键工作" in str(deviation)
    # The form's defaults: the late activity's owner (营销部, the utility's) answers.
    marketing = Department.objects.get(code="marketing")
    assert '<option value="department" selected>' in html
    assert f'<option value="{marketing.pk}" selected>' in html
    assert '<option value="materials">物资供应</option>' in html
    url = page_url(application, f"deviations/{deviation.pk}/acknowledge/")
    response = client.post(
        url,
        {
            "cause": "materials",
            "responsible_party": "department",
            "responsible_department": marketing.pk,
            "planned_action": "换第二家供应商订购电缆",
            "action_due": "2026-12-01",
        },
        follow=True,
    )
    assert messages_of(response) == ["已答复偏差：原因、责任方和措施已记录。"]
    deviation.refresh_from_db()
    assert (deviation.status, deviation.acknowledged_by) == ("acknowledged", manager)
    html = response.content.decode()
    assert "<dt>原因</dt><dd>物资供应</dd>" in html
    assert "换第二家供应商订购电缆" in html
    assert "2026年12月1日" in html
    assert "已逾期" not in html


def test_a_bad_answer_shows_the_messages_beside_the_fields(client, application, manager):
    deviation = red_deviation(application, manager)
    client.force_login(manager)
    response = client.post(
        page_url(application, f"deviations/{deviation.pk}/acknowledge/"),
        {
            "cause": "materials",
            "responsible_party": "external",
            "planned_action": "",
            "action_due": "2026-11-26",  # the day before the pinned today
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        f'<p class="field-error" id="id_d{deviation.pk}_planned_action-error">'
        "请说明将采取的措施。</p>" in html
    )
    deviation.refresh_from_db()
    assert (deviation.status, deviation.cause) == ("open", None)
    # The form's own check passes; the service's checks land beside their fields.
    response = client.post(
        page_url(application, f"deviations/{deviation.pk}/acknowledge/"),
        {
            "cause": "materials",
            "responsible_party": "external",
            "planned_action": "Call the supplier",
            "action_due": "2026-11-26",
        },
    )
    html = response.content.decode()
    assert (
        f'<p class="field-error" id="id_d{deviation.pk}_action_due-error">'
        "措施的完成期限不能是已经过去的日期。</p>"
    ) in html
    assert (
        f'<p class="field-error" id="id_d{deviation.pk}_party_reason-error">'
        "请说明为何由延误工作负责方以外的一方负责。</p>"
    ) in html
    assert Deviation.objects.get(pk=deviation.pk).status == "open"


def test_an_overdue_action_is_marked(client, application, manager):
    deviation = red_deviation(application, manager)
    services.deviation_acknowledge(
        deviation_id=deviation.pk,
        cause="weather",
        planned_action="Wait for the rain to stop",
        action_due=date(2026, 11, 20),
        by=manager,
        today=date(2026, 11, 20),
    )
    client.force_login(manager)
    html = client.get(page_url(application)).content.decode()
    assert "已逾期" in html


def test_a_deviation_of_another_department_is_not_theirs_to_acknowledge(
    client, application, manager, staff
):
    deviation = red_deviation(application, manager)
    client.force_login(staff)
    html = client.get(page_url(application)).content.decode()
    assert f"deviations/{deviation.pk}/acknowledge/" not in html
    assert "/dismiss/" not in html
    response = client.post(
        page_url(application, f"deviations/{deviation.pk}/acknowledge/"), follow=True
    )
    assert messages_of(response) == ["您无权处理该偏差。"]
    assert Deviation.objects.get(pk=deviation.pk).status == "open"


def test_a_supervisor_accepts_a_proposal(
    client, application, manager, supervisor, on_the_evening_of_day0
):
    deviation = red_deviation(application, manager)
    proposal = deviation.proposals.get(kind="escalate")
    client.force_login(supervisor)
    assert f"proposals/{proposal.pk}/accept/" in client.get(page_url(application)).content.decode()
    response = client.post(page_url(application, f"proposals/{proposal.pk}/accept/"), follow=True)
    said = "预计超出计划工期2个工作日，请上报分管领导并由营销部/客户服务中心协调处理"
    assert schedule_selectors.proposal_text(proposal) == said
    assert messages_of(response) == [f"已采纳纠偏措施：{said}"]
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == ("accepted", supervisor)


def test_an_account_manager_is_not_offered_accept_and_is_refused(client, application, manager):
    deviation = red_deviation(application, manager)
    proposal = deviation.proposals.first()
    client.force_login(manager)
    html = client.get(page_url(application)).content.decode()
    assert "/accept/" not in html
    assert f"proposals/{proposal.pk}/dismiss/" in html
    response = client.post(page_url(application, f"proposals/{proposal.pk}/accept/"), follow=True)
    assert messages_of(response) == ["只有分管领导可以采纳纠偏措施。"]
    assert Proposal.objects.get(pk=proposal.pk).status == "proposed"


def test_dismissing_a_proposal_needs_a_reason(client, application, manager):
    deviation = red_deviation(application, manager)
    proposal = deviation.proposals.first()
    client.force_login(manager)
    url = page_url(application, f"proposals/{proposal.pk}/dismiss/")

    html = client.post(url, {"reason": ""}, follow=True).content.decode()
    assert (
        f'<p class="field-error" id="id_p{proposal.pk}_reason-error">请说明不采纳的理由。</p>'
        in html
    )
    assert '<details class="dismiss" open>' in html
    assert Proposal.objects.get(pk=proposal.pk).status == "proposed"

    response = client.post(url, {"reason": "施工队伍已满负荷"}, follow=True)
    assert messages_of(response) == ["已不采纳该纠偏建议。"]
    proposal.refresh_from_db()
    assert (proposal.status, proposal.reason, proposal.decided_by) == (
        "dismissed",
        "施工队伍已满负荷",
        manager,
    )


def test_a_proposal_of_another_application_is_not_found_here(
    client, application, manager, supervisor
):
    other = make_application(by=supervisor, manager=manager, region=application.region)
    deviation = red_deviation(other, manager)
    proposal = deviation.proposals.first()
    client.force_login(supervisor)
    response = client.post(page_url(application, f"proposals/{proposal.pk}/accept/"))
    assert response.status_code == 404
    assert Proposal.objects.get(pk=proposal.pk).status == "proposed"


# --- Documents and the review ---------------------------------------------------------------


def test_uploading_and_downloading_a_document(client, application, manager, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(manager)
    upload = SimpleUploadedFile("营业执照.pdf", b"%PDF-1.4 licence", content_type="application/pdf")
    response = client.post(
        page_url(application, "documents/"), {"kind": "licence", "file": upload}, follow=True
    )
    assert messages_of(response) == ["已上传营业执照“营业执照.pdf”。"]
    document = Document.objects.get(application=application, original_name="营业执照.pdf")
    assert (document.kind, document.uploaded_by, document.size) == ("licence", manager, 16)
    download = client.get(page_url(application, f"documents/{document.pk}/"))
    assert b"".join(download.streaming_content) == b"%PDF-1.4 licence"


def test_a_file_that_is_not_a_document_is_refused_beside_the_field(
    client, application, manager, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(manager)
    upload = SimpleUploadedFile("setup.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = client.post(
        page_url(application, "documents/"), {"kind": "contract", "file": upload}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_doc_file-error">不接受“.exe”文件；可上传：docx, dwg' in html
    assert '<option value="contract" selected>' in html
    assert Document.objects.filter(kind="contract").count() == 0


def energized(application):
    # The review form needs an energized application; the way there is the lifecycle's tests.
    Application.objects.filter(pk=application.pk).update(state="energized")
    return Application.objects.get(pk=application.pk)


def review_section(html: str) -> str:
    return html.split('id="review"')[1].split("</section>")[0]


def review(client, application, **data):
    return client.post(page_url(application, "review/"), data, follow=True)


def test_recording_the_post_completion_review(client, application, manager):
    energized(application)
    client.force_login(manager)
    assert 'action="/applications/' in review_section(
        client.get(page_url(application)).content.decode()
    )
    response = review(
        client,
        application,
        quality="5",
        safety="4",
        efficiency="3",
        satisfaction="5",
        findings="送电顺利",
    )
    assert messages_of(response) == ["问效评价已录入。"]
    row = PostCompletionReview.objects.get(application=application)
    assert (row.quality, row.safety, row.efficiency, row.satisfaction, row.findings) == (
        5,
        4,
        3,
        5,
        "送电顺利",
    )
    assert "<dd>4 / 5</dd>" in response.content.decode()


def test_a_missing_score_is_asked_for_and_the_others_are_kept(client, application, manager):
    energized(application)
    client.force_login(manager)
    response = review(client, application, quality="5", safety="", efficiency="3", satisfaction="5")
    html = response.content.decode()
    assert '<p class="field-error" id="id_review_safety-error">该字段是必填项。</p>' in html
    assert '<option value="3" selected>' in html
    assert not PostCompletionReview.objects.exists()


def test_the_review_is_not_offered_before_energization_and_refused(client, application, manager):
    client.force_login(manager)
    html = client.get(page_url(application)).content.decode()
    assert 'action="/applications/' not in review_section(html)
    response = review(
        client, application, quality="5", safety="4", efficiency="3", satisfaction="5"
    )
    assert messages_of(response) == ["送电后才能录入问效。"]
    assert not PostCompletionReview.objects.exists()


def test_staff_may_not_record_the_review(client, application, staff):
    energized(application)
    client.force_login(staff)
    assert 'action="/applications/' not in review_section(
        client.get(page_url(application)).content.decode()
    )
    response = review(
        client, application, quality="5", safety="4", efficiency="3", satisfaction="5"
    )
    assert messages_of(response) == ["只有客户经理或分管领导可以录入问效。"]
    assert not PostCompletionReview.objects.exists()


def test_in_english_the_page_shows_the_english_explanations(client, application, manager):
    deviation = red_deviation(application, manager)
    client.force_login(manager)
    client.cookies["django_language"] = "en"
    html = client.get(page_url(application)).content.decode()
    with override("en"):
        english = str(deviation)
    with override("zh-hans"):
        chinese = str(deviation)
    assert f'<p class="explanation">{escape(english)}</p>' in html
    assert chinese not in html
    assert english.startswith("Register the demand is ")
    assert "escalate to the supervisor and to Marketing / Customer Service Center." in html
    assert '<span class="state state-consultation" id="app-state">Consultation</span>' in html
    assert "Register the demand" in html  # the activity's English name, in the table
    # …and on the arcs of the network diagram, wrapped between words.
    assert 'text-anchor="middle">Register</text>' in html
    assert 'text-anchor="middle">the demand</text>' in html
    assert "Double-code network diagram" in html


def test_a_suspended_application_says_where_it_stopped_and_offers_resume(
    client, application, manager
):
    client.force_login(manager)
    response = transition(client, application, "suspend", note="客户暂缓建设")
    html = response.content.decode()
    assert messages_of(response) == ["已执行“暂停”，当前环节为“已暂停”。"]
    assert "在“受理咨询”环节暂停：时限计时已停止。" in html
    assert 'class="transition-form" data-transition="resume"' in html
    assert '<li class="step current" aria-current="step">' in html

    response = transition(
        client, Application.objects.get(pk=application.pk), "cancel", note="客户撤回申请"
    )
    html = response.content.decode()
    assert '<span class="state state-cancelled" id="app-state">已取消</span>' in html
    assert "客户撤回申请" in html
    assert 'class="transition-form"' not in html
    # No progress entry on a cancelled application (a complaint may still come).
    assert 'type="date"' not in html.split('id="complaints"')[0]


def test_a_time_limit_past_its_warning_shows_beside_the_state(client, application, manager):
    client.force_login(manager)
    assert 'id="time-limit"' not in client.get(page_url(application)).content.decode()
    Application.objects.filter(pk=application.pk).update(
        time_limit_status="exceeded", time_limit_clock="energization"
    )
    html = client.get(page_url(application)).content.decode()
    assert '<span class="badge red" id="time-limit">装表接电时限已超期</span>' in html
    Application.objects.filter(pk=application.pk).update(
        time_limit_status="warning", time_limit_clock="whole_process"
    )
    html = client.get(page_url(application)).content.decode()
    assert '<span class="badge amber" id="time-limit">全流程时限已用去 80%</span>' in html


def test_a_closed_applications_gantt_ends_with_its_work_not_today(client, application, manager):
    client.force_login(manager)
    assert 'class="today"' in client.get(page_url(application)).content.decode()
    Application.objects.filter(pk=application.pk).update(state="closed")
    html = client.get(page_url(application)).content.decode()
    assert 'class="today"' not in html
    assert 'class="commitment"' in html


# --- Resolved deviations --------------------------------------------------------------------


def _resolved(application, count: int) -> list[Deviation]:
    """``count`` resolved deviations of ``application``, resolved a day apart."""
    first = datetime.combine(DAY0, time(18), tzinfo=SHANGHAI)
    rows = []
    for i in range(count):
        row = open_deviation(application, "A", severity="info", delay=1 + i, status="resolved")
        Deviation.objects.filter(pk=row.pk).update(resolved_at=first + timedelta(days=i))
        rows.append(row)
    return rows


@pytest.mark.parametrize("count", [3, 40])
def test_the_page_lists_the_last_resolved_deviations_in_the_same_queries(
    client, application, manager, count, django_assert_max_num_queries
):
    rows = _resolved(application, count)
    client.force_login(manager)
    client.get(page_url(application))
    with django_assert_max_num_queries(25):
        html = client.get(page_url(application)).content.decode()
    shown = sorted(
        (row for row in rows if f'id="resolved-deviation-{row.pk}"' in html),
        key=lambda row: html.index(f'id="resolved-deviation-{row.pk}"'),
    )
    # The last resolved first, at most HISTORY_SHOWN (30) of them.
    assert shown == rows[::-1][:30]
    assert ('id="all-resolved"' in html) == (count > 30)
    if count > 30:
        assert "最近 30 条" in html and "显示全部已消除的偏差" in html
    else:
        assert f'<span class="count">{count}</span>' in html


def test_every_resolved_deviation_is_listed_when_asked_for(client, application, manager):
    rows = _resolved(application, 40)
    client.force_login(manager)
    html = client.get(page_url(application), {"resolved": "all"}).content.decode()
    assert all(f'id="resolved-deviation-{row.pk}"' in html for row in rows)
    assert html.index(f'resolved-deviation-{rows[-1].pk}"') < html.index(
        f'resolved-deviation-{rows[0].pk}"'
    )
    assert 'id="deviation-history" open' in html and 'id="all-resolved"' not in html
