"""Time-limit clocks: utility-side working days used per clock (DESIGN.md §6). Pure Python.

A clock counts the working days on which at least one of its activities was in progress
(from its actual start to its actual finish, both counted, or to the as-of day while it
runs), and the application was not suspended. Only utility-side activities carry a clock,
so the customer's own time never counts. The whole process is the sum of the clocks:
the cumulative utility-side time from application to energization.

Status against a limit: ``ok``; ``warning`` from 80 % of the limit; ``exceeded`` past it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

WHOLE_PROCESS = "whole_process"
WARNING_SHARE = 0.8


@dataclass(frozen=True)
class ClockWork:
    """One activity's contribution: its clock and its actual dates."""

    clock: str
    start: date
    finish: date | None  # None while the activity runs


@dataclass(frozen=True)
class ClockReading:
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
    is_working_day,
    clocks: Iterable[str],
) -> dict[str, ClockReading]:
    """Return the reading of every clock in ``clocks`` and of the whole process.

    ``suspensions`` are (suspended on, resumed on or None) pairs: days from the first up to
    but not including the second do not count. ``is_working_day`` is the calendar's test.
    """
    paused: list[tuple[date, date | None]] = list(suspensions)

    def suspended(day: date) -> bool:
        return any(start <= day and (end is None or day < end) for start, end in paused)

    days_by_clock: dict[str, set[date]] = {clock: set() for clock in clocks}
    for item in work:
        if item.clock not in days_by_clock:
            continue
        last = min(item.finish, as_of) if item.finish is not None else as_of
        day = item.start
        while day <= last:
            if is_working_day(day) and not suspended(day):
                days_by_clock[item.clock].add(day)
            day = date.fromordinal(day.toordinal() + 1)

    readings = {
        clock: ClockReading(
            clock, len(days), limits.get(clock), status_of(len(days), limits.get(clock))
        )
        for clock, days in days_by_clock.items()
    }
    total = sum(reading.used for reading in readings.values())
    whole_limit = limits.get(WHOLE_PROCESS)
    readings[WHOLE_PROCESS] = ClockReading(
        WHOLE_PROCESS, total, whole_limit, status_of(total, whole_limit)
    )
    return readings


_RANK = {"exceeded": 2, "warning": 1}


def worst_status(readings: Mapping[str, ClockReading]) -> str:
    """Return the worst status among ``readings``: ``exceeded``, ``warning`` or ``ok``.

    A clock without a limit (``unlimited``) counts as ``ok``.
    """
    rank = max((_RANK.get(reading.status, 0) for reading in readings.values()), default=0)
    return {2: "exceeded", 1: "warning"}.get(rank, "ok")
