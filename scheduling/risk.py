"""The probability of keeping the promise: a Monte Carlo forecast over a compiled network.

Pure: numpy and the network engine (:mod:`scheduling.cpm`), nothing of Django.

Each activity's duration is a :class:`Distribution` over whole working days. One call of
:func:`simulate` draws ``samples`` durations of every activity at once (a numpy array per
activity) and runs the engine's two passes on the arrays, with the same rules as
:meth:`~scheduling.cpm.CompiledNetwork.forecast`: recorded starts and finishes are facts, a
started activity's remaining work is drawn from its distribution given the days it has run
already (``D - elapsed`` for ``D > elapsed``; nothing left when the distribution says it
should be done), lags and leads, and meeting activities held at their meeting day. With
every distribution fixed it reproduces the deterministic forecast exactly: the same finish,
and a criticality of 1 for the critical activities and 0 for the others.

It returns the distribution of the finish (working-day offsets from the project start),
the probability of finishing by the committed offset, the P50/P80/P95 finishes, and per
activity its criticality index (the share of runs in which it is critical) and its
sensitivity (the correlation of its duration with the finish across the runs).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .cpm import MEETING_SEARCH_DAYS, CompiledNetwork, Progress

DEFAULT_SAMPLES = 2000
MAX_SAMPLES = 100_000
# A learned distribution is cut where its upper tail holds less than this.
TAIL = 0.001
# Draws are read off a table of the days at this many evenly spaced probabilities: a step
# of 1/4096, finer than the tail cut and than the sampling error of any run count allowed.
TABLE_SIZE = 4096


class RiskInputError(ValueError):
    """Bad input to the forecast, naming what is wrong."""


@dataclass(frozen=True, eq=False)
class Distribution:
    """A distribution over whole working days: ``days`` ascending, ``cumulative`` the
    probability of at most each (the last is 1)."""

    days: np.ndarray
    cumulative: np.ndarray

    @classmethod
    def fixed(cls, days: int) -> Distribution:
        return cls.from_weights({days: 1.0})

    @classmethod
    def from_weights(cls, weights: Mapping[int, float]) -> Distribution:
        """Return the distribution taking each of ``weights``' days in proportion."""
        items = sorted((int(day), float(w)) for day, w in weights.items() if w > 0)
        if not items:
            raise RiskInputError("a distribution needs at least one day of positive weight")
        if items[0][0] < 0:
            raise RiskInputError(f"a duration cannot be negative: {items[0][0]}")
        days = np.array([day for day, _w in items], dtype=np.int32)
        cumulative = np.cumsum([w for _day, w in items])
        return cls(days, cumulative / cumulative[-1])

    @classmethod
    def from_samples(cls, values: Iterable[int]) -> Distribution:
        """Return the empirical distribution of these durations."""
        counts: dict[int, float] = {}
        for value in values:
            counts[int(value)] = counts.get(int(value), 0.0) + 1.0
        return cls.from_weights(counts)

    @classmethod
    def lognormal(cls, median: float, spread: float, *, least: int = 0) -> Distribution:
        """Return a log-normal duration with this ``median`` (days) and ``spread`` (the
        standard deviation of the log), rounded to whole days of at least ``least``."""
        if not median > 0:
            raise RiskInputError(f"a median duration must be above 0, got {median!r}")
        if not spread >= 0:
            raise RiskInputError(f"a spread cannot be negative, got {spread!r}")
        if spread == 0:
            return cls.fixed(max(least, round(median)))
        mu = math.log(median)
        top = math.ceil(math.exp(mu + spread * normal_quantile(1 - TAIL)))

        def below(x: float) -> float:  # P(D < x)
            if x <= 0:
                return 0.0
            return 0.5 * math.erfc(-(math.log(x) - mu) / (spread * math.sqrt(2)))

        weights = {day: below(day + 0.5) - below(day - 0.5) for day in range(0, top + 1)}
        # Whatever falls below the least goes to the least: a survey takes at least a day.
        floor = sum(w for day, w in weights.items() if day <= least)
        weights = {day: w for day, w in weights.items() if day > least}
        weights[least] = floor
        return cls.from_weights(weights)

    @functools.cached_property
    def _table(self) -> np.ndarray:
        """The days at ``TABLE_SIZE`` evenly spaced probabilities (the middle of each
        step): drawing an index into it draws from the distribution to within one step,
        at a third of the cost of searching the cumulative probabilities every time."""
        middles = (np.arange(TABLE_SIZE) + 0.5) / TABLE_SIZE
        index = np.searchsorted(self.cumulative, middles, side="right")
        return self.days[np.minimum(index, len(self.days) - 1)]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if len(self.days) == 1:
            return np.full(n, self.days[0], dtype=np.int32)
        return self._table[rng.integers(0, TABLE_SIZE, n)]

    def sample_beyond(self, rng: np.random.Generator, n: int, elapsed: int) -> np.ndarray:
        """Return the days still to go of an activity that has run ``elapsed`` days
        without finishing: ``D - elapsed`` for ``D`` drawn above ``elapsed``, 0 when the
        distribution holds nothing above it."""
        first = int(np.searchsorted(self.days, elapsed, side="right"))
        if first >= len(self.days):
            return np.zeros(n, dtype=np.int32)
        below = self.cumulative[first - 1] if first else 0.0
        if first == len(self.days) - 1:
            return np.full(n, self.days[first] - elapsed, dtype=np.int32)
        draws = below + rng.random(n) * (1.0 - below)
        index = np.minimum(
            np.searchsorted(self.cumulative, draws, side="right"), len(self.days) - 1
        )
        return self.days[np.maximum(index, first)] - elapsed

    def quantile(self, q: float) -> int:
        return int(self.days[min(np.searchsorted(self.cumulative, q), len(self.days) - 1)])


