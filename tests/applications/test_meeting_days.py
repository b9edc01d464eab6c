"""The weekly supply-plan review meeting in every plan (issue 14, item 1).

The default template (high voltage, single source, 10 kV) holds its review meeting G
(供电方案审查会, one day) after the supply-plan drafting F (four days, two at the
shortest); the meeting weekday is Wednesday (``REVIEW_MEETING_WEEKDAY = 2``).
"""

import re
from datetime import date, datetime, time, timedelta

import pytest
import time_machine

from accounts.models import Notification
from accounts.roles import Role
from applications import services
from applications.models import Application
from scheduling.models import Activity, Deviation, Proposal
from scheduling.selectors import working_calendar
from tests.api.conftest import token_client
from tests.dates import SHANGHAI, pin_today
from tests.factories import UserFactory, make_application

pytestmark = [pytest.mark.django_db, pin_today]

WEDNESDAY = 2
# The week of 2 March 2026 has no holiday: Monday 2 to Friday 6.
WEEK = [date(2026, 3, 2) + timedelta(days=n) for n in range(5)]


def activities(application) -> dict[str, Activity]:
    return {
        a.code: a
        for a in Activity.objects.filter(application=application).exclude(code="")
        if not a.is_dummy
    }


def record(application, code, start, finish, by, today):
    """Record an activity's start and finish as its department would on ``today``."""
    activity = activities(application)[code]
    with time_machine.travel(datetime.combine(today, time(17), tzinfo=SHANGHAI), tick=False):
        services.activity_progress_record(
            activity_id=activity.pk, start=start, finish=finish, by=by, today=today
        )


def open_deviation(application) -> Deviation:
    """Return the one deviation left open (the deviations of the activities
    recorded one at a time before it are resolved by then)."""
    return Deviation.objects.exclude(status=Deviation.Status.RESOLVED).get(application=application)


def on_plan(application, codes, by, today):
    """Record ``codes`` as planned: each on its baseline days."""
    planned = activities(application)
    for code in codes:
        record(
            application,
            code,
            planned[code].baseline_start,
            planned[code].baseline_finish,
            by,
            today,
        )


@pytest.mark.parametrize("accepted_on", WEEK, ids=lambda day: day.strftime("%a"))
def test_the_plan_holds_the_meeting_on_its_weekday_and_commits_to_a_date_it_keeps(
    supervisor, manager, accepted_on
):
    application = make_application(by=supervisor, manager=manager, accepted_on=accepted_on)
    planned = activities(application)
    meeting = planned["G"]
    assert meeting.baseline_start.weekday() == WEDNESDAY
    assert meeting.forecast_start == meeting.baseline_start
    assert application.plan_meeting_weekday == WEDNESDAY
    # Whatever the weekday of acceptance, the commitment leaves the plan its one day of
    # margin: the wait for the meeting is added to it, as the customer's own time is.
    calendar = working_calendar()
    ready = calendar.next_working_day(planned["F"].baseline_finish)
    wait = calendar.working_days_between(ready, meeting.baseline_start)
    assert application.committed_duration == 52 + wait
    assert application.total_float == 1
    assert application.forecast_finish_date == calendar.add_working_days(
        application.committed_finish_date, -1
    )


def test_accepted_on_a_monday_the_drafting_waits_two_days_for_wednesday(supervisor, manager):
    application = make_application(by=supervisor, manager=manager, accepted_on=WEEK[0])
    planned = activities(application)
    # F ends on Friday 13 March; Monday and Tuesday are waited, the meeting is Wednesday
    # 18 March. The wait is F's free float: F may end two days late at no cost.
    assert planned["F"].baseline_finish == date(2026, 3, 13)
    assert planned["G"].baseline_start == date(2026, 3, 18)
    assert (planned["F"].baseline_ff, planned["F"].baseline_tf) == (2, 2)
    assert application.committed_duration == 54
    assert application.committed_finish_date == date(2026, 5, 19)


