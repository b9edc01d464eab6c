"""Durations learned from history: what each template activity really takes, by who does it
and where. Pure: no Django; the caller reads the finished activities and stores the result.

Each activity's duration is modelled as log-normal: ``log D`` has a mean (the log of the
median) and a spread (its standard deviation). The estimate is built level by level, from
the whole template activity to ever narrower groups::

    code → code, department → … region → … voltage → … customer class

and every level is shrunk towards the one above it, the first towards the template's
planned duration with the prior spread ``PRIOR_SPREAD``: a level with ``n`` durations of
log-mean ``m`` and log-variance ``v`` over a parent ``(μ, σ)`` gives

    μ' = (k·μ + n·m) / (k + n),   σ'² = (k·σ² + (n − 1)·v) / (k + n − 1)

with ``k = PRIOR_WEIGHT`` (the parent counts as that many durations). So a group with two
durations stays near its parent and one with hundreds speaks for itself. A group with
fewer than ``MIN_SAMPLES`` durations gets no estimate of its own: it is read from the
nearest level above it that has one.

Durations are whole working days, counted inclusively (an activity started and finished on
the same day took 1). Records that cannot be durations (missing, not whole, below 1, above
``MAX_DAYS``) are left out and counted by reason.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .risk import Distribution, normal_quantile

PRIOR_SPREAD = 0.5  # σ of log D before any history: P80 ≈ 1.5 × the planned duration
PRIOR_WEIGHT = 5
MIN_SAMPLES = 5
MAX_DAYS = 1000
LEVELS = ("department", "region", "voltage", "customer_class")
_Z80 = normal_quantile(0.8)


@dataclass(frozen=True)
class FinishedActivity:
    """One finished activity of the history: its template code, planned and actual
    working days, and who did it where."""

    code: Any  # the template activity: its code, or (template, code) across templates
    planned: int
    actual: object
    department: str = ""
    region: str = ""
    voltage: str = ""
    customer_class: str = ""


@dataclass(frozen=True)
class LearnedDuration:
    """The learned duration of a template activity in one group: ``median`` (days),
    ``spread`` (σ of the log), the durations it rests on (``count``, its own level only)."""

    code: Any  # the template activity: its code, or (template, code) across templates
    group: tuple[str, ...]  # the values of LEVELS[: len(group)]
    median: float
    spread: float
    count: int

    @property
    def p80(self) -> float:
        return self.median * math.exp(self.spread * _Z80)

    def distribution(self, *, least: int = 1) -> Distribution:
        return Distribution.lognormal(self.median, self.spread, least=least)


@dataclass(frozen=True)
class Learned:
    """Every level's estimate, by (code, group), and the records left out by reason."""

    estimates: dict[tuple[str, tuple[str, ...]], LearnedDuration]
    ignored: Counter

    def for_activity(
        self,
        code: Any,
        *,
        department: str = "",
        region: str = "",
        voltage: str = "",
        customer_class: str = "",
    ) -> LearnedDuration | None:
        """The estimate of the narrowest group of this activity that has one."""
        values = known_group(department, region, voltage, customer_class)
        for depth in range(len(values), -1, -1):
            found = self.estimates.get((code, values[:depth]))
            if found is not None:
                return found
        return None


def known_group(*values: str) -> tuple[str, ...]:
    """The group's values up to the first one not known (a record without a region has
    no place in the region's groups, nor in the narrower ones)."""
    known = []
    for value in values:
        if not value:
            break
        known.append(value)
    return tuple(known)


def _reason(record: FinishedActivity) -> str | None:
    """Why ``record`` cannot be used, or None."""
    value = record.actual
    if value is None:
        return "missing"
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        return "not a whole number of days"
    if value < 1:
        return "below 1 day"
    if value > MAX_DAYS:
        return f"above {MAX_DAYS} days"
    if not isinstance(record.planned, int) or record.planned < 0:
        return "no planned duration"
    return None


class _Sums:
    """A group's durations as sums of their logs: memory per group, not per record."""

    __slots__ = ("n", "s1", "s2")

    def __init__(self) -> None:
        self.n, self.s1, self.s2 = 0, 0.0, 0.0

    def add(self, log: float) -> None:
        self.n += 1
        self.s1 += log
        self.s2 += log * log

    def shrunk(self, parent_mu: float, parent_var: float) -> tuple[float, float]:
        """The group's (μ, σ²) shrunk towards its parent's (see the module's note)."""
        n, k = self.n, PRIOR_WEIGHT
        mean = self.s1 / n
        var = max(0.0, (self.s2 - n * mean * mean) / (n - 1)) if n > 1 else 0.0
        mu = (k * parent_mu + n * mean) / (k + n)
        return mu, (k * parent_var + (n - 1) * var) / (k + n - 1)


def learn(records: Iterable[FinishedActivity]) -> Learned:
    """Learn every template activity's duration by group from ``records`` (read once, in
    one pass: an iterator over a province's history will do)."""
    ignored: Counter = Counter()
    by_group: dict[tuple[str, tuple[str, ...]], _Sums] = defaultdict(_Sums)
    planned: dict[str, Counter] = defaultdict(Counter)
    for record in records:
        reason = _reason(record)
        if reason is not None:
            ignored[reason] += 1
            continue
        log = math.log(record.actual)
        values = known_group(
            record.department, record.region, record.voltage, record.customer_class
        )
        planned[record.code][record.planned] += 1
        for depth in range(len(values) + 1):
            by_group[(record.code, values[:depth])].add(log)
    estimates: dict[tuple[str, tuple[str, ...]], LearnedDuration] = {}
    # Parents before children: by the depth of the group.
    for code, group in sorted(by_group, key=lambda key: (key[0], len(key[1]), key[1])):
        sums = by_group[(code, group)]
        if group:
            parent = _nearest(estimates, code, group[:-1])
            if parent is None or sums.n < MIN_SAMPLES:
                continue
            parent_mu, parent_var = math.log(parent.median), parent.spread**2
        else:
            # The template's planned duration (the most common one recorded), at least a day.
            days = max(1, planned[code].most_common(1)[0][0])
            parent_mu, parent_var = math.log(days), PRIOR_SPREAD**2
        mu, variance = sums.shrunk(parent_mu, parent_var)
        estimates[(code, group)] = LearnedDuration(
            code=code,
            group=group,
            median=math.exp(mu),
            spread=math.sqrt(variance),
            count=sums.n,
        )
    return Learned(estimates=estimates, ignored=ignored)


def _nearest(estimates, code: Any, group: tuple[str, ...]) -> LearnedDuration | None:
    for depth in range(len(group), -1, -1):
        found = estimates.get((code, group[:depth]))
        if found is not None:
            return found
    return None
