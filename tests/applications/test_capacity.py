"""A region's applications levelled against the crews they share, stored on each
application, and the command that runs it."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from accounts.models import Department
from applications import capacity, services
from applications.models import Application, CapacityMeasure
from applications.sweep import deviation_sweep_batch
from scheduling import services as schedule_services
from scheduling.calendar import WorkingCalendar
from scheduling.models import Activity, Crew, CrewCapacityChange
from tests.dates import pin_today
from tests.factories import RegionFactory, make_application
from yekuo.errors import NotPermitted, TransitionNotAllowed

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db, pin_today]

DAY0 = date(2026, 3, 2)  # a Monday
BEFORE = date(2026, 2, 27)  # the Friday before: nothing has started
WORKING_DAYS = WorkingCalendar()
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def region():
    return RegionFactory(code="xihu", name="西湖供电区")


@pytest.fixture
def three(supervisor, manager, region):
    return [
        make_application(by=supervisor, manager=manager, region=region, accepted_on=DAY0)
        for _ in range(3)
    ]


def survey_crews(application, region, capacity_per_day):
    survey = Activity.objects.get(application=application, crew_kind="survey")
    return survey, [
        Crew.objects.create(kind="survey", department=d, region=region, capacity=capacity_per_day)
        for d in (survey.department, *survey.joint_departments.all())
    ]


def test_one_survey_crew_makes_two_of_three_applications_wait(three, region):
    survey, crews = survey_crews(three[0], region, 1)
    result = capacity.region_levelling(region, today=BEFORE)
    assert capacity.capacity_forecasts_store(result) == 3
    rows = list(
        Application.objects.filter(region=region)
        .order_by("pk")
        .values_list(
            "capacity_as_of",
            "capacity_delay",
            "capacity_waits",
            "forecast_finish_date",
            "levelled_finish_date",
        )
    )
    assert [row[0] for row in rows] == [BEFORE] * 3
    # The same plan, the same float: the queue follows the order of the applications. The
    # second waits one survey's length, the third two.
    waits = [sum(w["days"] for w in row[2]) for row in rows]
    assert waits == [0, survey.duration, 2 * survey.duration]
    assert {w["crew"] for row in rows for w in row[2]} <= {str(c) for c in crews}
    assert rows[2][1] >= rows[1][1] >= 0
    for _as_of, delay, _waits, forecast, levelled in rows:
        assert levelled >= forecast and (delay > 0) == (levelled > forecast)
    # Crews not set up leave their activities unconstrained, and are named.
    assert any("班组" in name for name in result.missing)


def test_enough_crews_or_a_crew_away_change_the_queue(three, region):
    survey, crews = survey_crews(three[0], region, 3)
    result = capacity.region_levelling(region, today=BEFORE)
    assert all(p.delay == 0 and not p.waits for p in result.found.projects.values())
    # The crews away on the survey's first day: everyone waits.
    start = Activity.objects.get(pk=survey.pk).baseline_start
    for crew in crews:
        CrewCapacityChange.objects.create(
            crew=crew, first_day=start, last_day=start, capacity=0, reason="培训"
        )
    away = capacity.region_levelling(region, today=BEFORE)
    assert all(p.waits for p in away.found.projects.values())


def test_the_command_levels_each_region_and_refuses_an_unknown_one(three, region):
    survey_crews(three[0], region, 1)
    out = io.StringIO()
    call_command("level_capacity", "--region", "xihu", "--today", "2026-02-27", stdout=out)
    line = out.getvalue().strip()
    assert line.startswith("xihu: 3 applications levelled, ")
    assert "over capacity:" in line and "no crew set up:" in line
    assert Application.objects.filter(region=region, capacity_as_of=BEFORE).count() == 3
    with pytest.raises(CommandError, match="--region: no active region 'nowhere'"):
        call_command("level_capacity", "--region", "nowhere", stdout=io.StringIO())
    with pytest.raises(CommandError, match="--today: expected a date"):
        call_command("level_capacity", "--today", "someday", stdout=io.StringIO())


def test_the_application_page_says_what_the_application_waits_for(client, three, region, manager):
    _survey, crews = survey_crews(three[0], region, 1)
    capacity.capacity_forecasts_store(capacity.region_levelling(region, today=BEFORE))
    last = Application.objects.get(pk=three[2].pk)
    assert last.capacity_delay > 0
    client.force_login(manager)
    html = client.get(f"/applications/{last.number}/").content.decode()
    day = last.levelled_finish_date
    assert (
        f"按区域共享班组排队：{day.year}年{day.month}月{day.day}日 完成，"
        f"晚 {last.capacity_delay} 个工作日。" in html
    )
    wait = last.capacity_waits[0]
    assert f"等待 {wait['crew']}：+{wait['days']} 个工作日" in html
    first = Application.objects.get(pk=three[0].pk)
    assert first.capacity_delay == 0
    assert 'id="capacity-wait"' not in client.get(f"/applications/{first.number}/").content.decode()


def test_the_dashboard_shows_the_crews_most_over_capacity_by_week(
    client, three, region, supervisor
):
    _survey, crews = survey_crews(three[0], region, 1)
    capacity.capacity_forecasts_store(capacity.region_levelling(region, today=BEFORE))
    loaded = Crew.objects.filter(pk__in=[c.pk for c in crews]).exclude(load={})
    assert loaded.count() == len(crews)
    busiest = max(loaded, key=lambda c: c.over_capacity_days)
    first_day, demand, _booked, limit = busiest.load["days"][0]
    assert (first_day, limit) == ("2026-03-02", 1)
    assert busiest.over_capacity_days > 0
    client.force_login(supervisor)
    html = client.get("/dashboard/", {"region": region.pk}).content.decode()
    section = html[html.index('id="crew-loads"') : html.index('id="deviation-answers"')]
    assert f'id="crew-{busiest.pk}"' in section
    assert f"{busiest.over_capacity_days} 个工作日超出承载能力" in section
    assert 'class="bar-over"' in section


def test_a_crews_load_opens_day_by_day_with_the_days_over_capacity_marked(
    client, three, region, supervisor, manager, django_assert_max_num_queries
):
    _survey, crews = survey_crews(three[0], region, 1)
    capacity.capacity_forecasts_store(capacity.region_levelling(region, today=BEFORE))
    loaded = Crew.objects.filter(pk__in=[c.pk for c in crews])
    crew = max(loaded, key=lambda c: c.over_capacity_days)
    url = f"/dashboard/crews/{crew.pk}/days/"
    client.force_login(supervisor)
    dashboard = client.get("/dashboard/", {"region": region.pk}).content.decode()
    assert f'hx-get="{url}"' in dashboard and "按日查看" in dashboard
    # Asked on demand by the dashboard (htmx): the chart alone, one bar per working day.
    with django_assert_max_num_queries(6):
        response = client.get(url, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    days = crew.load["days"]
    assert html.count("<g>") == len(days) == capacity.LOAD_DAYS
    over = [day for day, demand, _booked, limit in days if limit is not None and demand > limit]
    assert len(over) == crew.over_capacity_days > 0
    assert html.count('class="bar-over"') == len(over)
    first_over = date.fromisoformat(over[0])
    assert f'<span class="badge red">{first_over.month}月{first_over.day}日</span>' in html
    # Opened as a page of its own (no script): the same chart under the crew's name.
    page = client.get(url).content.decode()
    assert "<html" in page and region.name in page
    assert page.count('class="bar-over"') == len(over)
    assert client.get("/dashboard/crews/999999/days/").status_code == 404
    client.force_login(manager)
    assert client.get(url).status_code == 403


def test_the_api_gives_the_finish_with_shared_crews_and_the_waits(three, region, supervisor):
    from tests.api.conftest import token_client

    survey_crews(three[0], region, 1)
    capacity.capacity_forecasts_store(capacity.region_levelling(region, today=BEFORE))
    last = Application.objects.get(pk=three[2].pk)
    body = token_client(supervisor).get(f"/api/v1/applications/{last.pk}/").json()
    assert body["levelled_finish_date"] == last.levelled_finish_date.isoformat()
    assert body["capacity_delay"] == last.capacity_delay > 0
    assert body["capacity_waits"] == last.capacity_waits
    assert body["capacity_waits"][0]["days"] > 0


# --- Measures that relieve the queue ---------------------------------------------------------


@pytest.fixture
def five_for_one_meeting(settings, meetings_when_ready, supervisor, manager, region):
    """Five applications whose plans are ready for the same Wednesday meeting (their plans
    hold it on Wednesdays), which can review three."""
    settings.REVIEW_MEETING_WEEKDAY = 2
    applications = [
        make_application(by=supervisor, manager=manager, region=region, accepted_on=DAY0)
        for _ in range(5)
    ]
    meeting = Activity.objects.get(application=applications[0], crew_kind="review_meeting")
    crew = Crew.objects.create(
        kind="review_meeting",
        department=meeting.department,
        region=region,
        capacity=3,
    )
    return applications, crew


def levelled_finishes(region) -> dict[int, date]:
    return dict(Application.objects.filter(region=region).values_list("pk", "levelled_finish_date"))


def test_an_extra_meeting_is_proposed_and_once_accepted_gives_what_it_said(
    five_for_one_meeting, region, supervisor
):
    applications, crew = five_for_one_meeting
    capacity.region_level_and_store(region, today=BEFORE)
    before = levelled_finishes(region)
    late = {a.pk for a in Application.objects.filter(region=region, capacity_delay__gt=0)}
    assert len(late) == 2
    measure = CapacityMeasure.objects.get(region=region, status="proposed")
    assert (measure.kind, measure.crew) == ("extra_meeting", crew)
    # The meeting day itself is full; the extra one is held the next (working) day.
    reviewed = measure.first_day
    assert measure.last_day == reviewed and reviewed.weekday() == 3
    assert measure.capacity == {reviewed.isoformat(): 3}
    promised = {pk: date.fromisoformat(after) for pk, _number, _before, after in measure.effect}
    assert set(promised) == late
    assert measure.applications_helped == 2 and measure.applications_hurt == 0
    # Each was to wait a week (5 working days) for the next meeting; reviewed on Thursday,
    # each is 4 working days sooner, one day behind the three reviewed on Wednesday.
    assert [Application.objects.get(pk=pk).capacity_delay for pk in late] == [5, 5]
    # The week took both past their committed finish; the Thursday keeps it.
    assert measure.days_saved == 8 and measure.commitments_kept == 2
    assert all(WORKING_DAYS.working_days_between(promised[pk], before[pk]) == 4 for pk in late)

    services.capacity_measure_accept(measure_id=measure.pk, by=supervisor)
    change = CrewCapacityChange.objects.get(crew=crew)
    assert (change.first_day, change.last_day, change.capacity) == (reviewed, reviewed, 3)
    assert change.created_by == supervisor
    day = f"{reviewed.month}月{reviewed.day}日"
    assert change.reason.startswith(f"已采纳产能措施：{day}加开一次审查会")
    measure.refresh_from_db()
    assert (measure.status, measure.decided_by) == ("accepted", supervisor)

    capacity.region_level_and_store(region, today=BEFORE)
    # What the measure said, application by application; the others unchanged.
    assert levelled_finishes(region) == {**before, **promised}
    assert [Application.objects.get(pk=pk).capacity_delay for pk in late] == [1, 1]
    assert not CapacityMeasure.objects.filter(region=region, status="proposed").exists()


def test_a_measure_is_decided_once_and_by_a_supervisor(
    five_for_one_meeting, region, supervisor, manager
):
    capacity.region_level_and_store(region, today=BEFORE)
    measure = CapacityMeasure.objects.get(region=region, status="proposed")
    with pytest.raises(NotPermitted):
        services.capacity_measure_accept(measure_id=measure.pk, by=manager)
    services.capacity_measure_dismiss(measure_id=measure.pk, by=supervisor)
    with pytest.raises(TransitionNotAllowed, match="该措施已不采纳"):
        services.capacity_measure_accept(measure_id=measure.pk, by=supervisor)
    assert not CrewCapacityChange.objects.exists()
    # Dismissed, it is not proposed again by the next levelling.
    capacity.region_level_and_store(region, today=BEFORE)
    assert list(CapacityMeasure.objects.values_list("status", flat=True)) == ["dismissed"]


def test_a_measure_no_longer_found_is_superseded(five_for_one_meeting, region):
    _applications, crew = five_for_one_meeting
    capacity.region_level_and_store(region, today=BEFORE)
    measure = CapacityMeasure.objects.get(region=region, status="proposed")
    # A meeting that can review five: no queue, nothing to propose.
    Crew.objects.filter(pk=crew.pk).update(capacity=5)
    capacity.region_level_and_store(region, today=BEFORE)
    measure.refresh_from_db()
    assert measure.status == "superseded"


def test_a_change_of_a_regions_crews_levels_it_once_when_committed(
    supervisor, django_capture_on_commit_callbacks
):
    other = RegionFactory(code="binjiang", name="滨江供电区")
    department = Department.objects.first()
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        crew = schedule_services.crew_create(
            kind="survey", department=department, region=other, capacity=2, by=supervisor
        )
        for day in (date(2026, 3, 5), date(2026, 3, 12)):
            schedule_services.crew_capacity_change_add(
                crew_id=crew.pk,
                first_day=day,
                last_day=day,
                capacity=3,
                reason="借调",
                by=supervisor,
            )
    assert [c.sends for c in callbacks] == [("applications.tasks.level_region", (other.pk,), ())]


def test_the_dashboard_lists_the_most_helpful_measure_and_a_supervisor_accepts_it(
    client, five_for_one_meeting, region, supervisor, django_assert_max_num_queries
):
    _applications, crew = five_for_one_meeting
    capacity.region_level_and_store(region, today=BEFORE)
    measure = CapacityMeasure.objects.get(region=region, status="proposed")
    day = measure.first_day
    client.force_login(supervisor)
    client.get("/dashboard/")  # the calendar is cached per process
    # As the page tests count them (26), and 1 for the measures proposed.
    with django_assert_max_num_queries(27):
        html = client.get("/dashboard/").content.decode()
    section = html[html.index('id="capacity-measures"') : html.index('id="deviation-answers"')]
    assert f"{day.month}月{day.day}日加开一次审查会（{crew}）" in section
    assert "2 个申请提前完成，共 8 个工作日；2 个重新赶上承诺期限" in section
    response = client.post(f"/dashboard/capacity-measures/{measure.pk}/accept/", follow=True)
    assert response.redirect_chain[-1][0].endswith("/dashboard/#crew-loads")
    assert "已采纳：" in response.content.decode()
    measure.refresh_from_db()
    assert measure.status == "accepted"
    assert CrewCapacityChange.objects.filter(crew=crew, first_day=day, capacity=3).exists()
    # Twice: refused with the reason, nothing recorded again.
    again = client.post(f"/dashboard/capacity-measures/{measure.pk}/accept/", follow=True)
    assert "该措施已采纳" in again.content.decode()
    assert CrewCapacityChange.objects.filter(crew=crew).count() == 1


def test_an_account_manager_sees_no_decision_and_cannot_take_one(
    client, five_for_one_meeting, region, manager
):
    capacity.region_level_and_store(region, today=BEFORE)
    measure = CapacityMeasure.objects.get(region=region, status="proposed")
    client.force_login(manager)
    response = client.post(f"/dashboard/capacity-measures/{measure.pk}/dismiss/", follow=True)
    assert "只有分管领导可以决定区域的班组安排" in response.content.decode()
    measure.refresh_from_db()
    assert measure.status == "proposed"


def test_the_api_lists_the_measures_and_takes_a_supervisors_decision(
    five_for_one_meeting, region, supervisor, manager
):
    from tests.api.conftest import token_client

    _applications, crew = five_for_one_meeting
    capacity.region_level_and_store(region, today=BEFORE)
    measure = CapacityMeasure.objects.get(region=region, status="proposed")
    api = token_client(supervisor)
    body = api.get("/api/v1/capacity-measures/", {"region": "xihu", "status": "proposed"}).json()
    assert [m["id"] for m in body["results"]] == [measure.pk]
    listed = body["results"][0]
    assert (listed["kind"], listed["crew"], listed["days_saved"]) == ("extra_meeting", crew.pk, 8)
    assert {row["application"] for row in listed["effect"]} == {pk for pk, *_rest in measure.effect}
    assert all(row["finish_after"] < row["finish_before"] for row in listed["effect"])
    refused = token_client(manager).post(f"/api/v1/capacity-measures/{measure.pk}/accept/")
    assert refused.status_code == 403
    assert api.post("/api/v1/capacity-measures/999999/accept/").status_code == 404
    accepted = api.post(f"/api/v1/capacity-measures/{measure.pk}/accept/")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    twice = api.post(f"/api/v1/capacity-measures/{measure.pk}/dismiss/")
    assert twice.status_code == 409
    bad = api.get("/api/v1/capacity-measures/", {"status": "maybe"})
    assert bad.status_code == 400 and "status" in bad.json()["errors"]


def test_the_risk_forecast_holds_the_waiting_plans_to_their_meeting(
    five_for_one_meeting, region, time_machine
):
    # Deviations stay on the forecast without queues (what each activity's own progress
    # says); the chance of keeping the promise counts the queue.
    time_machine.move_to(datetime(2026, 2, 27, 18, 0, tzinfo=SHANGHAI), tick=False)
    ids = list(Application.objects.filter(region=region).values_list("pk", flat=True))
    deviation_sweep_batch(application_ids=ids)
    alone = dict(Application.objects.filter(region=region).values_list("pk", "risk__p50"))
    capacity.region_level_and_store(region, today=BEFORE)
    held = dict(
        Application.objects.filter(region=region, capacity_delay__gt=0).values_list(
            "pk", "capacity_holds"
        )
    )
    assert len(held) == 2 and all(holds for holds in held.values())
    deviation_sweep_batch(application_ids=ids)
    queued = dict(Application.objects.filter(region=region).values_list("pk", "risk__p50"))
    for pk in ids:
        if pk in held:
            # A week's wait at most: in the runs where the plan is late for this Wednesday
            # anyway, the queue costs nothing more.
            assert 0 < WORKING_DAYS.working_days_between(alone[pk], queued[pk]) <= 5
        else:
            assert queued[pk] == alone[pk]


def test_another_regions_crew_with_room_lends_a_hand_and_its_applications_keep_their_places(
    three, region, supervisor, manager
):
    survey = Activity.objects.get(application=three[0], crew_kind="survey")
    short, *others = (survey.department, *survey.joint_departments.all())
    # In 西湖 the survey crew of one department is the bottleneck, the others have room.
    bottleneck = Crew.objects.create(kind="survey", department=short, region=region, capacity=1)
    for department in others:
        Crew.objects.create(kind="survey", department=department, region=region, capacity=3)
    # 滨江 has one application and the same crews with room to spare.
    binjiang = RegionFactory(code="binjiang", name="滨江供电区")
    make_application(by=supervisor, manager=manager, region=binjiang, accepted_on=DAY0)
    lender = Crew.objects.create(kind="survey", department=short, region=binjiang, capacity=3)
    for department in others:
        Crew.objects.create(kind="survey", department=department, region=binjiang, capacity=3)
    capacity.region_level_and_store(binjiang, today=BEFORE)
    theirs = levelled_finishes(binjiang)
    capacity.region_level_and_store(region, today=BEFORE)
    before = levelled_finishes(region)
    loan = CapacityMeasure.objects.get(region=region, status="proposed", kind="lend")
    assert (loan.crew, loan.lender) == (bottleneck, lender)
    # One more survey a day for the days the surveys take, lent out of the lender's three.
    assert set(loan.capacity.values()) == {2} and set(loan.lender_capacity.values()) == {2}
    assert loan.capacity.keys() == loan.lender_capacity.keys()
    assert loan.applications_helped == 2 and loan.applications_hurt == 0
    promised = {pk: date.fromisoformat(after) for pk, _number, _before, after in loan.effect}

    services.capacity_measure_accept(measure_id=loan.pk, by=supervisor)
    assert CrewCapacityChange.objects.filter(crew=bottleneck).count() >= 1
    assert set(
        CrewCapacityChange.objects.filter(crew=lender).values_list("capacity", flat=True)
    ) == {2}
    capacity.region_level_and_store(region, today=BEFORE)
    capacity.region_level_and_store(binjiang, today=BEFORE)
    assert levelled_finishes(region) == {**before, **promised}
    assert levelled_finishes(binjiang) == theirs
