"""The live loop: a change is analysed at once, by the sweep's own code, through one path.

- Progress recorded in the page, the API and the administration is one service call:
  the same rows and the same refusals.
- After a progress entry, a transition, a re-plan and an accepted proposal, without any
  sweep, the stored analysis is what a full sweep writes: the sweep afterwards changes
  nothing.
- A proposal computed from an earlier forecast is refused (409) with its reason; two
  open proposals of one measure cannot exist.
"""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction

from applications import services
from applications.models import Application
from applications.sweep import deviation_sweep
from scheduling.models import Activity, ActivityEvent, Deviation, Proposal
from tests.api.conftest import assert_problem, token_client
from tests.factories import make_application
from yekuo.errors import TransitionNotAllowed

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)  # a Monday
WEDNESDAY = datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def application(supervisor, manager):
    return make_application(by=supervisor, manager=manager, accepted_on=DAY0)


def activity(application, code) -> Activity:
    return Activity.objects.get(application=application, code=code)


def analysis(application) -> dict:
    """Every stored result of the analysis of ``application``, keys included."""
    application = Application.objects.get(pk=application.pk)
    return {
        "application": (
            application.forecast_finish_date,
            application.total_float,
            application.time_limit_status,
        ),
        "activities": list(
            Activity.objects.filter(application=application, is_dummy=False)
            .order_by("code")
            .values_list(
                "code",
                "forecast_start",
                "forecast_finish",
                "forecast_tf",
                "forecast_ff",
                "is_critical",
            )
        ),
        "deviations": list(
            Deviation.objects.filter(application=application)
            .order_by("pk")
            .values_list(
                "pk", "activity__code", "status", "severity", "delay", "total_float", "free_float"
            )
        ),
        "proposals": list(
            Proposal.objects.filter(application=application)
            .order_by("pk")
            .values_list(
                "pk",
                "deviation_id",
                "measure",
                "status",
                "new_finish",
                "days_recovered",
                "basis",
                "basis_finish",
            )
        ),
    }


def assert_a_sweep_changes_nothing(application, now):
    """Compute the application again from scratch, as a full sweep would: the same rows."""
    before = analysis(application)
    Application.objects.filter(pk=application.pk).update(sweep_fingerprint="")
    stats = deviation_sweep(now=now)
    assert (stats.unchanged, stats.opened, stats.resolved, stats.updated, stats.proposals) == (
        0,
        {},
        {},
        0,
        0,
    )
    assert analysis(application) == before
    return before


def late_start(application, manager, *, now=WEDNESDAY):
    """A (1 day, critical) started on day 0 and needs 3 more days from Wednesday: red."""
    a = activity(application, "A")
    services.activity_progress_record(
        activity_id=a.pk, start=DAY0, remaining=3, by=manager, now=now, today=now.date()
    )
    return a


# --- One progress service, three doors ------------------------------------------------------


def _record(door, *, client, application, a, data):
    """Record ``data`` on activity ``a`` through ``door``; return the refusal shown, if any."""
    version = Application.objects.get(pk=application.pk).version
    if door == "page":
        response = client.post(
            f"/applications/{application.number}/activities/{a.pk}/progress/",
            {**data, "version": version},
            follow=True,
        )
        html = response.content.decode()
        found = re.findall(r'<p class="field-error"[^>]*>([^<]+)</p>', html)
        found += [str(m) for m in response.context["messages"] if m.level_tag == "error"]
        return found
    if door == "api":
        response = client.patch(
            f"/api/v1/applications/{application.pk}/activities/{a.code}/",
            data,
            format="json",
            HTTP_IF_MATCH=f'W/"{version}"',
        )
        if response.status_code == 200:
            return []
        body = response.json()
        return [m for messages in body["errors"].values() for m in messages]
    response = client.post(
        f"/admin/applications/application/{application.pk}/progress/",
        {**data, "activity": a.pk, "version": version},
        follow=True,
    )
    return [str(m) for m in response.context["messages"] if m.level_tag == "error"]


@pytest.fixture
def door_client(request, client, admin_user, manager):
    door = request.param
    if door == "api":
        return door, token_client(manager, language=None), manager
    if door == "admin":
        client.force_login(admin_user)
        return door, client, admin_user
    client.force_login(manager)
    return door, client, manager


