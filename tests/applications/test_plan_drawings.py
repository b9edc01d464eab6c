"""The plan's drawings on the application page and the printed plan, through HTTP: event
times, the time-scaled network, the Gantt chart's progress line, percent, zoom and legend."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from applications import services
from applications.models import Application, ApplicationState
from applications.selectors import stage_progress, stage_steps
from scheduling.models import Activity
from tests.factories import AccountManagerProfileFactory, RegionFactory, make_application

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)  # a Monday


def on(day):
    return time_machine.travel(datetime.combine(day, time(10), tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def application(supervisor, manager):
    with on(DAY0):
        return make_application(by=supervisor, manager=manager, accepted_on=DAY0)


def page(client, application, query=""):
    response = client.get(f"/applications/{application.number}/{query}")
    assert response.status_code == 200
    return response.content.decode()


def event_times(html):
    """Return {event: (ET, LT)} as the boxes beside the events show them."""
    found = re.findall(
        r'data-event="(\d+)">.*?<text class="et"[^>]*>(\d+)</text>\s*'
        r'<text class="lt"[^>]*>(\d+)</text>',
        html,
        re.S,
    )
    return {int(e): (int(et), int(lt)) for e, et, lt in found}


def legend(html):
    return re.findall(r'<li data-kind="(\w+)">', html)


def svg_width(html, css_class):
    return float(re.search(rf'<svg class="{css_class}"[^>]*? width="([\d.]+)"', html).group(1))


def test_each_event_shows_its_earliest_and_latest_time(client, application, manager):
    client.force_login(manager)
    with on(DAY0):
        html = page(client, application)
    times = event_times(html)
    assert len(times) == html.count('<g class="event')
    assert "最早时间（ET）" in html  # the legend names the boxes
    arcs = re.findall(r'data-tail="(\d+)" data-head="\d+" data-code="(\w+)"', html)
    tails = {code: int(tail) for tail, code in arcs}
    # With no meeting days to wait for, an activity starts at its tail event's ET.
    for activity in Activity.objects.filter(application=application, is_dummy=False):
        assert times[tails[activity.code]][0] == activity.baseline_es, activity.code
    finish = max(times)
    activities = Activity.objects.filter(application=application, is_dummy=False)
    length = max(a.baseline_es + a.duration for a in activities)
    assert times[finish] == (length, length)
    assert times[1] == (0, 0)
    assert all(early <= late for early, late in times.values())
    assert any(early < late for early, late in times.values()), "no event has slack"


def test_the_time_scaled_view_is_a_link_away_and_draws_the_float_wavy(client, application, manager):
    client.force_login(manager)
    with on(DAY0):
        logic = page(client, application)
        timed = page(client, application, "?network=time")
        fallback = page(client, application, "?network=sideways")
    assert 'href="?network=time#network"' in logic
    assert 'class="network time-scaled"' not in logic
    assert "时标网络图" in timed and 'class="network time-scaled"' in timed
    assert 'class="network time-scaled"' not in fallback  # an unknown view is the logic one
    floats = re.findall(r'data-free-float="(\d+)"', timed)
    assert len(floats) == 17  # every arrow, dummies too
    assert any(int(f) > 0 for f in floats)
    assert timed.count('class="free-float"') >= sum(int(f) > 0 for f in floats) - 1
    # The axis counts working days and dates every fifth one from day 0 (Monday 2 March).
    assert '<text class="day-date"' in timed and ">3/2</text>" in timed


def test_the_progress_line_and_percent_of_a_running_activity(client, application, manager):
    a = Activity.objects.get(application=application, code="A")
    services.activity_progress_record(activity_id=a.pk, start=DAY0, by=manager, today=DAY0)
    wednesday = DAY0 + timedelta(days=2)
    services.activity_progress_record(activity_id=a.pk, remaining=2, by=manager, today=wednesday)
    client.force_login(manager)
    with on(wednesday):
        html = page(client, application)
    # Monday and Tuesday done, two days still to do: half.
    assert re.search(r'data-code="A" data-percent="50"', html)
    assert '<text class="percent"' in html and ">50%</text>" in html
    assert '<polyline class="progress-line"' in html
    assert "progress" in legend(html) and "前锋线" in html


def test_the_legend_lists_only_the_kinds_drawn(client, application, manager):
    client.force_login(manager)
    with on(DAY0):
        before = legend(page(client, application))
    assert "finished" not in before and "progress" not in before
    customer_work = Activity.objects.filter(application=application, party="customer").exists()
    assert ("customer" in before) == customer_work
    assert {"baseline", "critical", "today", "commitment"} <= set(before)
    for code in "AB":
        x = Activity.objects.get(application=application, code=code)
        services.activity_progress_record(activity_id=x.pk, start=DAY0, by=manager, today=DAY0)
        services.activity_progress_record(activity_id=x.pk, finish=DAY0, by=manager, today=DAY0)
    with on(DAY0 + timedelta(days=1)):
        after = legend(page(client, application))
    assert "finished" in after


def test_the_zoom_changes_the_scale_of_the_gantt(client, application, manager):
    client.force_login(manager)
    with on(DAY0):
        fitted = page(client, application)
        weeks = page(client, application, "?zoom=week")
        months = page(client, application, "?zoom=month&network=time")
    assert svg_width(weeks, "gantt") > svg_width(fitted, "gantt") > svg_width(months, "gantt")
    assert 'href="?network=logic&amp;zoom=week#gantt" aria-current="true"' in weeks
    # The other view keeps the zoom: the network links carry it.
    assert 'href="?network=logic&amp;zoom=month#network"' in months


def test_the_printed_plan_for_the_manager(
    client, application, manager, django_assert_max_num_queries
):
    client.force_login(manager)
    url = f"/applications/{application.number}/plan/print/"
    with on(DAY0):
        client.get(url)  # sessions and the calendar, once
        # Sessions, the user and permissions, the application, its activities and the
        # to-do figure the layout counts.
        with django_assert_max_num_queries(16):
            response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-print id="print-plan"' in html and ">打印</button>" in html
    assert 'class="mainnav"' not in html  # no navigation chrome
    assert '<svg class="network"' in html and '<svg class="gantt"' in html
    assert html.count("<tr class=") == 16  # the activities with their dates
    committed = application.committed_finish_date
    assert f"{committed.year}年{committed.month}月{committed.day}日" in html
    assert "2026年3月2日 – 2026年3月2日" in html  # the baseline dates in the table, in words
    # The application page links to it.
    with on(DAY0):
        assert f'href="{url}"' in page(client, application)


def test_the_printed_plan_is_not_found_by_a_reader_outside_the_scope(client, application):
    stranger = AccountManagerProfileFactory(
        user__username="other-manager", regions=[RegionFactory(code="elsewhere")]
    ).user
    client.force_login(stranger)
    assert client.get(f"/applications/{application.number}/plan/print/").status_code == 404
    assert client.get(f"/applications/{application.number}/").status_code == 404


def test_the_printed_plan_asks_a_visitor_to_sign_in(client, application):
    response = client.get(f"/applications/{application.number}/plan/print/")
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize(
    ("state", "suspended_from", "expected"),
    [
        (ApplicationState.CONSULTATION, None, 0),
        (ApplicationState.DESIGN, None, 2),
        (ApplicationState.SUSPENDED, ApplicationState.FEES, 3),
        (ApplicationState.ENERGIZED, None, 6),
        (ApplicationState.CLOSED, None, 8),
        (ApplicationState.CANCELLED, None, 0),
    ],
)
def test_stage_progress_counts_the_steps_the_stepper_marks_done(state, suspended_from, expected):
    application = Application(state=state, suspended_from=suspended_from)
    steps = stage_steps(application)
    assert len(steps) == 8
    assert stage_progress(application) == (expected, 8)
    assert sum(step.status == "done" for step in steps) == expected
