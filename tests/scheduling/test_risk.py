"""The Monte Carlo forecast (scheduling.risk): with fixed durations it is the engine's own
forecast; with known distributions it gives the analytic probabilities; recorded dates are
facts; the same seed gives the same runs."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling import cpm, risk
from scheduling.cpm import Progress
from scheduling.risk import Distribution, RiskInputError, simulate
from tests.scheduling.test_cpm import as_aon_json, dags

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "networks"


def example(name: str) -> cpm.CompiledNetwork:
    return cpm.load_network(json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8")))


def monday_start(offset: int) -> int:
    """Working-day offset → weekday, for a plan starting on a Monday with no holidays."""
    return offset % 5


def critical_ids(schedule) -> set[str]:
    return {a for a, t in schedule.activities.items() if t.critical}


# --- Fixed durations reproduce the deterministic forecast -------------------------------------


@pytest.mark.parametrize("name", ["hv-single-10kv", "textbook-aon"])
def test_fixed_durations_give_the_plan_itself(name):
    compiled = example(name)
    plan = compiled.evaluate()
    found = simulate(compiled, samples=50, seed=3)
    assert set(found.finishes.tolist()) == {plan.duration}
    assert {a for a, share in found.criticality.items() if share == 1.0} == critical_ids(plan)
    assert set(found.criticality.values()) <= {0.0, 1.0}
    assert found.percentile(0.5) == found.percentile(0.95) == plan.duration


def test_fixed_durations_with_progress_and_a_weekly_meeting_give_the_forecast():
    compiled = example("hv-single-10kv")
    progress = {
        "A": Progress(0, 1),
        "B": Progress(1, 3),
        "C": Progress(3, 3),
        "D": Progress(actual_start=4),
    }
    kwargs = {"weekday_of": monday_start, "meeting_weekday": 2}
    forecast = compiled.forecast(7, progress, **kwargs)
    found = simulate(compiled, samples=20, as_of=7, progress=progress, **kwargs)
    assert set(found.finishes.tolist()) == {forecast.duration}
    assert {a for a, share in found.criticality.items() if share == 1.0} == critical_ids(forecast)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags(), st.data())
def test_fixed_durations_reproduce_any_forecast(network, data):
    activities, order, planned = network
    compiled = cpm.load_network(as_aon_json(activities, order, planned))
    as_of = data.draw(st.integers(0, 12))
    progress = {}
    for activity in data.draw(st.lists(st.sampled_from(order), unique=True, max_size=3)):
        start = data.draw(st.integers(0, as_of))
        if data.draw(st.booleans()):
            progress[activity] = Progress(start, data.draw(st.integers(start, as_of)))
        else:
            progress[activity] = Progress(actual_start=start)
    forecast = compiled.forecast(as_of, progress)
    found = simulate(compiled, samples=5, as_of=as_of, progress=progress)
    assert set(found.finishes.tolist()) == {forecast.duration}
    assert {a for a, s in found.criticality.items() if s == 1.0} == critical_ids(forecast)
    assert set(found.criticality.values()) <= {0.0, 1.0}


def _random_case(data, compiled: cpm.CompiledNetwork, seed: int) -> risk.Case:
    """A case of ``compiled`` at a random point of its progress: the first activities in
    order finished, the next running, spread durations, the meeting held or not."""
    order = [compiled.ids[i] for i in compiled._order]
    finished = data.draw(st.integers(0, len(order)))
    progress, day = {}, 0
    for activity in order[:finished]:
        progress[activity] = Progress(day, day + data.draw(st.integers(0, 3)))
        day = progress[activity].actual_finish
    if finished < len(order) and data.draw(st.booleans()):
        rest = data.draw(st.none() | st.integers(0, 4))
        progress[order[finished]] = Progress(actual_start=day, remaining=rest)
    as_of = day + data.draw(st.integers(0, 3))
    distributions = {
        a: Distribution.lognormal(max(1, d), data.draw(st.sampled_from([0, 0.3, 0.8])))
        for a, d in zip(compiled.ids, compiled._base, strict=True)
        if data.draw(st.booleans())
    }
    meeting = data.draw(st.none() | st.integers(0, 4))
    return risk.Case(
        compiled,
        distributions,
        samples=data.draw(st.sampled_from([7, 50])),
        seed=seed,
        as_of=as_of,
        progress=progress,
        committed=data.draw(st.none() | st.integers(5, 40)),
        weekday_of=None if meeting is None else monday_start,
        meeting_weekday=meeting,
        weekdays=None if meeting is None else (lambda count: [d % 5 for d in range(count)]),
        not_before={
            a: data.draw(st.integers(0, 20))
            for a in data.draw(st.lists(st.sampled_from(compiled.ids), unique=True, max_size=2))
        },
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_cases_run_together_get_the_answers_they_get_alone(monkeypatch_chunks, data):
    networks = [example("hv-single-10kv"), example("textbook-aon")]
    cases = [
        _random_case(data, data.draw(st.sampled_from(networks)), seed)
        for seed in range(data.draw(st.integers(1, 12)))
    ]
    together = risk.simulate_many(cases)
    for case, found in zip(cases, together, strict=True):
        alone = risk.simulate_many([case])[0]
        assert np.array_equal(found.finishes, alone.finishes)
        assert found.criticality == alone.criticality
        assert found.sensitivity == alone.sensitivity
        assert found.unfinished == alone.unfinished


def test_cases_stop_between_chunks_when_told(monkeypatch):
    monkeypatch.setattr(risk, "CHUNK_RUNS", 100)  # a case a chunk
    compiled = example("hv-single-10kv")
    cases = [risk.Case(compiled, samples=100, seed=seed) for seed in range(3)]

    class StopAfter:
        """Set once ``chunks`` chunks have been asked about."""

        def __init__(self, chunks):
            self.asked, self.chunks = 0, chunks

        def is_set(self):
            self.asked += 1
            return self.asked > self.chunks

    with pytest.raises(risk.Stopped, match="stopped before they were done"):
        risk.simulate_many(cases, stop=StopAfter(1))
    assert len(risk.simulate_many(cases, stop=StopAfter(3))) == 3


@pytest.fixture(scope="module")
def monkeypatch_chunks():
    """Chunks of a few dozen runs: a handful of cases fill several."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(risk, "CHUNK_RUNS", 120)
        yield


