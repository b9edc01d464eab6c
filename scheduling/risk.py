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

import bisect
import functools
import hashlib
import math
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import risk_kernel
from .cpm import (
    MEETING_SEARCH_DAYS,
    CompiledNetwork,
    InvalidDurationError,
    InvalidProgressError,
    Progress,
    load_network,
)

DEFAULT_SAMPLES = 2000
# The shares a page, the API and the stored forecast show: to a tenth of a percent.
DECIMALS = 3
MAX_SAMPLES = 100_000
# A learned distribution is cut where its upper tail holds less than this.
TAIL = 0.001
# Draws are read off a table of the days at this many evenly spaced probabilities: a step
# of 1/4096, finer than the tail cut and than the sampling error of any run count allowed.
TABLE_SIZE = risk_kernel.TABLE_SIZE


class RiskInputError(ValueError):
    """Bad input to the forecast, naming what is wrong."""


class Stopped(Exception):
    """Forecasts stopped by their caller before they were done (simulate_many's ``stop``)."""


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

    def quantile(self, q: float) -> int:
        return int(self.days[min(np.searchsorted(self.cumulative, q), len(self.days) - 1)])


def _rounded(value: float, decimals: int) -> float:
    """``value`` rounded as numpy rounds (half to even after scaling: ``np.round``), in
    plain Python, so that a figure stored reads as it did."""
    scale = 10.0**decimals
    return round(value * scale) / scale


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
    offset), sorted; ``criticality`` and ``sensitivity`` are by activity id. ``tally``, when
    given, is that of :attr:`counts`, and ``rounded`` the shares of the curve and the two
    figures of every activity rounded to :data:`DECIMALS` (the simulation has them
    already, computed for a whole chunk of cases at once)."""

    samples: int
    finishes: np.ndarray
    committed: int | None
    criticality: Mapping[str, float]
    sensitivity: Mapping[str, float]
    # The activities not finished as of the forecast: what can still be acted on.
    unfinished: frozenset[str] = frozenset()
    tally: tuple[list[int], list[int]] | None = None
    rounded: tuple[list[float], dict[str, float], dict[str, float]] | None = None

    @functools.cached_property
    def counts(self) -> tuple[list[int], list[int]]:
        """The days some run finishes on, ascending, and how many runs are done by each.
        (Read as lists: the few dozen days of a forecast cost less in Python than the
        calls of numpy would.)"""
        if self.tally is not None:
            return self.tally
        finishes = self.finishes
        ends = np.append(np.flatnonzero(np.diff(finishes)) + 1, self.samples)
        return finishes[ends - 1].tolist(), ends.tolist()

    @property
    def last_finish(self) -> int:
        return self.counts[0][-1]

    def probability_by(self, offset: int) -> float:
        """The share of runs finished by ``offset``."""
        days, done = self.counts
        found = bisect.bisect_right(days, offset)
        return done[found - 1] / self.samples if found else 0.0

    @property
    def on_time(self) -> float | None:
        """P(finish ≤ committed), or None without a commitment."""
        return None if self.committed is None else self.probability_by(self.committed)

    def percentile(self, q: float) -> int:
        """The finish by which a share ``q`` of the runs are done (P80: ``q=0.8``)."""
        days, done = self.counts
        run = min(self.samples - 1, max(0, math.ceil(q * self.samples) - 1))
        return days[bisect.bisect_right(done, run)]

    def s_curve(self) -> list[tuple[int, float]]:
        """(offset, share finished by it) at every offset some run finishes on."""
        days, done = self.counts
        return [(day, count / self.samples) for day, count in zip(days, done, strict=True)]

    def rounded_curve(self, decimals: int) -> tuple[list[int], list[float]]:
        """:meth:`s_curve` as two lists, the shares rounded to ``decimals``."""
        days, done = self.counts
        if decimals == DECIMALS and self.rounded is not None:
            return list(days), list(self.rounded[0])
        return list(days), [_rounded(count / self.samples, decimals) for count in done]

    def rounded_on_time(self, decimals: int) -> float | None:
        """:attr:`on_time` rounded as :meth:`rounded_curve` rounds its shares, so that the
        chance shown is the curve read at the commitment (505 runs of 2,000 are 0.252 in
        both)."""
        on_time = self.on_time
        return None if on_time is None else _rounded(on_time, decimals)

    def rounded_figures(self, decimals: int) -> tuple[dict[str, float], dict[str, float]]:
        """The criticality and the sensitivity of every activity, rounded to ``decimals``."""
        if decimals == DECIMALS and self.rounded is not None:
            return self.rounded[1], self.rounded[2]
        return (
            {a: _rounded(value, decimals) for a, value in self.criticality.items()},
            {a: _rounded(value, decimals) for a, value in self.sensitivity.items()},
        )

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


@dataclass(frozen=True, eq=False)
class Case:
    """One forecast to run: the arguments of :func:`simulate`.

    ``weekdays``, when given, returns the weekdays of offsets ``0`` to ``count - 1`` at
    once, as ``weekday_of`` gives them one by one (a calendar answers for a range faster
    than for each day). ``not_before`` holds activities not started to a first offset
    they can start on (a shared crew's queue takes them then: scheduling.levelling)."""

    compiled: CompiledNetwork
    distributions: Mapping[str, Distribution] | None = None
    samples: int = DEFAULT_SAMPLES
    seed: int = 0
    as_of: int | None = None
    progress: Mapping[str, Progress] | None = None
    planned_duration: int | None = None
    committed: int | None = None
    weekday_of: Callable[[int], int] | None = None
    meeting_weekday: int | None = None
    weekdays: Callable[[int], Sequence[int]] | None = None
    not_before: Mapping[str, int] | None = None


def warm_up() -> None:
    """Compile the kernel now (numba's cache on disk makes it a load after the first
    time), rather than in the first request or task that forecasts: a served process
    calls this at start."""
    network = load_network(
        {
            "activities": [
                {"id": "A", "tail": 1, "head": 2, "duration": 2},
                {"id": "B", "tail": 2, "head": 3, "duration": 1, "kind": "meeting"},
            ]
        }
    )
    simulate(
        network,
        {"A": Distribution.from_weights({1: 1.0, 3: 1.0})},
        samples=4,
        as_of=1,
        progress={"A": Progress(actual_start=0)},
        weekday_of=lambda offset: offset % 5,
        meeting_weekday=2,
    )


def simulate(compiled: CompiledNetwork, distributions=None, **arguments) -> RiskForecast:
    """Run ``samples`` forecasts of ``compiled`` with durations drawn from
    ``distributions`` (an activity without one keeps its planned duration), seeded by
    ``seed``; the other arguments are those of ``CompiledNetwork.forecast`` (without
    ``as_of``, of ``evaluate``). ``committed`` is the offset the finish is promised by.
    The keyword arguments are the fields of :class:`Case`."""
    return simulate_many([Case(compiled, distributions, **arguments)])[0]


def simulate_many(cases: Sequence[Case], *, stop=None) -> list[RiskForecast]:
    """Run every case; return their forecasts in the same order. ``stop``, an event (any
    object with ``is_set``), stops them between chunks when set: :class:`Stopped` is
    raised.

    Cases of one network are run together, a chunk of them at a time (a case's runs are
    drawn from its own seed, so its answer is the one it gets alone): the draws are made
    in arrays long enough that numpy's cost per call stops mattering, and the passes over
    the network are compiled (:mod:`scheduling.risk_kernel`).
    """
    # Cases often share their distributions (the applications of one group): each mapping
    # is checked and put in network order once. Keyed by identity, for this call only,
    # while ``cases`` holds every mapping alive.
    orders: dict[tuple[int, int], tuple[Distribution, ...]] = {}
    prepared = [_Prepared.of(case, orders) for case in cases]
    found: list[RiskForecast | None] = [None] * len(cases)
    groups: dict[tuple[int, int], list[int]] = {}
    for position, case in enumerate(prepared):
        groups.setdefault((id(case.compiled), case.samples), []).append(position)
    for (_network, samples), positions in groups.items():
        per_chunk = max(1, CHUNK_RUNS // samples)
        group = [prepared[p] for p in positions]
        space = _Space(group[0].compiled, min(per_chunk, len(group)) * samples, group)
        for first in range(0, len(group), per_chunk):
            if stop is not None and stop.is_set():
                raise Stopped("the forecasts were stopped before they were done")
            chunk = group[first : first + per_chunk]
            for offset, forecast in enumerate(_simulate_chunk(chunk, space)):
                found[positions[first + offset]] = forecast
    return found  # type: ignore[return-value]


# Runs computed side by side at most: a row of this many int32 stays within a core's cache.
CHUNK_RUNS = 1 << 15


@dataclass(frozen=True, eq=False)
class _Prepared:
    """A case checked and read: Tp, the progress by position, the meeting activities
    held at their day (position -> weekday) and where its runs' durations come from."""

    case: Case
    compiled: CompiledNetwork
    samples: int
    tp: int
    floor: int
    done: Mapping[int, tuple[int, int]]
    started: Mapping[int, tuple[int, int | None]]
    held: Mapping[int, int]
    distributions: tuple[Distribution, ...]
    not_before: Mapping[int, int]

    @classmethod
    def of(cls, case: Case, orders: dict | None = None) -> _Prepared:
        """Check and read ``case``; ``orders`` keeps the distributions already put in
        network order (by the identity of the mapping and of the network)."""
        samples, compiled = case.samples, case.compiled
        if (
            isinstance(samples, bool)
            or not isinstance(samples, int)
            or not 1 <= samples <= MAX_SAMPLES
        ):
            raise RiskInputError(f"samples must be a whole number from 1 to {MAX_SAMPLES}")
        key = (id(case.distributions), id(compiled))
        ordered = orders.get(key) if orders is not None else None
        if ordered is None:
            ordered = _in_network_order(case.distributions or {}, compiled)
            if orders is not None:
                orders[key] = ordered
        meets = compiled._meeting_days(case.weekday_of, case.meeting_weekday)
        tp = _planned_duration(case, compiled, meets)
        if case.as_of is not None:
            done, started = compiled._progress(case.progress or {}, case.as_of)
        else:
            done, started = {}, {}
        held = (
            {i: w for i, w in meets.weekdays.items() if i not in done and i not in started}
            if meets is not None
            else {}
        )
        not_before = {}
        for activity, offset in (case.not_before or {}).items():
            if activity not in compiled.index:
                raise RiskInputError(f"no activity {activity!r} in the network")
            if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
                raise RiskInputError(
                    f"not_before of {activity!r} must be a working-day offset ≥ 0, got {offset!r}"
                )
            i = compiled.index[activity]
            # Work recorded since has its own dates.
            if i not in done and i not in started:
                not_before[i] = offset
        return cls(
            case=case,
            compiled=compiled,
            samples=samples,
            tp=tp,
            floor=case.as_of if case.as_of is not None else 0,
            done=done,
            started=started,
            held=held,
            distributions=ordered,
            not_before=not_before,
        )

    def weekdays(self, count: int) -> np.ndarray:
        case = self.case
        if case.weekdays is not None:
            return np.asarray(case.weekdays(count), dtype=np.int8)
        return np.fromiter((case.weekday_of(day) for day in range(count)), np.int8, count)


def _in_network_order(distributions, compiled: CompiledNetwork) -> tuple[Distribution, ...]:
    """Each activity's distribution by position (its planned duration, fixed, where none
    is given), after checking that every one given is of the network."""
    unknown = sorted(set(distributions) - set(compiled.ids))
    if unknown:
        raise RiskInputError(f"no activity {unknown[0]!r} in the network")
    return tuple(
        distributions.get(activity) or _fixed(days)
        for activity, days in zip(compiled.ids, compiled._base, strict=True)
    )


def _planned_duration(case: Case, compiled: CompiledNetwork, meets) -> int:
    """Tp as the deterministic forecast takes it, after the engine's checks of the
    arguments: the plan is computed only when nothing gives Tp."""
    as_of, planned = case.as_of, case.planned_duration
    if as_of is not None:
        if isinstance(as_of, bool) or not isinstance(as_of, int) or as_of < 0:
            raise InvalidProgressError(
                None, f"as_of must be a working-day offset ≥ 0, got {as_of!r}"
            )
        if not isinstance(case.progress or {}, Mapping):
            raise InvalidProgressError(None, "progress must map activity ids to Progress")
    if planned is not None:
        if isinstance(planned, bool) or not isinstance(planned, int) or planned < 0:
            raise InvalidDurationError(None, planned, field="planned_duration")
        return planned
    if compiled.network.planned_duration is not None:
        return compiled.network.planned_duration
    # The Tc of the plan without progress, as the engine finds it.
    arguments = {"weekday_of": case.weekday_of, "meeting_weekday": case.meeting_weekday}
    return compiled.evaluate(None, None, **arguments).planned_duration


@functools.lru_cache(maxsize=1024)
def _fixed(days: int) -> Distribution:
    return Distribution.fixed(days)


class _Space:
    """What the chunks of a group share: the durations they draw (activities × runs, made
    once: numpy's fresh large arrays cost a page fault per page on first use), the
    network's links as the kernel reads them, and the tables of every distribution they
    draw from, end to end."""

    def __init__(self, compiled: CompiledNetwork, columns: int, cases: list[_Prepared]) -> None:
        self.duration = np.empty((len(compiled.ids), columns), dtype=np.int32)
        self.links = _links(compiled)
        at: dict[int, int] = {}
        parts: list[np.ndarray] = []
        for case in cases:
            for dist in case.distributions:
                if len(dist.days) > 1 and id(dist) not in at:
                    at[id(dist)] = len(parts) * TABLE_SIZE
                    parts.append(dist._table)
        self.at = at
        self.tables = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
        self._bases: dict[int, _Base] = {}

    def base(self, distributions: tuple[Distribution, ...]) -> _Base:
        """The kernel's rows of a case drawing from ``distributions`` (in network order)
        with nothing recorded. Made once for the cases that share the tuple (those of one
        group: simulate_many hands them the same one), which the cases keep alive."""
        found = self._bases.get(id(distributions))
        if found is None:
            found = self._bases[id(distributions)] = _Base.of(distributions, self.at)
        return found


@dataclass(frozen=True)
class _Base:
    """A case's rows for the kernel with nothing recorded: every activity with more than
    one duration drawn (``many``, in position order, a row of bits each), the others
    fixed."""

    source: tuple[int, ...]
    value: tuple[int, ...]
    offset: tuple[int, ...]
    bit_row: tuple[int, ...]
    longest: tuple[int, ...]
    many: tuple[int, ...]
    drawn: int

    @classmethod
    def of(cls, distributions: tuple[Distribution, ...], at: Mapping[int, int]) -> _Base:
        n = len(distributions)
        source, value, offset, bit_row = [0] * n, [0] * n, [0] * n, [0] * n
        many = []
        for i, dist in enumerate(distributions):
            if len(dist.days) > 1:
                source[i], offset[i], bit_row[i] = risk_kernel.DRAWN, at[id(dist)], len(many)
                many.append(i)
            else:
                value[i] = int(dist.days[0])
        return cls(
            source=tuple(source),
            value=tuple(value),
            offset=tuple(offset),
            bit_row=tuple(bit_row),
            longest=tuple(int(dist.days[-1]) for dist in distributions),
            many=tuple(many),
            drawn=len(many),
        )


@dataclass(frozen=True, eq=False)
class _Links:
    """A network's order and links as arrays: the predecessors of position ``i`` are
    ``pred_node[pred_start[i]:pred_start[i + 1]]`` with their lags, the successors alike."""

    order: np.ndarray
    pred_start: np.ndarray
    pred_node: np.ndarray
    pred_lag: np.ndarray
    succ_start: np.ndarray
    succ_node: np.ndarray
    succ_lag: np.ndarray
    # The largest lag into each position (0 at least): how far a run can reach.
    lag_in: np.ndarray

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """The links as the kernel takes them (risk_kernel.run_chunk)."""
        return (
            self.order,
            self.pred_start,
            self.pred_node,
            self.pred_lag,
            self.succ_start,
            self.succ_node,
            self.succ_lag,
        )


# Per network (a template's network is shared by every application planned with it).
_LINKS: weakref.WeakKeyDictionary[CompiledNetwork, _Links] = weakref.WeakKeyDictionary()


def _links(compiled: CompiledNetwork) -> _Links:
    found = _LINKS.get(compiled)
    if found is None:

        def flat(links):
            start = np.cumsum([0, *map(len, links)], dtype=np.int64)
            node = np.array([other for row in links for other, _lag in row], dtype=np.int64)
            lag = np.array([lag for row in links for _other, lag in row], dtype=np.int64)
            return start, node, lag

        pred_start, pred_node, pred_lag = flat(compiled._preds)
        succ_start, succ_node, succ_lag = flat(compiled._succs)
        found = _LINKS[compiled] = _Links(
            order=np.array(compiled._order, dtype=np.int64),
            pred_start=pred_start,
            pred_node=pred_node,
            pred_lag=pred_lag,
            succ_start=succ_start,
            succ_node=succ_node,
            succ_lag=succ_lag,
            lag_in=np.array([max([0, *(lag for _p, lag in row)]) for row in compiled._preds]),
        )
    return found


def _simulate_chunk(cases: list[_Prepared], space: _Space) -> list[RiskForecast]:
    """Run cases of one network and one run count side by side: column ``a * S + r`` of
    the durations is run ``r`` of case ``a``."""
    compiled = cases[0].compiled
    n, runs, count = len(compiled.ids), cases[0].samples, len(cases)
    tables, draws = _kernel_tables(cases, space, runs)
    kind, recorded_start, recorded_finish, not_before, held = (
        np.array(tables[name], dtype=dtype)
        for name, dtype in (
            ("kind", np.int8),
            ("recorded_start", np.int64),
            ("recorded_finish", np.int64),
            ("not_before", np.int64),
            ("held", np.int8),
        )
    )
    floor = np.array([case.floor for case in cases], dtype=np.int64)
    tp = np.array([case.tp for case in cases], dtype=np.int64)
    # Filled by the kernel: finishes, days, done, distinct, critical, sensitivity.
    out = (
        np.empty((count, runs), dtype=np.int64),
        np.empty((count, runs), dtype=np.int64),
        np.empty((count, runs), dtype=np.int64),
        np.empty(count, dtype=np.int64),
        np.empty((n, count), dtype=np.int64),
        np.empty((n, count), dtype=np.float64),
    )
    links = space.links
    weekdays = np.full((count, 1), -1, dtype=np.int8)
    if any(case.held for case in cases):
        # Every offset a run can reach: the latest record, floor or first day, then each
        # activity's longest duration and lag in turn, and a wait for each meeting.
        reach = int(
            max(
                int(tp.max()),
                int(floor.max()),
                int(recorded_finish.max()),
                int(not_before.max()),
            )
            + int(np.array(tables["longest"]).max(axis=0).sum())
            + int(links.lag_in.sum())
            + MEETING_SEARCH_DAYS * (len(compiled.meetings) + 1)
        )
        weekdays = _weekdays(cases, reach)
    while True:
        needed = risk_kernel.run_chunk(
            links.arrays,
            # The whole array (its columns beyond the chunk's are not read): one compiled
            # kernel for every chunk, where a view would make a second.
            space.duration,
            draws,
            runs,
            (floor, tp, kind, recorded_start, recorded_finish, not_before, held),
            weekdays,
            MEETING_SEARCH_DAYS,
            out,
        )
        if not needed:
            break
        weekdays = _weekdays(cases, max(needed, 2 * weekdays.shape[1]))
    return _forecasts(cases, *out)


# Per case and activity, what the kernel is given (rows of cases × activities).
_CASE_TABLES = (
    "source",
    "value",
    "offset",
    "bit_row",
    "below",
    "longest",
    "kind",
    "recorded_start",
    "recorded_finish",
    "not_before",
    "held",
)


def _kernel_tables(cases: list[_Prepared], space: _Space, runs: int):
    """Return, per case and activity, what the kernel reads (by :data:`_CASE_TABLES`'
    names, as lists), and the arguments of the draws.

    Where each case's durations come from, per activity: fixed (``value``), drawn from a
    distribution's table (at ``offset``, with the bits of row ``bit_row``) or, for running
    work, drawn given the days it has run. Each case draws from its own seed: 16 random
    bits per run of every activity drawn (in position order); the low 12 pick a step of
    the table, all 16 give running work a probability. ``longest`` bounds each duration.

    A case's rows start from those of its distributions with nothing recorded (made once
    per chunk for the cases that share them, :meth:`_Space.base`); what it recorded, the
    crews' first days and the meeting weekdays are then written over them.
    """
    n = len(cases[0].compiled.ids)
    tables: dict[str, list[list]] = {name: [] for name in _CASE_TABLES}
    bits: list[np.ndarray] = []
    bit_start = []
    used = 0
    zeros, no_weekday, no_share = [0] * n, [-1] * n, [0.0] * n
    for case in cases:
        base = space.base(case.distributions)
        source, value, offset = list(base.source), list(base.value), list(base.offset)
        bit_row, longest = list(base.bit_row), list(base.longest)
        kind, began_at, ended_at = list(zeros), list(zeros), list(zeros)
        below, drawn = no_share, base.drawn
        done, started = case.done, case.started
        if done or started:
            # The bits go to the activities drawn, in position order: recorded work
            # changes which.
            drawn = 0
            for i in base.many:
                if i in done or (i in started and started[i][1] is not None):
                    continue
                bit_row[i], drawn = drawn, drawn + 1
        for i, (began, ended) in done.items():
            kind[i], began_at[i], ended_at[i] = risk_kernel.DONE, began, ended
            source[i] = value[i] = offset[i] = bit_row[i] = 0
        for i, (began, rest) in started.items():
            kind[i], began_at[i] = risk_kernel.STARTED, began
            source[i] = value[i] = offset[i] = 0
            elapsed = case.floor - began
            if rest is not None:
                value[i] = longest[i] = rest + elapsed
                bit_row[i] = 0
                continue
            dist = case.distributions[i]
            if len(dist.days) == 1:
                bit_row[i] = -1  # a fixed duration has nothing to draw: no bits spent
            # Given ``elapsed`` days run: nothing left when the distribution holds no
            # longer duration, the one left when it holds one, else drawn above them.
            first = int(np.searchsorted(dist.days, elapsed, side="right"))
            if first >= len(dist.days):
                value[i] = longest[i] = elapsed
            elif first == len(dist.days) - 1:
                value[i] = int(dist.days[first])
            else:
                if below is no_share:
                    below = list(no_share)
                source[i] = risk_kernel.RUNNING
                value[i] = int(dist.days[first])
                below[i] = float(dist.cumulative[first - 1]) if first else 0.0
                offset[i] = space.at[id(dist)]
        not_before = list(zeros)
        for i, day in case.not_before.items():
            not_before[i] = day
        held = list(no_weekday)
        for i, weekday in case.held.items():
            held[i] = weekday
        bit_start.append(used)
        if drawn:
            bits.append(_bits(case.case.seed, drawn * runs))
            used += drawn * runs
        for name, row in (
            ("source", source),
            ("value", value),
            ("offset", offset),
            ("bit_row", bit_row),
            ("below", below),
            ("longest", longest),
            ("kind", kind),
            ("recorded_start", began_at),
            ("recorded_finish", ended_at),
            ("not_before", not_before),
            ("held", held),
        ):
            tables[name].append(row)
    draws = (
        np.array(tables["source"], dtype=np.int8),
        np.array(tables["value"], dtype=np.int64),
        np.array(tables["offset"], dtype=np.int64),
        np.array(tables["bit_row"], dtype=np.int64),
        np.array(tables["below"], dtype=np.float64),
        np.concatenate(bits) if bits else np.zeros(1, dtype=np.uint16),
        np.array(bit_start, dtype=np.int64),
        space.tables,
    )
    return tables, draws


def _forecasts(cases, finishes, days, done, distinct, critical, sensitivity):
    """The forecasts of a chunk's cases from what the kernel filled."""
    compiled = cases[0].compiled
    ids, n, runs = compiled.ids, len(compiled.ids), cases[0].samples
    criticality = critical / runs
    # Rounded as numpy rounds, for the whole chunk at once (RiskForecast.rounded).
    kept = np.arange(runs) < distinct[:, None]
    shares = np.round(done[kept] / runs, DECIMALS).tolist()
    ends = np.cumsum(distinct).tolist()
    criticality_shown = np.round(criticality, DECIMALS).T.tolist()
    sensitivity_shown = np.round(sensitivity, DECIMALS).T.tolist()
    criticality, sensitivities = criticality.T.tolist(), sensitivity.T.tolist()
    found = []
    for a, case in enumerate(cases):
        k = int(distinct[a])
        found.append(
            RiskForecast(
                samples=runs,
                finishes=finishes[a],
                committed=case.case.committed,
                criticality=dict(zip(ids, criticality[a], strict=True)),
                sensitivity=dict(zip(ids, sensitivities[a], strict=True)),
                unfinished=frozenset(ids[i] for i in range(n) if i not in case.done),
                tally=(days[a, :k].tolist(), done[a, :k].tolist()),
                rounded=(
                    shares[ends[a] - k : ends[a]],
                    dict(zip(ids, criticality_shown[a], strict=True)),
                    dict(zip(ids, sensitivity_shown[a], strict=True)),
                ),
            )
        )
    return found


def _weekdays(cases: list[_Prepared], reach: int) -> np.ndarray:
    """The weekdays of offsets 0 to ``reach - 1`` of every case holding a meeting (-1 for
    the others: they never read them)."""
    return np.stack(
        [case.weekdays(reach) if case.held else np.full(reach, -1, dtype=np.int8) for case in cases]
    )


def _bits(seed: int, count: int) -> np.ndarray:
    """``count`` random 16-bit values of the stream of ``seed``: a PCG64 generator put in a
    state hashed from the seed (seeding a fresh generator costs more than the draws)."""
    state = int.from_bytes(
        hashlib.blake2b(repr(seed).encode(), digest_size=16, person=b"yekuo.risk").digest(),
        "little",
    )
    generator = getattr(_LOCAL, "generator", None)
    if generator is None:
        generator = _LOCAL.generator = np.random.PCG64(0)
    generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": state, "inc": _INCREMENT},
        "has_uint32": 0,
        "uinteger": 0,
    }
    return generator.random_raw((count + 3) // 4).view(np.uint16)[:count]


# One generator per thread (a web process may analyse in several at once).
_LOCAL = threading.local()
# PCG64's stream constant (odd): every seed draws from the same stream at its own state.
_INCREMENT = np.random.PCG64(0).state["state"]["inc"]