def normal_quantile(p: float) -> float:
    """The standard normal quantile (Acklam's rational approximation, |error| < 1e-9
    after one Newton step): numpy has none and this module needs only a few."""
    a = (
        -39.69683028665376,
        220.9460984245205,
        -275.9285104469687,
        138.3577518672690,
        -30.66479806614716,
        2.506628277459239,
    )
    b = (
        -54.47609879822406,
        161.5858368580409,
        -155.6989798598866,
        66.80131188771972,
        -13.28068155288572,
    )
    c = (
        -0.007784894002430293,
        -0.3223964580411365,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    )
    d = (0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416)
    if p < 0.02425:
        q = math.sqrt(-2 * math.log(p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
    elif p > 1 - 0.02425:
        return -normal_quantile(1 - p)
    else:
        q = p - 0.5
        r = q * q
        x = (
            (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
            * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        )
    error = 0.5 * math.erfc(-x / math.sqrt(2)) - p
    return x - error * math.sqrt(2 * math.pi) * math.exp(x * x / 2)


@dataclass(frozen=True, eq=False)
class RiskForecast:
    """What :func:`simulate` found: ``finishes`` holds every run's finish (working-day
    offset), sorted; ``criticality`` and ``sensitivity`` are by activity id."""

    samples: int
    finishes: np.ndarray
    committed: int | None
    criticality: Mapping[str, float]
    sensitivity: Mapping[str, float]
    # The activities not finished as of the forecast: what can still be acted on.
    unfinished: frozenset[str] = frozenset()

    def probability_by(self, offset: int) -> float:
        """The share of runs finished by ``offset``."""
        return float(np.searchsorted(self.finishes, offset, side="right")) / self.samples

    @property
    def on_time(self) -> float | None:
        """P(finish ≤ committed), or None without a commitment."""
        return None if self.committed is None else self.probability_by(self.committed)

    def percentile(self, q: float) -> int:
        """The finish by which a share ``q`` of the runs are done (P80: ``q=0.8``)."""
        return int(self.finishes[min(self.samples - 1, max(0, math.ceil(q * self.samples) - 1))])

    def s_curve(self) -> list[tuple[int, float]]:
        """(offset, share finished by it) at every offset some run finishes on."""
        days, counts = np.unique(self.finishes, return_counts=True)
        return [
            (int(day), float(done) / self.samples)
            for day, done in zip(days, np.cumsum(counts), strict=True)
        ]

    def most_responsible(self) -> str | None:
        """The activity that drives the risk: of those not finished, the most often
        critical among those whose duration moves the finish, then the most sensitive; None
        when every activity has finished."""
        ranked = sorted(
            self.unfinished,
            key=lambda a: (
                -(self.criticality[a] * max(self.sensitivity[a], 0.0)),
                -self.criticality[a],
                a,
            ),
        )
        return ranked[0] if ranked and self.criticality[ranked[0]] > 0 else None


def simulate(
    compiled: CompiledNetwork,
    distributions: Mapping[str, Distribution] | None = None,
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    as_of: int | None = None,
    progress: Mapping[str, Progress] | None = None,
    planned_duration: int | None = None,
    committed: int | None = None,
    weekday_of: Callable[[int], int] | None = None,
    meeting_weekday: int | None = None,
) -> RiskForecast:
    """Run ``samples`` forecasts of ``compiled`` with durations drawn from
    ``distributions`` (an activity without one keeps its planned duration), seeded by
    ``seed``; the other arguments are those of ``CompiledNetwork.forecast`` (without
    ``as_of``, of ``evaluate``). ``committed`` is the offset the finish is promised by."""
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= MAX_SAMPLES:
        raise RiskInputError(f"samples must be a whole number from 1 to {MAX_SAMPLES}")
    distributions = distributions or {}
    unknown = sorted(set(distributions) - set(compiled.ids))
    if unknown:
        raise RiskInputError(f"no activity {unknown[0]!r} in the network")
    # The engine checks the progress, the meeting weekday and the planned duration, and
    # gives Tp as the deterministic forecast takes it.
    if as_of is not None:
        plan = compiled.forecast(
            as_of,
            progress or {},
            None,
            planned_duration,
            weekday_of=weekday_of,
            meeting_weekday=meeting_weekday,
        )
        done, started = compiled._progress(progress or {}, as_of)
    else:
        plan = compiled.evaluate(
            None, planned_duration, weekday_of=weekday_of, meeting_weekday=meeting_weekday
        )
        done, started = {}, {}
    tp = plan.planned_duration
    meets = compiled._meeting_days(weekday_of, meeting_weekday)
    held = (
        {i: w for i, w in meets.weekdays.items() if i not in done and i not in started}
        if meets is not None
        else {}
    )
    rng = np.random.default_rng(seed)
    n = len(compiled.ids)
    planned = compiled._base
    floor = as_of if as_of is not None else 0
    drawn: list[np.ndarray | None] = [None] * n
    # One row per activity, one column per run.
    es = np.empty((n, samples), dtype=np.int32)
    ef = np.empty((n, samples), dtype=np.int32)
    days = _MeetingTable(meets)
    zero = np.zeros(samples, dtype=np.int32)
    for i in compiled._order:
        if i in done:
            es[i], ef[i] = done[i]
            continue
        start = zero
        for pred, lag in compiled._preds[i]:
            start = np.maximum(start, ef[pred] + lag)
        dist = distributions.get(compiled.ids[i]) or Distribution.fixed(planned[i])
        if i in started:
            began, rest = started[i]
            if rest is None:
                left = dist.sample_beyond(rng, samples, floor - began)
            else:
                left = np.full(samples, rest, dtype=np.int32)
            drawn[i] = left + (floor - began)
            es[i] = began
            ef[i] = np.maximum(start, floor) + left
            continue
        duration = drawn[i] = dist.sample(rng, samples)
        start = np.maximum(start, floor)
        if i in held:
            start = days.on_or_after(i, start)
        es[i] = start
        ef[i] = start + duration
    finish = ef.max(axis=0)
    tf = _total_floats(compiled, es, ef, tp, held, days)
    critical = tf == tf.min(axis=0)
    criticality = {
        activity: float(share)
        for activity, share in zip(compiled.ids, critical.mean(axis=1), strict=True)
    }
    sensitivity = dict(zip(compiled.ids, _correlations(drawn, finish), strict=True))
    return RiskForecast(
        samples=samples,
        finishes=np.sort(finish),
        committed=committed,
        criticality=criticality,
        sensitivity=sensitivity,
        unfinished=frozenset(compiled.ids[i] for i in range(n) if i not in done),
    )


def _total_floats(compiled, es, ef, tp, held, days) -> np.ndarray:
    """The backward pass of ``CompiledNetwork._backward`` on arrays; return TF per
    activity and run (activities × samples)."""
    ls = np.empty_like(es)
    lf = np.empty_like(es)
    for i in compiled._reverse:
        links = compiled._succs[i]
        ready = ef[i]
        if links:
            finish = None
            for succ, lag in links:
                # A recorded start before this finish is read as starting at the hand-over.
                overlap = es[succ] < ready + lag
                late = np.where(
                    overlap, lf[succ] - np.maximum(ef[succ] - ready - lag, 0) - lag, ls[succ] - lag
                )
                if lag < 0:
                    late = np.minimum(late, tp)
                finish = late if finish is None else np.minimum(finish, late)
        else:
            finish = np.full_like(ready, tp)
        span = ef[i] - es[i]
        if i in held:
            movable = finish - span >= 0
            latest = np.where(movable, days.on_or_before(i, np.maximum(finish - span, 0)), 0)
            ls[i] = np.where(movable, latest, finish - span)
            lf[i] = np.where(movable, latest + span, finish)
        else:
            lf[i] = finish
            ls[i] = finish - span
    return ls - es


def _correlations(drawn: list[np.ndarray | None], finish: np.ndarray) -> list[float]:
    """The correlation of each activity's drawn durations with the finish across the runs
    (0 for an activity not drawn, or when either does not vary), all in one product."""
    rows = [i for i, durations in enumerate(drawn) if durations is not None]
    found = [0.0] * len(drawn)
    if not rows:
        return found
    durations = np.stack([drawn[i] for i in rows]).astype(np.float64)
    durations -= durations.mean(axis=1, keepdims=True)
    ends = finish.astype(np.float64)
    ends -= ends.mean()
    spread = np.sqrt(np.einsum("ij,ij->i", durations, durations) * float(ends @ ends))
    products = durations @ ends
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(spread > 0, products / spread, 0.0)
    for i, value in zip(rows, values.tolist(), strict=True):
        found[i] = value
    return found


class _MeetingTable:
    """The meeting days of the held activities as lookup tables over offsets, grown as the
    runs reach further: the weekday of each offset is asked once, and each table is found
    with numpy from the offsets that fall on its weekday (``_MeetingDays`` answers one
    offset at a time)."""

    def __init__(self, meets) -> None:
        self._meets = meets
        self._weekdays = np.zeros(0, dtype=np.int8)
        self._after: dict[int, np.ndarray] = {}
        self._before: dict[int, np.ndarray] = {}

    def _table(self, tables, i: int, top: int, after: bool) -> np.ndarray:
        table = tables.get(i)
        if table is not None and len(table) > top:
            return table
        size = max(top + 1, 2 * (len(table) if table is not None else 64))
        reach = size + MEETING_SEARCH_DAYS
        if len(self._weekdays) < reach:
            known = len(self._weekdays)
            self._weekdays = np.concatenate(
                [
                    self._weekdays,
                    np.array(
                        [self._meets._weekday(day) for day in range(known, reach)], dtype=np.int8
                    ),
                ]
            )
        meeting = np.flatnonzero(self._weekdays[:reach] == self._meets.weekdays[i])
        offsets = np.arange(size)
        if after:
            # The first meeting day at or after the offset, searched as far as the engine
            # searches; none within reach leaves the offset as it is.
            at = np.searchsorted(meeting, offsets)
            found = meeting[np.minimum(at, len(meeting) - 1)] if len(meeting) else offsets
            ok = (at < len(meeting)) & (found < offsets + MEETING_SEARCH_DAYS)
        else:
            at = np.searchsorted(meeting, offsets, side="right") - 1
            found = meeting[np.maximum(at, 0)] if len(meeting) else offsets
            ok = (at >= 0) & (found > offsets - MEETING_SEARCH_DAYS)
        table = tables[i] = np.where(ok, found, offsets).astype(np.int32)
        return table

    def on_or_after(self, i: int, offsets: np.ndarray) -> np.ndarray:
        return self._table(self._after, i, int(offsets.max()), True)[offsets]

    def on_or_before(self, i: int, offsets: np.ndarray) -> np.ndarray:
        return self._table(self._before, i, int(offsets.max()), False)[offsets]
