"""A region's applications levelled against the crews they share, stored on each
application, and the command that runs it."""

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from applications import capacity
from applications.models import Application
from scheduling.models import Activity, Crew, CrewCapacityChange
from tests.dates import pin_today
from tests.factories import RegionFactory, make_application

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db, pin_today]

DAY0 = date(2026, 3, 2)  # a Monday
BEFORE = date(2026, 2, 27)  # the Friday before: nothing has started


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
