"""Joint activities: one activity staffed by several departments (issue 14, item 2; the
paper's measure 3, such as a site survey done by several departments together)."""

import re
from datetime import date

import pytest

from accounts.models import Department, Notification
from accounts.roles import Role
from applications import services
from applications.selectors import visible_applications
from scheduling.models import Activity, ActivityEvent, ActivityTemplate
from scheduling.services import template_new_version
from tests.api.conftest import token_client
from tests.applications.conftest import late_on_day0
from tests.dates import pin_today
from tests.factories import UserFactory, make_application
from yekuo.errors import NotPermitted

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db, pin_today]

DAY0 = date(2026, 3, 2)


def department(code) -> Department:
    return Department.objects.get(code=code)


def survey(application) -> Activity:
    return Activity.objects.get(application=application, code="E")


def consultation_done(application, manager) -> None:
    """Record A to D on their planned days: the site survey E may start."""
    for a in Activity.objects.filter(application=application, code__in="ABCD"):
        services.activity_progress_record(
            activity_id=a.pk, start=a.baseline_start, finish=a.baseline_finish, by=manager
        )


@pytest.fixture
def joint_survey():
    """The 10 kV template's site survey (E, 营销部) done with 运维检修部 and 发展策划部."""
    row = ActivityTemplate.objects.get(
        template__code="hv-single-10kv", template__is_active=True, code="E"
    )
    row.joint_departments.set([department("operations"), department("planning")])
    return row


@pytest.fixture
def operations_staff():
    return UserFactory(username="ops-t", role=Role.DEPARTMENT_STAFF, department_code="operations")


@pytest.fixture
def metering_staff():
    return UserFactory(username="meter-t", role=Role.DEPARTMENT_STAFF, department_code="metering")


def test_an_application_copies_the_joint_departments_of_its_template(
    joint_survey, supervisor, manager
):
    application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    e = survey(application)
    assert e.department.code == "marketing"
    assert sorted(d.code for d in e.joint_departments.all()) == ["operations", "planning"]
    assert not Activity.objects.get(application=application, code="F").joint_departments.exists()


def test_a_new_template_version_keeps_its_joint_departments(joint_survey):
    copy = template_new_version(template_id=joint_survey.template_id)
    row = copy.activities.get(code="E")
    assert sorted(d.code for d in row.joint_departments.all()) == ["operations", "planning"]


def test_staff_of_a_joint_department_record_it_and_others_may_not(
    joint_survey, supervisor, manager, operations_staff, metering_staff
):
    application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    assert application in visible_applications(operations_staff)
    consultation_done(application, manager)
    services.activity_progress_record(
        activity_id=survey(application).pk, start=date(2026, 3, 6), by=operations_staff
    )
    assert survey(application).actual_start == date(2026, 3, 6)
    with pytest.raises(NotPermitted):
        services.activity_progress_record(
            activity_id=survey(application).pk, finish=date(2026, 3, 9), by=metering_staff
        )
    assert survey(application).actual_finish is None


def test_the_page_names_the_joint_departments_and_offers_them_the_entry(
    client, joint_survey, supervisor, manager, operations_staff
):
    application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    consultation_done(application, manager)
    client.force_login(operations_staff)
    html = client.get(f"/applications/{application.number}/").content.decode()
    row = html[html.index('id="activity-E"') :]
    row = row[: row.index("</tr>")]
    joint = "、".join(d.name for d in survey(application).joint_departments.all())
    assert sorted(joint.split("、")) == sorted(
        department(code).name for code in ("operations", "planning")
    )
    text = " ".join(re.sub(r"<[^>]+>", " ", row).split())
    assert f"{department('marketing').name} 会同 {joint} 联合" in text
    assert 'name="actual_start"' in row  # the entry is offered to the joint department


def test_a_re_plan_makes_an_activity_joint_and_back(supervisor, manager, operations_staff):
    application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    services.application_replan(
        application_id=application.pk,
        departments={"E": ["marketing", "operations"]},
        reason="多部门联合勘查",
        by=supervisor,
    )
    e = survey(application)
    assert [d.code for d in e.joint_departments.all()] == ["operations"]
    assert application.baselines.count() == 2
    assert ActivityEvent.objects.filter(activity=e, kind="replanned").count() == 1
    assert application in visible_applications(operations_staff)
    # A department code alone changes the owner and keeps the joint departments.
    services.application_replan(
        application_id=application.pk,
        departments={"E": ["marketing"]},
        reason="恢复营销部单独勘查",
        by=supervisor,
    )
    assert not survey(application).joint_departments.exists()
    assert application.baselines.count() == 3


def test_the_re_plan_page_sets_joint_departments(client, supervisor, manager):
    application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    client.force_login(supervisor)
    url = f"/applications/{application.number}/replan/"
    html = client.get(url).content.decode()
    assert 'name="E-joint"' in html
    form = {"version": "1", "reason": "多部门联合勘查"}
    for a in Activity.objects.filter(application=application, is_dummy=False):
        form |= {
            f"{a.code}-duration": a.duration,
            f"{a.code}-shortest": a.shortest_duration if a.shortest_duration is not None else "",
            f"{a.code}-tail": a.tail,
            f"{a.code}-head": a.head,
            f"{a.code}-lead": a.lead,
            f"{a.code}-department": a.department.code if a.department else "",
        }
    # The owner is not also a joint department.
    answer = client.post(url, form | {"E-joint": ["marketing"]})
    owner = department("marketing").name
    assert f"{owner}已是主办部门，不必再列为联合部门。" in answer.content.decode()
    answer = client.post(url, form | {"E-joint": ["operations", "planning"]})
    assert answer.status_code == 302
    assert sorted(d.code for d in survey(application).joint_departments.all()) == [
        "operations",
        "planning",
    ]


def test_the_api_lists_the_joint_departments_of_each_activity(joint_survey, supervisor, manager):
    application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    data = token_client(supervisor).get(f"/api/v1/applications/{application.pk}/schedule/").json()
    e = next(a for a in data["activities"] if a["code"] == "E")
    assert sorted(d["code"] for d in e["joint_departments"]) == ["operations", "planning"]


def test_a_red_deviation_of_a_joint_activity_tells_every_department_staffing_it(
    supervisor, manager, operations_staff, metering_staff
):
    row = ActivityTemplate.objects.get(
        template__code="hv-single-10kv", template__is_active=True, code="A"
    )
    row.joint_departments.set([department("operations")])
    marketing_staff = UserFactory(role=Role.DEPARTMENT_STAFF, department_code="marketing")
    application = late_on_day0(supervisor=supervisor, manager=manager)
    told = {
        n.recipient: n.by_mail
        for n in Notification.objects.filter(kind="deviation_red", application=application)
    }
    assert told == {manager: True, marketing_staff: False, operations_staff: False}
