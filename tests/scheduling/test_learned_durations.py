"""Durations learned nightly from the finished activities: stored per template activity and
group, refreshed in place, shown in the admin beside the planned duration and listed in
the API."""

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling.learning import PRIOR_WEIGHT
from scheduling.models import Activity, LearnedDuration
from scheduling.services import durations_learn
from scheduling.tasks import learn_durations
from tests.api.conftest import assert_problem, token_client
from tests.factories import RegionFactory, make_application

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("meetings_when_ready")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 3, 2)  # a week without holidays
NIGHT = datetime(2026, 3, 20, 1, 30, tzinfo=SHANGHAI)


def finish_e_in(application, working_days: int) -> Activity:
    """Record activity E (现场勘查) of ``application`` as taking ``working_days``."""
    finish = MONDAY + timedelta(days=working_days - 1)  # within one week: all working days
    activity = application.activities.get(code="E")
    Activity.objects.filter(pk=activity.pk).update(actual_start=MONDAY, actual_finish=finish)
    return activity


@pytest.fixture
def history(supervisor, manager):
    """Six applications in the east whose survey took 4 working days, two in the west that
    took 2: one template, E planned at 2 days."""
    east, west = RegionFactory(code="east"), RegionFactory(code="west")
    apps = [make_application(by=supervisor, manager=manager, region=east) for _ in range(6)]
    apps += [make_application(by=supervisor, manager=manager, region=west) for _ in range(2)]
    for application in apps[:6]:
        finish_e_in(application, 4)
    for application in apps[6:]:
        finish_e_in(application, 2)
    return apps


def row(**group):
    values = {"department": "", "region": "", "voltage_class": "", "customer_class": ""}
    return LearnedDuration.objects.get(code="E", **(values | group))


def test_the_history_is_learned_per_activity_and_group(history):
    summary = durations_learn(now=NIGHT)

    assert summary.durations == 8 and summary.ignored == {}
    whole = row()
    planned = history[0].activities.get(code="E").duration
    assert (whole.count, whole.template_id, whole.is_current) == (8, history[0].template_id, True)
    logs = [math.log(4)] * 6 + [math.log(2)] * 2
    expected = math.exp((PRIOR_WEIGHT * math.log(planned) + sum(logs)) / (PRIOR_WEIGHT + len(logs)))
    assert whole.median == pytest.approx(expected)
    assert whole.p80 > whole.median
    # The department and the east have enough history for their own estimate; the west,
    # two durations, has none and is read from the department's.
    department = row(department=whole_department(history))
    assert department.count == 8
    east = row(department=department.department, region="east")
    assert east.count == 6 and east.median > department.median
    assert not LearnedDuration.objects.filter(code="E", region="west").exists()


def whole_department(history) -> str:
    return history[0].activities.get(code="E").department.code


def test_learning_again_replaces_in_place_and_keeps_what_is_no_longer_found(history):
    durations_learn(now=NIGHT)
    rows = LearnedDuration.objects.count()
    # The east's history is withdrawn: its group is no longer found the next night.
    Activity.objects.filter(application__region__code="east", code="E").update(
        actual_start=None, actual_finish=None
    )
    durations_learn(now=NIGHT + timedelta(days=1))
    assert LearnedDuration.objects.count() == rows
    assert row().count == 2 and row().learned_at == NIGHT + timedelta(days=1)
    department = whole_department(history)
    kept = row(department=department, region="east")
    assert (kept.is_current, kept.count, kept.learned_at) == (False, 6, NIGHT)


def test_a_finish_before_its_start_is_left_out_and_counted(history):
    activity = history[0].activities.get(code="E")
    Activity.objects.filter(pk=activity.pk).update(actual_finish=MONDAY - timedelta(days=3))
    assert durations_learn(now=NIGHT).ignored == {"missing": 1}


def test_the_nightly_task_learns_and_says_what_it_did(history):
    done = learn_durations()
    assert done["durations"] == 8 and done["estimates"] == LearnedDuration.objects.count()


def test_the_admin_shows_the_learned_duration_beside_the_planned_one(history, admin_user, client):
    durations_learn(now=NIGHT)
    whole = row()
    client.force_login(admin_user)
    page = client.get(f"/admin/scheduling/networktemplate/{whole.template_id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"中位数 {whole.median:.1f} · P80 {whole.p80:.1f} · 已完成 8 次" in html
    listing = client.get("/admin/scheduling/learnedduration/")
    assert listing.status_code == 200 and "east" in listing.content.decode()
    assert client.get("/admin/scheduling/learnedduration/add/").status_code == 403


def test_the_api_lists_the_learned_durations_and_refuses_a_bad_filter(history, supervisor):
    durations_learn(now=NIGHT)
    api = token_client(supervisor)
    whole = row()
    answer = api.get(
        "/api/v1/learned-durations/",
        {"template": whole.template_id, "code": "E", "current": "true"},
    )
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [(r["department"], r["region"], r["count"]) for r in results][:1] == [("", "", 8)]
    assert results[0]["median"] == pytest.approx(whole.median)
    assert {r["region"] for r in results} == {"", "east"}
    bad = api.get("/api/v1/learned-durations/", {"current": "maybe"})
    assert_problem(bad, 400, errors={"current": ["Enter true or false."]})