# --- Known distributions give the analytic answers --------------------------------------------

TWO_PATHS = {
    "activities": [
        {"id": "S", "duration": 1, "predecessors": []},
        {"id": "X", "duration": 3, "predecessors": ["S"]},
        {"id": "Y", "duration": 4, "predecessors": ["S"]},
        {"id": "E", "duration": 1, "predecessors": ["X", "Y"]},
    ]
}


def test_two_paths_give_the_probability_of_the_later_one_within_sampling_error():
    compiled = cpm.load_network(TWO_PATHS)
    x = Distribution.from_weights({2: 0.5, 6: 0.5})
    y = Distribution.from_weights({3: 0.25, 5: 0.75})
    samples = 40_000
    found = simulate(compiled, {"X": x, "Y": y}, samples=samples, seed=11, committed=1 + 5 + 1)
    # Finish = 1 + max(X, Y) + 1 ≤ 7 ⇔ X ≤ 5 and Y ≤ 5: P = 0.5 × 1.
    error = 4 * math.sqrt(0.25 / samples)
    assert found.on_time == pytest.approx(0.5, abs=error)
    # Finish ≤ 5 ⇔ X ≤ 3 and Y ≤ 3: 0.5 × 0.25.
    assert found.probability_by(5) == pytest.approx(0.125, abs=error)
    # X is critical when X ≥ Y: X = 6 (0.5); Y when Y ≥ X: X = 2 (0.5).
    assert found.criticality["X"] == pytest.approx(0.5, abs=error)
    assert found.criticality["Y"] == pytest.approx(0.5, abs=error)
    assert found.criticality["S"] == found.criticality["E"] == 1.0
    # corr(X, F) = 1.5 / (2 × √0.9375), corr(Y, F) = 0.375 / (√0.75 × √0.9375).
    assert found.sensitivity["X"] == pytest.approx(0.7746, abs=0.02)
    assert found.sensitivity["Y"] == pytest.approx(0.4472, abs=0.02)
    assert found.most_responsible() == "X"
    # P(finish ≤ 7) is exactly one half: the median itself is a coin toss between 7 and 8.
    assert found.percentile(0.4) == 7 and found.percentile(0.6) == 8 == found.percentile(0.95)
    assert found.s_curve()[-1] == (8, 1.0)


