"""Notifications people can live with: each account manager is mailed once per new red
deviation of their applications, each supervisor gets one digest a morning, and people
choose what reaches them by mail."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Notification
from accounts.roles import Role
from applications import services, sweep
from applications.digest import daily_digest_send
from scheduling.models import Activity, Deviation
from tests.dates import pinned
from tests.factories import (
    AccountManagerProfileFactory,
    UserFactory,
    make_application,
    store_risk,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)  # a Monday
EVENING = datetime.combine(DAY0, time(18), tzinfo=SHANGHAI)
NEXT_MORNING = datetime.combine(date(2026, 3, 3), time(7, 30), tzinfo=SHANGHAI)

pytestmark = [pytest.mark.django_db, pinned(EVENING)]


def late(application, manager):
    """Start A (critical, 1 day) on day 0 and say it needs 3 more days: a red deviation."""
    a = Activity.objects.get(application=application, code="A")
    services.activity_progress_record(activity_id=a.pk, start=DAY0, by=manager, today=DAY0)
    services.activity_progress_record(activity_id=a.pk, remaining=3, by=manager, today=DAY0)


@pytest.fixture
def office(supervisor, manager):
    """Two managers with five late applications between them, two supervisors and the
    marketing department's staff (who hold activity A)."""
    other = AccountManagerProfileFactory(user__username="manager2-t").user
    second_boss = UserFactory(username="supervisor2-t", role=Role.SUPERVISOR)
    staff = UserFactory(username="yx-t", role=Role.DEPARTMENT_STAFF, department_code="marketing")
    applications = [
        *(make_application(by=supervisor, manager=manager, accepted_on=DAY0) for _ in range(3)),
        *(make_application(by=supervisor, manager=other, accepted_on=DAY0) for _ in range(2)),
    ]
    return {
        "managers": (manager, other),
        "supervisors": (supervisor, second_boss),
        "staff": staff,
        "applications": applications,
    }


def mails_to(mailoutbox) -> dict[str, int]:
    counts: dict[str, int] = {}
    for mail in mailoutbox:
        for address in mail.to:
            counts[address] = counts.get(address, 0) + 1
    return counts


