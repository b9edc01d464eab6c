"""Time-limit clocks: utility-side working days used per clock (DESIGN.md §6). Pure Python.

A clock counts the working days on which at least one of its activities was in progress
(from its actual start to its actual finish, both counted, or to the as-of day while it
runs), and the application was not suspended. Only utility-side activities carry a clock,
so the customer's own time never counts. The whole process is the sum of the clocks:
the cumulative utility-side time from application to energization.

Status against a limit: ``ok``; ``warning`` from 80 % of the limit; ``exceeded`` past it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import NamedTuple

WHOLE_PROCESS = "whole_process"
WARNING_SHARE = 0.8


class ClockWork(NamedTuple):
    """One activity's contribution: its clock and its actual dates.

    Named tuples, here and for the readings: a sweep makes a score of each per application.
    """

    clock: str
    start: date
    finish: date | None  # None while the activity runs


class ClockReading(NamedTuple):
    clock: str
    used: int
    limit: int | None
    status: str  # "ok", "warning", "exceeded" or "unlimited"

    def as_dict(self) -> dict:
        return {"clock": self.clock, "used": self.used, "limit": self.limit, "status": self.status}


def status_of(used: int, limit: int | None) -> str:
    if limit is None:
        return "unlimited"
    if used > limit:
        return "exceeded"
    if used >= WARNING_SHARE * limit:
        return "warning"
    return "ok"


def clock_readings(
    work: Iterable[ClockWork],
    *,
    suspensions: Iterable[tuple[date, date | None]],
    as_of: date,
    limits: Mapping[str, int],
    working_days: Callable[[date, date], int],
    clocks: Iterable[str],
) -> dict[str, ClockReading]:
    """Return the reading of every clock in ``clocks`` and of the whole process.

    ``suspensions`` are (suspended on, resumed on or None) pairs: days from the first up to
    but not including the second do not count. ``working_days(first, last)`` is the
    calendar's count of working days from ``first`` to ``last``, both included.

    A clock's days are the union of its activities' spans less the suspensions, counted
    span by span: the work of a clock overlaps (activities run side by side), and each
    working day counts once.
    """
    paused = _union((start, as_of if end is None else end - _ONE_DAY) for start, end in suspensions)
    spans_by_clock: dict[str, list[tuple[date, date]]] = {clock: [] for clock in clocks}
    for item in work:
        spans = spans_by_clock.get(item.clock)
        if spans is None:
            continue
        last = min(item.finish, as_of) if item.finish is not None else as_of
        spans.append((item.start, last))
    readings = {}
    for clock, spans in spans_by_clock.items():
        used = sum(working_days(first, last) for first, last in _without(_union(spans), paused))
        limit = limits.get(clock)
        readings[clock] = ClockReading(clock, used, limit, status_of(used, limit))
    total = sum(reading.used for reading in readings.values())
    whole_limit = limits.get(WHOLE_PROCESS)
    readings[WHOLE_PROCESS] = ClockReading(
        WHOLE_PROCESS, total, whole_limit, status_of(total, whole_limit)
    )
    return readings


_ONE_DAY = timedelta(days=1)


def _union(spans: Iterable[tuple[date, date]]) -> list[tuple[date, date]]:
    """Return the union of closed date spans as disjoint spans in order (empty ones dropped)."""
    merged: list[tuple[date, date]] = []
    for first, last in sorted(span for span in spans if span[0] <= span[1]):
        if merged and first <= merged[-1][1] + _ONE_DAY:
            if last > merged[-1][1]:
                merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return merged


def _without(
    spans: list[tuple[date, date]], holes: list[tuple[date, date]]
) -> list[tuple[date, date]]:
    """Return disjoint ordered ``spans`` less disjoint ordered ``holes``."""
    if not holes:
        return spans
    left = []
    for first, last in spans:
        for hole_first, hole_last in holes:
            if hole_last < first or hole_first > last:
                continue
            if hole_first > first:
                left.append((first, hole_first - _ONE_DAY))
            first = hole_last + _ONE_DAY
            if first > last:
                break
        if first <= last:
            left.append((first, last))
    return left


_RANK = {"exceeded": 2, "warning": 1}


def worst_status(readings: Mapping[str, ClockReading]) -> str:
    """Return the worst status among ``readings``: ``exceeded``, ``warning`` or ``ok``.

    A clock without a limit (``unlimited``) counts as ``ok``.
    """
    rank = max((_RANK.get(reading.status, 0) for reading in readings.values()), default=0)
    return {2: "exceeded", 1: "warning"}.get(rank, "ok")


def worst_reading(readings: Mapping[str, ClockReading]) -> ClockReading | None:
    """Return the reading ``worst_status`` is about: of the clocks at their worst status,
    the one furthest into its limit (by share used); ``None`` when every clock is ``ok``
    or has no limit."""
    flagged = [r for r in readings.values() if r.status in _RANK and r.limit]
    if not flagged:
        return None
    return max(flagged, key=lambda r: (_RANK[r.status], r.used / r.limit))