ONE = {"activities": [{"id": "A", "duration": 1, "predecessors": []}]}


def test_a_lognormal_duration_has_its_median():
    dist = Distribution.lognormal(6, 0.5, least=1)
    draws = simulate(cpm.load_network(ONE), {"A": dist}, samples=50_000, seed=1).finishes
    assert np.median(draws) == 6
    assert dist.quantile(0.5) == 6 and dist.quantile(0.0) >= 1
    assert Distribution.lognormal(6, 0).days.tolist() == [6]


def test_thenormal_quantile_is_exact_enough():
    for p, z in [(0.5, 0.0), (0.8, 0.8416212335729143), (0.999, 3.090232306167813)]:
        assert risk.normal_quantile(p) == pytest.approx(z, abs=1e-9)
        assert risk.normal_quantile(1 - p) == pytest.approx(-z, abs=1e-9)


# --- Recorded dates are facts -----------------------------------------------------------------


def test_finished_activities_keep_their_dates_and_running_ones_their_elapsed_days():
    compiled = cpm.load_network(TWO_PATHS)
    spread = Distribution.from_weights({1: 0.5, 5: 0.5})
    progress = {"S": Progress(0, 1), "X": Progress(1, 3), "Y": Progress(actual_start=1)}
    found = simulate(
        compiled,
        {"S": spread, "X": spread, "Y": spread, "E": Distribution.fixed(1)},
        samples=500,
        seed=2,
        as_of=4,
        progress=progress,
    )
    # X finished on day 3 whatever its distribution says; Y has run 3 days without
    # finishing, so it is the 5-day case: 2 days left from day 4 (day 6), then E.
    assert set(found.finishes.tolist()) == {6 + 1}
    assert found.criticality["Y"] == 1.0 and found.criticality["X"] == 0.0


def running(dist: Distribution, started: int, as_of: int, samples: int = 100) -> np.ndarray:
    """The finishes of one activity started on day ``started``, still running on ``as_of``."""
    progress = {"A": Progress(actual_start=started)}
    compiled = cpm.load_network(ONE)
    return simulate(
        compiled, {"A": dist}, samples=samples, seed=4, as_of=as_of, progress=progress
    ).finishes


def test_a_running_activity_longer_than_its_distribution_has_nothing_left():
    dist = Distribution.from_weights({1: 0.5, 2: 0.5})
    # Run 3 days: it is over as of day 3. Run 1 day: the 2-day case, a day left.
    assert set(running(dist, 0, 3).tolist()) == {3}
    assert set(running(dist, 0, 1).tolist()) == {2}


def test_a_running_activity_draws_what_is_left_given_the_days_it_has_run():
    # Run 2 days without finishing: 3, 5 or 8 days in all, a third each.
    dist = Distribution.from_weights({1: 0.25, 3: 0.25, 5: 0.25, 8: 0.25})
    finishes = running(dist, 0, 2, samples=6000)
    error = 4 * math.sqrt((1 / 3) * (2 / 3) / 6000)
    for day in (3, 5, 8):
        assert np.mean(finishes == day) == pytest.approx(1 / 3, abs=error)
    assert set(finishes.tolist()) == {3, 5, 8}


# --- Reproducible, and bad input refused ------------------------------------------------------


