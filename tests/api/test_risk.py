"""The risk forecast through the API: the schedule's risk block, the list's field and its
filter, with bad input refused by name."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from applications import sweep as analysis
from scheduling import selectors as schedule_selectors
from scheduling import services as schedule_services
from scheduling.models import ApplicationRisk
from tests.dates import pin_today

from .conftest import DAY0, assert_problem

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db, pin_today]

EVENING = datetime.combine(DAY0, time(18), tzinfo=ZoneInfo("Asia/Shanghai"))


def analysed(*applications):
    analysis.deviation_sweep_batch(application_ids=[a.pk for a in applications], now=EVENING)


def stored(application) -> ApplicationRisk:
    return ApplicationRisk.objects.get(pk=application.pk)


def test_the_schedule_carries_the_risk_of_the_last_analysis(as_manager, application):
    analysed(application)
    body = as_manager.get(f"/api/v1/applications/{application.pk}/schedule/").json()
    risk = body["risk"]
    assert risk["as_of"] == str(DAY0)
    assert risk["on_time_probability"] == stored(application).on_time
    assert 0 < risk["on_time_probability"] < 1
    assert risk["p80_finish_date"] == str(stored(application).p80)
    assert risk["p50_finish_date"] <= risk["p80_finish_date"] <= risk["p95_finish_date"]
    assert risk["driver"] == stored(application).driver
    assert risk["curve"][-1]["share"] == 1.0
    assert [p["date"] for p in risk["curve"]] == sorted(p["date"] for p in risk["curve"])
    by_code = {row["code"]: row for row in body["activities"]}
    assert by_code[risk["driver"]]["criticality"] > 0
    assert all(0 <= row["criticality"] <= 1 for row in body["activities"])


@pytest.mark.parametrize("left", ["no row", "a cleared row"])
def test_before_any_analysis_the_risk_is_null(as_manager, application, left):
    analysed(application)
    if left == "no row":
        ApplicationRisk.objects.filter(application=application).delete()
    else:  # what an analysis with the forecast turned off leaves
        schedule_services.risk_forecasts_store([(application.pk, *schedule_selectors.NO_RISK)])
        assert stored(application).as_of is None
    body = as_manager.get(f"/api/v1/applications/{application.pk}/schedule/").json()
    assert body["risk"] is None
    assert all(row["criticality"] is None for row in body["activities"])
    shown = as_manager.get(f"/api/v1/applications/{application.pk}/").json()
    assert (shown["risk_on_time"], shown["risk_p80"]) == (None, None)


def test_the_list_filters_and_orders_by_the_probability(
    as_supervisor, application, south_application
):
    analysed(application, south_application)
    ApplicationRisk.objects.filter(pk=south_application.pk).update(on_time=0.2)
    ApplicationRisk.objects.filter(pk=application.pk).update(on_time=0.7)
    body = as_supervisor.get("/api/v1/applications/?risk_below=0.5").json()
    assert [row["id"] for row in body["results"]] == [south_application.pk]
    assert body["results"][0]["risk_on_time"] == 0.2
    assert body["results"][0]["risk_p80"] == str(stored(south_application).p80)
    detail = as_supervisor.get(f"/api/v1/applications/{application.pk}/").json()
    assert detail["risk_on_time"] == 0.7
    ordered = as_supervisor.get("/api/v1/applications/?ordering=risk_on_time").json()
    assert [row["id"] for row in ordered["results"]] == [south_application.pk, application.pk]
    everything = as_supervisor.get("/api/v1/applications/?risk_below=1").json()
    assert {row["id"] for row in everything["results"]} == {application.pk, south_application.pk}


@pytest.mark.parametrize("value", ["1.5", "-0.1", "likely"])
def test_a_probability_outside_0_to_1_is_refused_by_name(as_supervisor, application, value):
    response = as_supervisor.get(f"/api/v1/applications/?risk_below={value}")
    body = assert_problem(response, 400)
    assert list(body["errors"]) == ["risk_below"]