@pytest.mark.parametrize("door_client", ["page", "api", "admin"], indirect=True)
def test_the_page_the_api_and_the_admin_record_progress_alike(door_client, supervisor, manager):
    door, client, user = door_client
    mine = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    twin = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    with time_machine.travel(WEDNESDAY, tick=False):
        refused = _record(
            door,
            client=client,
            application=mine,
            a=activity(mine, "A"),
            data={"actual_start": "2026-03-05"},
        )
        refused += _record(
            door,
            client=client,
            application=mine,
            a=activity(mine, "A"),
            data={"actual_start": "2026-03-02", "actual_finish": "2026-03-03", "remaining": "2"},
        )
        assert (
            _record(
                door,
                client=client,
                application=mine,
                a=activity(mine, "A"),
                data={"actual_start": "2026-03-02", "remaining": "3"},
            )
            == []
        )
        late_start(twin, user)
    # The same refusals, word for word, as the service gives them.
    assert refused == [
        "2026年3月5日 是将来的日期。",
        "已完成的工作没有剩余工作日：请填写完成日期或剩余工作日，不要同时填写。",
    ]
    # The same rows as the service writes when called directly, the analysis included.
    assert Application.objects.get(pk=mine.pk).version == 2
    assert list(
        ActivityEvent.objects.filter(activity__application=mine).values_list("kind", "days", "by")
    ) == [("started", None, user.pk), ("remaining", 3, user.pk)]
    mine_rows, twin_rows = analysis(mine), analysis(twin)
    assert mine_rows["application"] == twin_rows["application"]
    assert mine_rows["activities"] == twin_rows["activities"]
    assert [row[1:] for row in mine_rows["deviations"]] == [
        row[1:] for row in twin_rows["deviations"]
    ]
    assert [row[2:] for row in mine_rows["proposals"]] == [
        row[2:] for row in twin_rows["proposals"]
    ]
    assert [row[1:4] for row in mine_rows["deviations"]] == [("A", "open", "red")]


# --- The analysis at once equals the sweep's -----------------------------------------------


def test_after_a_progress_entry_the_page_and_the_sweep_agree(client, application, manager):
    late_start(application, manager)
    rows = assert_a_sweep_changes_nothing(application, WEDNESDAY)
    # A needs 3 more days from the end of Wednesday (day 3): it finishes on day 6, not 1.
    assert [row[1:5] for row in rows["deviations"]] == [("A", "open", "red", 5)]
    assert rows["proposals"], "a red deviation comes with its corrective proposals"
    # The page shows the same numbers: the deviation's float beside the forecast's.
    client.force_login(manager)
    with time_machine.travel(WEDNESDAY, tick=False):
        html = client.get(f"/applications/{application.number}/").content.decode()
    row = Deviation.objects.get(application=application)
    assert f'<p class="explanation">{row}</p>' in html
    finish = Application.objects.get(pk=application.pk).forecast_finish_date
    shown = re.search(r'<strong id="forecast-finish">([^<]+)</strong>', html).group(1)
    assert shown == f"{finish.year}年{finish.month}月{finish.day}日"


def test_after_a_transition_the_analysis_is_the_sweeps(application, manager):
    for code in "ABCD":
        a = activity(application, code)
        services.activity_progress_record(
            activity_id=a.pk, start=DAY0, finish=DAY0, by=manager, now=WEDNESDAY
        )
    services.application_transition(
        application_id=application.pk, transition="start_survey", by=manager, now=WEDNESDAY
    )
    assert Application.objects.get(pk=application.pk).state == "survey"
    assert_a_sweep_changes_nothing(application, WEDNESDAY)


def test_after_a_re_plan_the_analysis_is_the_sweeps(application, manager, supervisor):
    late_start(application, manager)
    services.application_replan(
        application_id=application.pk,
        durations={"K": 10},
        reason="客户缩短施工工期",
        by=supervisor,
        now=WEDNESDAY,
    )
    rows = assert_a_sweep_changes_nothing(application, WEDNESDAY)
    # The proposals computed before the re-plan are superseded by ones of the new plan.
    finish = Application.objects.get(pk=application.pk).forecast_finish_date
    open_ones = [row for row in rows["proposals"] if row[3] == "proposed"]
    assert open_ones and {row[7] for row in open_ones} == {finish}
    assert len({row[6] for row in open_ones}) == 1
    assert any(row[3] == "superseded" for row in rows["proposals"])


