"""The demo's durations come from known distributions (demo.applications.DURATION_TRUTH):
learning finds them again, and the risk forecast made from what it learned means what it
says on the demo's history."""

import io
from datetime import date

import pytest
from django.core.management import call_command

from applications.backtest import backtest
from demo import applications as demo
from scheduling.models import ActivityTemplate, LearnedDuration

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 17)
# Enough for some 2,400 finished applications: a few hundred durations of most activities.
APPLICATIONS = 6000
# A group's estimate is read against the truth from this many durations (its median's
# standard error is then under 4 %), and a tenth of probability from this many forecasts:
# 10 points is three standard errors of a share observed over 225 (fewer, and sampling
# alone may stray that far; the checkpoints of one application are not independent either).
ENOUGH_DURATIONS = 100
ENOUGH_FORECASTS = 250


def seed_history() -> None:
    call_command(
        "seed_demo",
        "--applications",
        str(APPLICATIONS),
        "--today",
        TODAY.isoformat(),
        stdout=io.StringIO(),
    )


def test_learning_recovers_the_truth_and_the_forecast_made_from_it_is_reliable():
    # One history for both (seeding it takes most of the time).
    seed_history()
    learned_medians_recover_the_generating_medians_within_10_percent()
    the_forecast_is_reliable_within_10_points_in_every_tenth()


def learned_medians_recover_the_generating_medians_within_10_percent():
    templates = {
        (a.template_id, a.code): a
        for a in ActivityTemplate.objects.select_related("department").filter(is_dummy=False)
    }
    checked = []
    # The estimate of each activity by its department: the level a department's truth is at.
    for row in LearnedDuration.objects.filter(
        is_current=True, department__gt="", region="", count__gte=ENOUGH_DURATIONS
    ):
        activity = templates[(row.template_id, row.code)]
        factor, _spread = demo.duration_truth(
            activity.department.code if activity.department_id else None,
            customer=activity.party == "customer",
        )
        truth = activity.duration * factor
        checked.append((row.template_id, row.code, round(row.median / truth - 1, 3)))
    assert len(checked) >= 40
    assert [c for c in checked if abs(c[2]) > 0.10] == []
    # And the biases are found: design and review take longer than their plan says.
    planning = LearnedDuration.objects.filter(
        is_current=True, department="planning", region="", count__gte=ENOUGH_DURATIONS
    )
    assert planning.exists()
    for row in planning:
        planned = templates[(row.template_id, row.code)].duration
        assert row.median > planned * 1.05


def the_forecast_is_reliable_within_10_points_in_every_tenth():
    found = backtest(limit=2000, samples=500)
    assert found.applications >= 1500
    deciles = [d for d in found.reliability() if d.count >= ENOUGH_FORECASTS]
    assert len(deciles) >= 6
    off = [
        (d.low, d.count, round(d.mean_forecast, 2), round(d.observed, 2))
        for d in deciles
        if abs(d.mean_forecast - d.observed) > 0.10
    ]
    assert off == []
    assert found.all.brier < 0.15
