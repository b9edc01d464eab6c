"""The probability of keeping the promise for an application, and the back-test that says
how far it can be trusted."""

import io
import re
from datetime import date

import pytest
import time_machine
from django.core.management import CommandError, call_command

from applications.models import Application
from demo import applications as demo_applications
from demo import people
from scheduling import selectors as schedule_selectors
from scheduling.services import durations_learn
from tests.factories import learn_exactly_the_plan, make_application

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 17)


def test_with_durations_certain_the_probability_is_the_deterministic_answer(
    supervisor, manager, meetings_when_ready
):
    application = make_application(by=supervisor, manager=manager, accepted_on=date(2026, 3, 2))
    activities = list(application.activities.select_related("department"))
    learn_exactly_the_plan(application)
    calendar = schedule_selectors.working_calendar()
    for today in (date(2026, 3, 1), date(2026, 3, 20)):  # before day 0, and 14 days late
        _plan, forecast, _day0 = schedule_selectors.application_forecast(
            application, activities, calendar, today
        )
        found, _day0 = schedule_selectors.application_risk(
            application, activities, calendar, today, samples=50
        )
        assert set(found.finishes.tolist()) == {forecast.duration}
        assert found.on_time == (
            1.0 if forecast.duration <= application.committed_duration else 0.0
        )


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("risk_backtest", *args, stdout=out)
    return out.getvalue()


def test_without_history_the_back_test_says_so_with_status_2():
    with pytest.raises(CommandError) as refused:
        run()
    assert refused.value.returncode == 2
    assert str(refused.value) == (
        "risk_backtest: no finished application to test against (energized or closed, "
        "every activity finished): there is no history yet"
    )


@pytest.mark.parametrize(("args", "message"), [(["--samples", "0"], "--samples must be from 1")])
def test_the_back_test_refuses_bad_counts(args, message):
    with pytest.raises(CommandError, match=message) as refused:
        run(*args)
    assert refused.value.returncode == 2


def test_the_back_test_prints_the_brier_score_and_the_reliability_table():
    people.demo_people_load()
    with time_machine.travel("2026-06-17 20:00 +0800", tick=False):
        demo_applications.demo_applications_load(count=80, seed=5, today=TODAY, aside=False)
        durations_learn()
        output = run("--samples", "100", "--limit", "30")
    finished = Application.objects.filter(state__in=["energized", "closed"]).count()
    assert finished >= 5
    lines = output.splitlines()
    assert lines[0].startswith(f"{min(30, finished)} finished applications, 100 runs")
    acceptance = next(line for line in lines if line.endswith("  acceptance"))
    count, brier = acceptance.split()[:2]
    assert int(count) == min(30, finished) and 0 <= float(brier) <= 1
    every = next(line for line in lines if line.endswith("  all"))
    assert int(every.split()[0]) >= int(count)
    table = lines[lines.index(next(x for x in lines if x.startswith("forecast "))) + 1 :]
    assert len(table) == 10 and table[0].startswith("0.0–0.1") and table[-1].startswith("0.9–1.0")
    assert sum(int(re.split(r"\s+", row)[1]) for row in table) == int(every.split()[0])
