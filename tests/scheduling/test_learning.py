"""Durations learned from history (scheduling.learning): known medians are recovered,
few durations stay near the plan, narrow groups fall back to wider ones, bad records are
left out and counted."""

import math
import random

import pytest

from scheduling.learning import (
    MIN_SAMPLES,
    PRIOR_SPREAD,
    FinishedActivity,
    learn,
)


def history(code, planned, median, spread, n, *, seed=1, **group):
    rng = random.Random(seed)
    return [
        FinishedActivity(
            code, planned, max(1, round(math.exp(rng.gauss(math.log(median), spread)))), **group
        )
        for _ in range(n)
    ]


def test_known_medians_are_recovered_by_department_within_ten_percent():
    records = [
        *history("E", 2, 6.0, 0.4, 600, seed=1, department="营销部", region="east"),
        *history("E", 2, 3.0, 0.3, 600, seed=2, department="运维检修部", region="east"),
    ]
    learned = learn(records)
    marketing = learned.for_activity("E", department="营销部")
    operations = learned.for_activity("E", department="运维检修部")
    assert marketing.median == pytest.approx(6.0, rel=0.10)
    assert operations.median == pytest.approx(3.0, rel=0.10)
    assert marketing.spread == pytest.approx(0.4, rel=0.2)
    assert marketing.count == 600 and marketing.group == ("营销部",)
    # The narrower group (the region) is as well founded and says the same.
    assert learned.for_activity("E", department="营销部", region="east").count == 600
    # P80 lies above the median by the spread.
    z80 = 0.8416212335729143
    assert marketing.p80 == pytest.approx(marketing.median * math.exp(z80 * marketing.spread))


def test_few_durations_stay_near_the_plan_and_many_speak_for_themselves():
    few = learn([FinishedActivity("F", 4, 16)] * 2).for_activity("F")
    many = learn([FinishedActivity("F", 4, 16)] * 200).for_activity("F")
    # Two durations against a prior worth five: the median moves 2/7 of the way in logs.
    assert few.median == pytest.approx(math.exp((5 * math.log(4) + 2 * math.log(16)) / 7))
    assert 4 < few.median < 8 < many.median
    assert many.median == pytest.approx(16, rel=0.05)
    # The prior spread holds until the history has its own.
    assert few.spread == pytest.approx(PRIOR_SPREAD * math.sqrt(5 / 6))


def test_a_group_with_too_few_durations_is_read_from_the_level_above():
    records = [
        *history("J", 10, 12.0, 0.2, 50, department="客户", region="east"),
        *history("J", 10, 30.0, 0.2, MIN_SAMPLES - 1, seed=3, department="客户", region="county"),
    ]
    learned = learn(records)
    county = learned.for_activity("J", department="客户", region="county")
    assert county.group == ("客户",)  # four durations: no estimate of its own
    assert learned.for_activity("J", department="客户", region="east").group == ("客户", "east")
    assert learned.for_activity("Z") is None


def test_records_that_cannot_be_durations_are_left_out_and_counted():
    records = [
        FinishedActivity("A", 1, 2),
        FinishedActivity("A", 1, None),
        FinishedActivity("A", 1, 0),
        FinishedActivity("A", 1, -3),
        FinishedActivity("A", 1, 2.5),
        FinishedActivity("A", 1, "3"),
        FinishedActivity("A", 1, 5000),
        FinishedActivity("A", None, 2),
    ]
    learned = learn(records)
    assert learned.ignored == {
        "missing": 1,
        "below 1 day": 2,
        "not a whole number of days": 2,
        "above 1000 days": 1,
        "no planned duration": 1,
    }
    assert learned.for_activity("A").count == 1


def test_a_learned_duration_gives_a_distribution_to_forecast_with():
    learned = learn(history("F", 4, 5.0, 0.3, 300)).for_activity("F")
    distribution = learned.distribution(least=1)
    assert distribution.quantile(0.5) == round(learned.median)
    assert distribution.quantile(0.0) >= 1