def test_the_same_seed_gives_the_same_runs():
    compiled = example("hv-single-10kv")
    spread = {
        a: Distribution.lognormal(max(1, d), 0.6)
        for a, d in zip(compiled.ids, compiled._base, strict=True)
    }
    first = simulate(compiled, spread, samples=300, seed=7)
    again = simulate(compiled, spread, samples=300, seed=7)
    other = simulate(compiled, spread, samples=300, seed=8)
    assert np.array_equal(first.finishes, again.finishes)
    assert first.criticality == again.criticality
    assert not np.array_equal(first.finishes, other.finishes)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"distributions": {"Q": Distribution.fixed(1)}}, "no activity 'Q' in the network"),
        ({"samples": 0}, "samples must be a whole number from 1 to 100000"),
        ({"samples": 2.5}, "samples must be a whole number"),
    ],
)
def test_bad_input_is_refused_with_its_reason(kwargs, message):
    with pytest.raises(RiskInputError, match=message):
        simulate(cpm.load_network(TWO_PATHS), **kwargs)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Distribution.from_weights({}), "at least one day of positive weight"),
        (lambda: Distribution.from_weights({-1: 1.0}), "cannot be negative"),
        (lambda: Distribution.lognormal(0, 0.5), "median duration must be above 0"),
        (lambda: Distribution.lognormal(3, -1), "spread cannot be negative"),
    ],
)
def test_a_bad_distribution_is_refused(make, message):
    with pytest.raises(RiskInputError, match=message):
        make()


def test_the_activity_driving_the_risk_is_one_still_to_finish():
    # X has finished late; Y, still running, is the one to act on.
    compiled = cpm.load_network(
        {
            "activities": [
                {"id": "X", "duration": 2, "predecessors": []},
                {"id": "Y", "duration": 3, "predecessors": ["X"]},
            ]
        }
    )
    running = {"X": Progress(0, 3), "Y": Progress(actual_start=4)}
    found = simulate(
        compiled,
        {"Y": Distribution.from_weights({1: 1, 5: 1})},
        samples=400,
        as_of=5,
        progress=running,
    )
    assert found.most_responsible() == "Y"
    finished = {"X": Progress(0, 3), "Y": Progress(4, 7)}
    assert simulate(compiled, samples=10, as_of=8, progress=finished).most_responsible() is None


def test_an_activity_held_back_by_a_crews_queue_starts_no_earlier_in_every_run():
    compiled = cpm.load_network(TWO_PATHS)
    # Y can start on day 1; its crew takes it on day 6: 6 + 4 + 1 = 11 in every run.
    found = simulate(compiled, samples=20, not_before={"Y": 6})
    assert set(found.finishes.tolist()) == {11}
    assert found.criticality["Y"] == 1.0 and found.criticality["X"] == 0.0
    # Work recorded since has its own dates: the hold no longer applies.
    started = {"S": Progress(0, 1), "Y": Progress(actual_start=2)}
    running = simulate(compiled, samples=20, as_of=3, progress=started, not_before={"Y": 6})
    assert set(running.finishes.tolist()) == {2 + 4 + 1}
    with pytest.raises(RiskInputError, match="not_before of 'Y' must be a working-day offset"):
        simulate(compiled, not_before={"Y": -1})
    with pytest.raises(RiskInputError, match="no activity 'Q' in the network"):
        simulate(compiled, not_before={"Q": 1})


def test_the_chance_shown_is_the_curve_read_at_the_commitment_to_the_last_digit():
    # 505 runs of 2,000 by the commitment: 0.2525, which Python's round() takes up (its
    # binary value is a hair above) and numpy's rounding down; both figures round alike.
    finishes = np.array([10] * 505 + [12] * 1495)
    found = risk.RiskForecast(2000, finishes, 10, {}, {})
    days, shares = found.rounded_curve(3)
    assert found.rounded_on_time(3) == shares[days.index(10)] == 0.252
    assert risk.RiskForecast(2000, finishes, None, {}, {}).rounded_on_time(3) is None


# --- The compiled passes and what is read off them --------------------------------------------