def test_a_delay_within_the_wait_costs_nothing(supervisor, manager):
    application = make_application(by=supervisor, manager=manager, accepted_on=WEEK[0])
    before = application.forecast_finish_date
    on_plan(application, "ABCDE", manager, date(2026, 3, 9))
    # F takes six days instead of four: it ends on Tuesday 17 March, the eve of the meeting.
    record(application, "F", date(2026, 3, 10), date(2026, 3, 17), manager, date(2026, 3, 17))
    application.refresh_from_db()
    assert application.forecast_finish_date == before
    assert activities(application)["G"].forecast_start == date(2026, 3, 18)
    found = open_deviation(application)
    assert (found.activity.code, found.delay, found.severity) == ("F", 2, "info")


def test_a_delay_that_misses_the_meeting_moves_the_finish_by_a_week(supervisor, manager):
    application = make_application(by=supervisor, manager=manager, accepted_on=WEEK[0])
    before = application.forecast_finish_date
    on_plan(application, "ABCDE", manager, date(2026, 3, 9))
    # F ends on Wednesday 18 March, three days late: the meeting of that day is missed and
    # the next is Wednesday 25 March. One day later for F is five for the application.
    record(application, "F", date(2026, 3, 10), date(2026, 3, 18), manager, date(2026, 3, 18))
    application.refresh_from_db()
    planned = activities(application)
    assert planned["G"].forecast_start == date(2026, 3, 25)
    calendar = working_calendar()
    assert application.forecast_finish_date == calendar.add_working_days(before, 5)
    # Four days past the commitment; the float now is that of the meeting, which would have
    # to be held a week earlier to keep it.
    assert application.forecast_finish_date == calendar.add_working_days(
        application.committed_finish_date, 4
    )
    assert application.total_float == -5
    # One deviation, on F, which caused it: the meeting inherits its week from F.
    found = open_deviation(application)
    assert (found.activity.code, found.delay, found.severity) == ("F", 3, "red")
    # Its effects are measured, not the formulas' Δ − FF = 1 and Δ − TF = 1: missing the
    # meeting moves the successors by a week and the finish four days past the commitment.
    assert (found.successor_slip, found.total_slip, found.commitment_overrun) == (5, 5, 4)


def test_catching_the_meeting_comes_true_when_the_work_is_done_by_the_day_it_names(
    supervisor, manager
):
    # Accepted on Wednesday 4 March: E on 10-11 March, F on 12-17 March, the meeting on
    # Wednesday 18 March with no wait, so every day E or F loses costs a week.
    application = make_application(by=supervisor, manager=manager, accepted_on=WEEK[2])
    planned = activities(application)
    assert (planned["F"].baseline_finish, planned["G"].baseline_start) == (
        date(2026, 3, 17),
        date(2026, 3, 18),
    )
    on_plan(application, "ABCD", manager, date(2026, 3, 9))
    # E takes three days instead of two: F, at four days, would end on 18 March, one day
    # too late for the meeting.
    record(application, "E", date(2026, 3, 10), date(2026, 3, 12), manager, date(2026, 3, 12))
    application.refresh_from_db()
    calendar = working_calendar()
    waiting = application.forecast_finish_date
    assert activities(application)["G"].forecast_start == date(2026, 3, 25)
    proposal = Proposal.objects.get(
        application=application, kind="meeting", status=Proposal.Status.PROPOSED
    )
    assert proposal.activities == ["G", "F"]
    # F must end before the meeting day: cut from four days to three (it may go to two).
    day0 = calendar.project_day_zero(application.start_date)
    assert calendar.offset_to_date(day0, proposal.detail["meeting_day"]) == date(2026, 3, 18)
    finish_by = calendar.offset_to_date(day0, proposal.detail["finish_by"]["F"] - 1)
    assert finish_by == date(2026, 3, 17)
    assert proposal.days_recovered == 5
    assert proposal.new_finish == calendar.add_working_days(waiting, -5)

    # Planning does it: F from 13 to 17 March. The forecast becomes the proposal's what-if.
    record(application, "F", date(2026, 3, 13), finish_by, manager, date(2026, 3, 17))
    application.refresh_from_db()
    assert activities(application)["G"].forecast_start == date(2026, 3, 18)
    assert application.forecast_finish_date == proposal.new_finish