def test_accepting_a_proposal_answers_with_the_new_analysis(application, manager, supervisor):
    late_start(application, manager)
    before = Application.objects.get(pk=application.pk).forecast_finish_date
    shorten = Proposal.objects.filter(application=application, kind="shorten").first()
    client = token_client(supervisor)
    with time_machine.travel(WEDNESDAY, tick=False):
        response = client.post(
            f"/api/v1/deviations/{shorten.deviation_id}/proposals/{shorten.pk}/accept/"
        )
    assert response.status_code == 200, response.content
    after = Application.objects.get(pk=application.pk).forecast_finish_date
    assert after < before
    # The answer already lists the deviation as the analysis after the re-plan left it.
    body = response.json()
    stored = Deviation.objects.get(pk=shorten.deviation_id)
    assert (body["delay"], body["severity"], body["total_float"]) == (
        stored.delay,
        stored.severity,
        stored.total_float,
    )
    assert {p["id"]: p["status"] for p in body["proposals"]}[shorten.pk] == "accepted"
    assert_a_sweep_changes_nothing(application, WEDNESDAY)


# --- Proposals that cannot lie -------------------------------------------------------------


def test_a_proposal_of_an_earlier_forecast_is_refused_with_its_reason(
    application, manager, supervisor
):
    late_start(application, manager)
    shorten = Proposal.objects.filter(application=application, kind="shorten").first()
    # Two days later, nobody having swept: A is later still, the proposal is stale.
    friday = datetime(2026, 3, 6, 10, 0, tzinfo=SHANGHAI)
    client = token_client(supervisor)
    with time_machine.travel(friday, tick=False):
        response = client.post(
            f"/api/v1/deviations/{shorten.deviation_id}/proposals/{shorten.pk}/accept/"
        )
    problem = assert_problem(response, 409)
    assert "The forecast changed since this proposal was computed" in problem["detail"]
    shorten.refresh_from_db()
    assert shorten.status == "superseded"
    # The analysis of Friday is stored, with its own proposals: they can be accepted.
    fresh = Proposal.objects.get(
        application=application, measure=shorten.measure, status="proposed"
    )
    assert fresh.basis_finish == Application.objects.get(pk=application.pk).forecast_finish_date
    with time_machine.travel(friday, tick=False):
        response = client.post(
            f"/api/v1/deviations/{fresh.deviation_id}/proposals/{fresh.pk}/accept/"
        )
    assert response.status_code == 200, response.content


def test_the_page_says_why_a_stale_proposal_is_refused(client, application, manager, supervisor):
    late_start(application, manager)
    shorten = Proposal.objects.filter(application=application, kind="shorten").first()
    client.force_login(supervisor)
    with time_machine.travel(datetime(2026, 3, 6, 10, 0, tzinfo=SHANGHAI), tick=False):
        response = client.post(
            f"/applications/{application.number}/proposals/{shorten.pk}/accept/", follow=True
        )
    assert [str(m) for m in response.context["messages"]] == [
        "此纠偏措施计算后预测已变化：它已不能说明采纳后的结果。按当前预测计算的纠偏措施见申请页面。"
    ]
    assert Proposal.objects.get(pk=shorten.pk).status == "superseded"


def test_a_measure_that_recovers_nothing_is_refused(application, manager, supervisor):
    late_start(application, manager)
    shorten = Proposal.objects.filter(application=application, kind="shorten").first()
    forecast = Application.objects.get(pk=application.pk).forecast_finish_date
    Proposal.objects.filter(pk=shorten.pk).update(new_finish=forecast)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.proposal_accept(proposal_id=shorten.pk, by=supervisor, now=WEDNESDAY)
    assert refused.value.message.endswith("不能挽回工期。")
    assert Proposal.objects.get(pk=shorten.pk).status == "proposed"


def test_two_open_proposals_of_one_measure_cannot_be_stored(application, manager):
    late_start(application, manager)
    proposal = Proposal.objects.filter(application=application, status="proposed").first()
    proposal.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        proposal.save()
    # A decided one may repeat the measure of an open one.
    proposal.status = "dismissed"
    proposal.save()


def test_each_measure_is_proposed_once_per_application(application, manager):
    # A late, and B (after A) started late as well: two red deviations, one set of measures.
    a = late_start(application, manager)
    services.activity_progress_record(
        activity_id=a.pk, finish=date(2026, 3, 4), by=manager, now=WEDNESDAY
    )
    b = activity(application, "B")
    services.activity_progress_record(
        activity_id=b.pk, start=date(2026, 3, 4), remaining=4, by=manager, now=WEDNESDAY
    )
    open_deviations = Deviation.objects.filter(application=application).exclude(status="resolved")
    assert open_deviations.count() >= 1
    measures = list(
        Proposal.objects.filter(application=application, status="proposed").values_list(
            "measure", flat=True
        )
    )
    assert measures and len(measures) == len(set(measures))
    assert_a_sweep_changes_nothing(application, WEDNESDAY)