def test_red_deviations_mail_their_manager_once_each_and_supervisors_one_digest(
    office, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for application in office["applications"]:
            late(application, application.account_manager)
        # The periodic sweep afterwards finds nothing new to tell.
        sweep.deviation_sweep_batch(
            application_ids=[a.pk for a in office["applications"]], now=EVENING
        )

    assert Deviation.objects.filter(severity="red").count() == 5
    assert mails_to(mailoutbox) == {"manager-t@example.test": 3, "manager2-t@example.test": 2}
    staff_notes = Notification.objects.filter(recipient=office["staff"], kind="deviation_red")
    assert (staff_notes.count(), staff_notes.filter(by_mail=True).count()) == (5, 0)
    assert not Notification.objects.filter(recipient__in=office["supervisors"]).exists()

    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert daily_digest_send(now=NEXT_MORNING) == 2
        assert daily_digest_send(now=NEXT_MORNING) == 0  # once a day

    assert mails_to(mailoutbox) == {"supervisor-t@example.test": 1, "supervisor2-t@example.test": 1}
    digest = Notification.objects.get(recipient=office["supervisors"][0], kind="digest")
    lines = digest.text.splitlines()
    assert lines[0] == "2026年3月3日 每日摘要"
    assert lines[1] == "新增红色偏差：5 项（未解决的红色偏差：5 项）"
    assert len([line for line in lines[2:7] if line.startswith("- YK-")]) == 5
    assert lines[7:9] == ["超出时限的申请：0 件", "等待分派客户经理的申请：0 件"]
    # Late in every run: all five are at risk, and likely late.
    assert lines[9] == "有误期风险的申请：5 件（很可能误期：5 件）"
    assert mailoutbox[0].subject == "[业扩] 2026年3月3日 每日摘要"


def test_a_supervisor_who_declines_the_digest_gets_none(
    office, mailoutbox, django_capture_on_commit_callbacks
):
    first, second = office["supervisors"]
    first.daily_digest = False
    first.save()
    late(office["applications"][0], office["managers"][0])

    with django_capture_on_commit_callbacks(execute=True):
        assert daily_digest_send(now=NEXT_MORNING) == 1

    assert list(Notification.objects.filter(kind="digest").values_list("recipient", flat=True)) == [
        second.pk
    ]


def likely_on_time(applications):
    """Say every application's risk forecast keeps its commitment."""
    for application in applications:
        store_risk(application, on_time=0.95)


def test_a_quiet_day_sends_no_digest(office):
    likely_on_time(office["applications"])
    assert daily_digest_send(now=NEXT_MORNING) == 0
    assert not Notification.objects.filter(kind="digest").exists()


def test_people_choose_what_reaches_them_by_mail(client, supervisor):
    client.force_login(supervisor)
    page = client.get("/accounts/notifications/settings/").content.decode()
    assert 'name="mail_events" id="id_mail_events" checked' in page
    assert 'name="daily_digest" id="id_daily_digest" checked' in page

    response = client.post("/accounts/notifications/settings/", {"mail_events": "on"}, follow=True)

    supervisor.refresh_from_db()
    assert (supervisor.mail_events, supervisor.daily_digest) == (True, False)
    assert [str(m) for m in response.context["messages"]] == ["通知设置已保存。"]


def test_a_manager_is_not_offered_the_digest(client, manager):
    client.force_login(manager)
    page = client.get("/accounts/notifications/settings/").content.decode()
    assert 'id="id_mail_events"' in page
    assert 'id="id_daily_digest"' not in page


def test_a_department_head_gets_the_digest_of_the_departments_work(
    office, mailoutbox, django_capture_on_commit_callbacks
):
    head = UserFactory(username="yx-head", role=Role.DEPARTMENT_HEAD, department_code="marketing")
    other_head = UserFactory(
        username="jl-head", role=Role.DEPARTMENT_HEAD, department_code="metering"
    )
    late(office["applications"][0], office["managers"][0])
    likely_on_time(office["applications"])

    with django_capture_on_commit_callbacks(execute=True):
        daily_digest_send(now=NEXT_MORNING)

    digest = Notification.objects.get(recipient=head, kind="digest")
    assert digest.text.splitlines()[1] == "新增红色偏差：1 项（未解决的红色偏差：1 项）"
    # Metering holds activities of the same application, but none of them is late: the
    # red deviation of marketing's work is not its to answer, and its day was quiet.
    assert not Notification.objects.filter(recipient=other_head, kind="digest").exists()


def test_the_digest_names_the_applications_least_likely_to_keep_their_commitment(
    office, django_capture_on_commit_callbacks
):
    applications = office["applications"]
    chances = [0.93, 0.12, 0.64, 0.41, 0.97]
    for application, chance in zip(applications, chances, strict=True):
        store_risk(application, on_time=chance, p80=date(2026, 5, 8), driver="C")
    marketing_head = UserFactory(
        username="yx-head", role=Role.DEPARTMENT_HEAD, department_code="marketing"
    )
    # Marketing's own work finished in every application but the one least likely.
    Activity.objects.filter(department__code="marketing").exclude(
        application=applications[1]
    ).update(actual_start=DAY0, actual_finish=DAY0)

    with django_capture_on_commit_callbacks(execute=True):
        daily_digest_send(now=NEXT_MORNING)

    lines = Notification.objects.get(recipient=office["supervisors"][0], kind="digest").text
    lines = lines.splitlines()
    start = lines.index("有误期风险的申请：3 件（很可能误期：2 件）")
    name = Activity.objects.get(application=applications[1], code="C").name
    tail = f"P80 完成日期 2026年5月8日；影响最大的工作：C {name}"
    assert lines[start + 1 : start + 4] == [
        f"- {applications[1].number}：按期完成概率 12%，{tail}",
        f"- {applications[3].number}：按期完成概率 41%，{tail}",
        f"- {applications[2].number}：按期完成概率 64%，{tail}",
    ]
    # The head of marketing hears of the one whose marketing work is still to do.
    head = Notification.objects.get(recipient=marketing_head, kind="digest").text.splitlines()
    assert "有误期风险的申请：1 件（很可能误期：1 件）" in head
    assert len([line for line in head if line.startswith("- ")]) == 1
