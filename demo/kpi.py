"""The demo's KPI history: the snapshots the nightly task would have taken in past months.

The dashboard's trend chart reads one snapshot per month (the month's last); a fresh demo
database has none, so the chart said there was nothing yet on the first day. The snapshots
of the last day of each past month, and of today, are taken from the demo's history with
the product's own ``kpi_snapshot_take``: the applications energized in each 30-day window,
their cycle and their utility-side time are those of the stored history. As that
function's docstring says, the figures of the moment (active applications, open
deviations) of a past day are those of the day the demo is loaded.
"""

from __future__ import annotations

import multiprocessing
from datetime import date, timedelta

from django.db import connections

from applications.kpi import kpi_snapshot_take

from .applications import disconnect_before_fork, forks_beside

# The dashboard's chart shows twelve months, today's included.
KPI_MONTHS = 12
# The processes that take the history's snapshots, where they can fork (two cores).
HISTORY_PROCESSES = 2


def kpi_history_days(*, today: date, months: int = KPI_MONTHS) -> list[date]:
    """Return the last day of each of the ``months - 1`` months before today's, then today."""
    days = [today]
    first = today.replace(day=1)
    for _month in range(months - 1):
        last = first - timedelta(days=1)
        days.append(last)
        first = last.replace(day=1)
    return sorted(days)


def demo_kpi_history_load(
    *, today: date, months: int = KPI_MONTHS, processes: int | None = None
) -> list[date]:
    """Take the KPI snapshots of :func:`kpi_history_days`; return the days taken.

    Idempotent (a snapshot of a day replaces that day's rows), so loading more demo
    applications later takes them again with the larger history. Each day's snapshot is
    its own: ``processes`` forked processes (by default ``HISTORY_PROCESSES`` where they
    can run beside this one, else this one alone) take the days in turn. At 1,000,000
    applications a snapshot takes minutes, and there are twelve.
    """
    days = kpi_history_days(today=today, months=months)
    if processes is None:
        processes = HISTORY_PROCESSES if forks_beside() else 1
    if processes <= 1:
        for day in days:
            kpi_snapshot_take(day=day)
        return days
    disconnect_before_fork()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pool.map(_snapshot_take, days, chunksize=1)
    return days


def _snapshot_take(day: date) -> None:
    try:
        kpi_snapshot_take(day=day)
    finally:
        connections.close_all()