def test_a_calendar_change_sweeps_at_once(admin_user, django_capture_on_commit_callbacks):
    from scheduling import services as schedule_services

    with django_capture_on_commit_callbacks() as callbacks:
        schedule_services.calendar_override_set(
            day=date(2026, 3, 4), is_working=False, by=admin_user
        )
    # One callback rebuilds the calendar and announces it; answering, the applications
    # app sends the whole sweep.
    with django_capture_on_commit_callbacks() as sent:
        for callback in callbacks:
            callback()
    assert [c.__qualname__ for c in sent] == ["enqueue_on_commit.<locals>.send"]


def test_a_change_that_moves_no_forecast_leaves_the_proposals_acceptable(
    application, manager, supervisor
):
    late_start(application, manager)
    shorten = Proposal.objects.filter(application=application, kind="shorten").first()
    services.application_update(
        application_id=application.pk, changes={"is_important": True}, by=manager
    )
    with time_machine.travel(WEDNESDAY, tick=False):
        services.proposal_accept(proposal_id=shorten.pk, by=supervisor)
    assert Proposal.objects.get(pk=shorten.pk).status == "accepted"


def test_a_failed_analysis_keeps_the_change_and_sends_it_to_a_worker(
    application, manager, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    # A failure injected into the analysis (a plan the engine refuses, say): the progress
    # entry is stored all the same, and the analysis of the one application is queued.
    from applications.sweep import analyse

    def broken(*args, **kwargs):
        raise RuntimeError("the engine refused the plan")

    monkeypatch.setattr(analyse, "forecast_digest", broken)
    a = activity(application, "A")
    with django_capture_on_commit_callbacks() as callbacks:
        services.activity_progress_record(
            activity_id=a.pk, start=DAY0, remaining=3, by=manager, now=WEDNESDAY
        )
    a.refresh_from_db()
    assert (a.actual_start, a.remaining) == (DAY0, 3)
    assert Application.objects.get(pk=application.pk).version == 2
    assert not Deviation.objects.filter(application=application).exists()
    assert "analysis of application" in caplog.text
    assert [c.__qualname__ for c in callbacks] == ["enqueue_on_commit.<locals>.send"]
    # The worker's task, run here, analyses it as the transaction would have.
    monkeypatch.undo()
    from applications.tasks import reanalyse_application

    with time_machine.travel(WEDNESDAY, tick=False):
        result = reanalyse_application(application.pk)
    assert result["opened"] == {"red": 1}


# --- A hand-over within one day ---------------------------------------------------------------


def test_a_start_on_the_day_the_predecessor_finished_keeps_the_critical_path(application, manager):
    # A (1 day) starts and finishes on Monday, day 0; B starts that same Monday. As of the
    # end of Monday (offset 1) A is EF 1, B is ES 0 with 1 - (1 - 0) = 0 days left: EF 1.
    # The rest of the chain C..P then runs a day ahead of the plan, so every activity on it,
    # A and B included, has the same float, and none has a negative free float.
    monday = datetime(2026, 3, 2, 18, 0, tzinfo=SHANGHAI)
    a, b = activity(application, "A"), activity(application, "B")
    services.activity_progress_record(
        activity_id=a.pk, start=DAY0, finish=DAY0, by=manager, now=monday, today=DAY0
    )
    services.activity_progress_record(
        activity_id=b.pk, start=DAY0, by=manager, now=monday, today=DAY0
    )

    stored = {
        code: (tf, ff, critical)
        for code, _start, _finish, tf, ff, critical in analysis(application)["activities"]
    }
    on_path = stored["C"][0]
    assert stored["A"] == (on_path, 0, True)
    assert stored["B"] == (on_path, 0, True)
    assert all(ff >= 0 for _tf, ff, _critical in stored.values())
    assert [code for code, (_tf, _ff, critical) in stored.items() if critical] == [
        *"ABCDEFGHIJKL",
        "O",
        "P",
    ]
    # The plan takes 51 working days (A..L 48, O and P 3) against a committed 52; a day
    # ahead, the forecast takes 50: two days of float along the path.
    application.refresh_from_db()
    assert application.committed_duration == 52
    assert application.total_float == on_path == 2