def test_a_re_plan_holds_the_meeting_and_a_new_meeting_day_moves_no_existing_plan(
    settings, supervisor, manager
):
    application = make_application(by=supervisor, manager=manager, accepted_on=WEEK[0])
    settings.REVIEW_MEETING_WEEKDAY = 3  # the office moves its meeting to Thursday
    application.refresh_from_db()
    planned = activities(application)
    # The plan keeps the weekday it was made with until it is re-planned.
    assert application.plan_meeting_weekday == WEDNESDAY
    assert planned["G"].forecast_start.weekday() == WEDNESDAY
    services.application_replan(
        application_id=application.pk,
        durations={"H": 2},
        reason="方案编制复核增加一天",
        by=supervisor,
        today=date(2026, 3, 3),
    )
    application.refresh_from_db()
    assert application.plan_meeting_weekday == 3
    assert activities(application)["G"].baseline_start == date(2026, 3, 19)
    assert application.baselines.count() == 2


def test_an_office_without_a_weekly_meeting_plans_it_when_the_work_is_ready(
    settings, supervisor, manager
):
    settings.REVIEW_MEETING_WEEKDAY = None
    application = make_application(by=supervisor, manager=manager, accepted_on=WEEK[0])
    planned = activities(application)
    assert application.plan_meeting_weekday is None
    assert planned["G"].baseline_start == date(2026, 3, 16)  # the Monday F's work allows
    assert application.committed_duration == 52
    assert Application.objects.get(pk=application.pk).total_float == 1


def test_the_page_shows_the_wait_for_the_meeting_day(client, supervisor, manager):
    application = make_application(by=supervisor, manager=manager, accepted_on=WEEK[0])
    client.force_login(manager)
    html = client.get(f"/applications/{application.number}/").content.decode()
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*供电方案审查会.*?</tr>", html, re.S).group(0)
    assert "等候例会日 2 个工作日" in row
    assert "等候例会日" not in html.replace(row, "")


@pytest.mark.parametrize("through", ["page", "api"])
def test_catching_the_meeting_is_accepted_as_an_instruction(client, supervisor, manager, through):
    planner = UserFactory(role=Role.DEPARTMENT_STAFF, department_code="planning")
    metering = UserFactory(role=Role.DEPARTMENT_STAFF, department_code="metering")
    application = make_application(by=supervisor, manager=manager, accepted_on=WEEK[2])
    on_plan(application, "ABCD", manager, date(2026, 3, 9))
    record(application, "E", date(2026, 3, 10), date(2026, 3, 12), manager, date(2026, 3, 12))
    application.refresh_from_db()
    proposal = Proposal.objects.get(
        application=application, kind="meeting", status=Proposal.Status.PROPOSED
    )
    with time_machine.travel(datetime.combine(date(2026, 3, 12), time(18), tzinfo=SHANGHAI)):
        if through == "page":
            client.force_login(supervisor)
            url = f"/applications/{application.number}/proposals/{proposal.pk}/accept/"
            assert url in client.get(f"/applications/{application.number}/").content.decode()
            assert client.post(url).status_code == 302
        else:
            url = f"/api/v1/deviations/{proposal.deviation_id}/proposals/{proposal.pk}/accept/"
            answer = token_client(supervisor).post(url)
            assert answer.status_code == 200, answer.content
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (Proposal.Status.ACCEPTED, supervisor)
    # An instruction to planning (finish F by 17 March), not a change of the plan: the
    # baseline stays, and the forecast moves when the work is recorded.
    assert application.baselines.count() == 1
    # Planning, whose drafting F must be done by then, is told in the application.
    told = Notification.objects.get(recipient=planner, kind="measure")
    assert told.text.startswith(f"{application.number} 已采纳纠偏措施：")
    assert "供电方案设计提前1个工作日完成" in told.text and not told.by_mail
    assert not Notification.objects.filter(recipient=metering).exists()