def _reference(finishes: np.ndarray, samples: int, committed: int | None, q: float):
    """The figures as numpy reads them off the sorted finishes."""
    ends = np.append(np.flatnonzero(np.diff(finishes)) + 1, samples)
    on_time = None
    if committed is not None:
        on_time = float(np.round(np.searchsorted(finishes, committed, side="right") / samples, 3))
    index = min(samples - 1, max(0, math.ceil(q * samples) - 1))
    return (
        finishes[ends - 1].tolist(),
        np.round(ends / samples, 3).tolist(),
        on_time,
        int(finishes[index]),
    )


@settings(max_examples=60, deadline=None)
@given(
    finishes=st.lists(st.integers(0, 60), min_size=1, max_size=300),
    committed=st.none() | st.integers(-1, 61),
    q=st.sampled_from([0.0, 0.05, 0.5, 0.8, 0.95, 1.0]),
)
def test_the_figures_read_off_the_tally_are_those_of_the_sorted_finishes(finishes, committed, q):
    ordered = np.array(sorted(finishes))
    found = risk.RiskForecast(len(finishes), ordered, committed, {}, {})
    days, shares, on_time, percentile = _reference(ordered, len(finishes), committed, q)
    assert found.rounded_curve(3) == (days, shares)
    assert found.rounded_on_time(3) == on_time
    assert found.percentile(q) == percentile
    assert found.last_finish == int(ordered[-1])


def test_the_kernel_tally_is_that_of_its_finishes():
    compiled = example("hv-single-10kv")
    spread = {a: Distribution.lognormal(4, 0.6, least=1) for a in ("E", "F", "I", "K", "N")}
    found = simulate(compiled, spread, samples=2000, seed=3, committed=60)
    again = risk.RiskForecast(2000, found.finishes, 60, {}, {})
    assert found.tally is not None and len(found.tally[0]) > 10
    assert found.counts == again.counts
    assert found.rounded_on_time(3) == again.rounded_on_time(3)
    assert [found.percentile(q) for q in (0.5, 0.8, 0.95)] == [
        again.percentile(q) for q in (0.5, 0.8, 0.95)
    ]


def test_a_meeting_day_beyond_the_weekdays_read_makes_them_read_further(monkeypatch):
    # The kernel says how far it needs the weekdays when a run reaches past them; the chunk
    # is run again with them, and gives what it gives with enough from the start.
    compiled = example("hv-single-10kv")
    spread = {a: Distribution.lognormal(6, 0.8, least=1) for a in ("E", "F", "K", "N")}
    arguments = {
        "samples": 500,
        "seed": 11,
        "weekday_of": monday_start,
        "meeting_weekday": 2,
        "weekdays": lambda count: [d % 5 for d in range(count)],
    }
    expected = simulate(compiled, spread, **arguments)
    real, asked = risk._weekdays, []

    def short_at_first(cases, reach):
        asked.append(reach)
        return real(cases, reach if len(asked) > 1 else 3)

    monkeypatch.setattr(risk, "_weekdays", short_at_first)
    found = simulate(compiled, spread, **arguments)
    assert len(asked) == 2 and asked[1] > 3
    assert np.array_equal(found.finishes, expected.finishes)
    assert found.criticality == expected.criticality
    assert found.sensitivity == expected.sensitivity


def test_the_figures_kept_rounded_are_those_rounded_from_the_runs():
    compiled = example("hv-single-10kv")
    spread = {a: Distribution.lognormal(4, 0.6, least=1) for a in ("E", "F", "I", "K", "N")}
    cases = [
        risk.Case(compiled, spread, samples=500, seed=seed, committed=45 + seed)
        for seed in range(5)
    ]
    for found in risk.simulate_many(cases):
        assert found.rounded is not None
        plain = risk.RiskForecast(
            found.samples, found.finishes, found.committed, found.criticality, found.sensitivity
        )
        assert found.rounded_curve(3) == plain.rounded_curve(3)
        assert found.rounded_figures(3) == plain.rounded_figures(3)
        assert found.rounded_on_time(3) == plain.rounded_on_time(3)
        days, shares = found.rounded_curve(3)
        assert len(days) == len(shares) > 5 and shares[-1] == 1.0
