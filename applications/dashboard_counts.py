"""The counts the supervisors' dashboard draws, kept in step with the rows they count.

Four tables hold, per key, how many unresolved deviations of active applications
(``DeviationCount``, and ``DeviationTotal`` summed over region and manager) and how many
active applications (``ApplicationCount``) there are, and the applications energized
each day (``EnergizedCount``). Every change to those rows
adds its difference in the same transaction, so the page reads a few small sums that are
exact at every request.

A writer names the applications it is about to change; their share of the counts is read
before and after the change (one grouped query each for deviations and applications,
whatever the number of applications) and the difference is added with one upsert per
table, ``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n`` (PostgreSQL and SQLite
both speak it). The share is computed by the same query as the full recount, so the two
cannot disagree on what counts.

The applications are locked before their share is read, and each writer's difference is
its own: a change running at the same time waits for the lock, then reads what the
first one left. Nested writers (a transition that analyses the application again) count
an application once, in the outermost one.

Only live rows count: unresolved deviations of applications in an active state, and
active applications. Resolving, archiving or closing moves a row out once; an archive of
resolved deviations moves no count. Energization is counted once, when it happens, with
the working calendar of that moment: after a change of the calendar, ``recount_dashboard``
counts the cycles again.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from scheduling.models import Deviation
from scheduling.selectors import working_calendar
from yekuo.lookups import any_of

from .kpi import cycle_days
from .models import (
    ACTIVE_STATES,
    Application,
    ApplicationCount,
    DeviationCount,
    DeviationTotal,
    EnergizedCount,
)
from .weights import weight_expression

# The applications whose counts an enclosing writer already tracks in this context.
_tracked: ContextVar[frozenset[int]] = ContextVar("dashboard_counts_tracked", default=frozenset())

# Rows per upsert statement: 10 parameters a row stays well under SQLite's limit.
UPSERT_ROWS = 500


def _deviation_shares(application_ids: list[int] | None = None) -> Counter:
    """Return the unresolved deviations of active applications counted by key (of all
    applications when ``application_ids`` is None)."""
    rows = Deviation.objects.exclude(status=Deviation.Status.RESOLVED).filter(
        application__state__in=ACTIVE_STATES
    )
    if application_ids is not None:
        rows = rows.filter(any_of("application_id", application_ids))
    grouped = (
        rows.values_list(
            "severity",
            "activity__stage",
            "department_id",
            "application__region_id",
            "application__account_manager_id",
            "cause_id",
            "responsible_party",
            "responsible_department_id",
            "status",
        )
        .annotate(n=Count("pk"))
        .order_by()
    )
    shares: Counter = Counter()
    for sev, stage, dep, region, manager, cause, party, resp, status, n in grouped:
        key = (sev, stage or "", dep or 0, region or 0, manager or 0, cause or 0, party or "")
        shares[(*key, resp or 0, status)] += n
    return shares


def _totals(deviations: Counter) -> Counter:
    """Return ``deviations`` (keyed as ``DeviationCount``) summed over region and manager
    (keyed as ``DeviationTotal``)."""
    totals: Counter = Counter()
    for (sev, stage, dep, _region, _manager, cause, party, resp, status), n in deviations.items():
        totals[(sev, stage, dep, cause, party, resp, status)] += n
    return totals


def _application_shares(application_ids: list[int] | None = None) -> Counter:
    """Return the active applications counted by key, as ``(key, "n")`` and ``(key,
    "weight")`` entries."""
    rows = Application.objects.filter(state__in=ACTIVE_STATES)
    if application_ids is not None:
        rows = rows.filter(any_of("pk", application_ids))
    grouped = (
        rows.values_list("account_manager_id", "time_limit_status")
        .annotate(n=Count("pk"), weight=Sum(weight_expression()))
        .order_by()
    )
    shares: Counter = Counter()
    for manager, status, n, weight in grouped:
        shares[((manager or 0, status), "n")] += n
        shares[((manager or 0, status), "weight")] += weight
    return shares


ENERGIZED_VALUES = ("n", "on_time", "cycle_days", "committed_days")


def _energized_shares(application_ids: list[int] | None = None) -> Counter:
    """Return the energized applications counted by local day, as ``(day, value)``
    entries of ``ENERGIZED_VALUES``, as ``supervision.selectors.dashboard_kpis`` counts them."""
    rows = Application.objects.filter(energized_at__isnull=False)
    if application_ids is not None:
        rows = rows.filter(any_of("pk", application_ids))
    calendar = working_calendar()
    shares: Counter = Counter()
    for start, energized_at, committed_finish, committed_duration in rows.values_list(
        "start_date", "energized_at", "committed_finish_date", "committed_duration"
    ).iterator(chunk_size=10_000):
        day = timezone.localdate(energized_at)
        shares[((day,), "n")] += 1
        shares[((day,), "on_time")] += int(day <= committed_finish)
        shares[((day,), "cycle_days")] += cycle_days(calendar, start, day)
        shares[((day,), "committed_days")] += committed_duration
    return shares


def energized(application_ids: Iterable[int]) -> None:
    """Count applications energized in this transaction (energized once: never counted
    before)."""
    ids = sorted(set(application_ids))
    if ids:
        _add_energized(_energized_shares(ids))


def _add_energized(shares: Counter) -> None:
    days = {key for key, _value in shares}
    _upsert(
        EnergizedCount,
        {key: tuple(shares[(key, v)] for v in ENERGIZED_VALUES) for key in days},
        ENERGIZED_VALUES,
    )


def _upsert(model, deltas: dict[tuple, tuple[int, ...]], values: tuple[str, ...]) -> None:
    """Add ``deltas`` (key → the numbers of ``values``) to ``model``'s rows, creating the
    rows not there yet, in a statement per ``UPSERT_ROWS`` keys."""
    # In key order: two writers lock the rows they share in the same order, and so never
    # wait for each other in a circle.
    rows = [(*key, *numbers) for key, numbers in sorted(deltas.items()) if any(numbers)]
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = [*model.KEY, *values]
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    updates = ", ".join(f"{quote(v)} = {table}.{quote(v)} + excluded.{quote(v)}" for v in values)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPSERT_ROWS):
            chunk = rows[start : start + UPSERT_ROWS]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
                f"VALUES {', '.join([row_sql] * len(chunk))} "
                f"ON CONFLICT ({', '.join(quote(c) for c in model.KEY)}) DO UPDATE SET {updates}",
                [value for row in chunk for value in row],
            )


def _add(deviations: Counter, applications: Counter) -> None:
    _upsert(DeviationCount, {key: (n,) for key, n in deviations.items()}, ("n",))
    _upsert(DeviationTotal, {key: (n,) for key, n in _totals(deviations).items()}, ("n",))
    keys = {key for key, _value in applications}
    _upsert(
        ApplicationCount,
        {key: (applications[(key, "n")], applications[(key, "weight")]) for key in keys},
        ("n", "weight"),
    )


@dataclass
class Before:
    """The share of the counts of some applications, read before they change."""

    application_ids: list[int]
    deviations: Counter
    applications: Counter


def before(application_ids: Iterable[int], *, locked: bool = False) -> Before:
    """Read the share of ``application_ids`` in the counts before a change to them (the
    applications an enclosing writer tracks are left to it). ``locked``: the caller holds
    their rows already; otherwise they are locked here, in id order."""
    ids = sorted(set(application_ids) - _tracked.get())
    if not ids:
        return Before([], Counter(), Counter())
    if not locked:
        list(
            Application.objects.filter(any_of("pk", ids))
            .select_for_update(of=("self",))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    return Before(ids, _deviation_shares(ids), _application_shares(ids))


def after(counted: Before) -> None:
    """Add to the counts what changed in the applications of ``counted`` since it was read."""
    if not counted.application_ids:
        return
    deviations = _deviation_shares(counted.application_ids)
    deviations.subtract(counted.deviations)
    applications = _application_shares(counted.application_ids)
    applications.subtract(counted.applications)
    _add(deviations, applications)


def created(application_ids: Iterable[int]) -> None:
    """Count applications just created in this transaction."""
    after(Before(sorted(set(application_ids) - _tracked.get()), Counter(), Counter()))


@contextmanager
def tracked(application_ids: Iterable[int]):
    """Keep the counts in step with what the block changes in ``application_ids``."""
    with transaction.atomic():
        counted = before(application_ids)
        token = _tracked.set(_tracked.get() | frozenset(counted.application_ids))
        try:
            yield
        finally:
            _tracked.reset(token)
        after(counted)


def counting(application_ids: Callable[..., Iterable[int]]):
    """Decorate a service so that it keeps the counts in step with what it changes in the
    applications ``application_ids(**kwargs)`` names (from the service's arguments)."""

    def decorate(service):
        @functools.wraps(service)
        def wrapper(*args, **kwargs):
            with tracked(application_ids(**kwargs)):
                return service(*args, **kwargs)

        return wrapper

    return decorate


def of_application(*, application_id: int, **_rest) -> list[int]:
    """The application a service names by ``application_id``."""
    return [application_id]


def of_deviation(*, deviation_id: int, **_rest) -> list[int]:
    """The application of the deviation a service names by ``deviation_id``."""
    return list(Deviation.objects.filter(pk=deviation_id).values_list("application_id", flat=True))


# --- Recount and check --------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """A key whose stored count is not what the rows say."""

    table: str
    key: tuple
    stored: tuple[int, ...]
    counted: tuple[int, ...]


def _stored() -> tuple[Counter, Counter, Counter]:
    deviations: Counter = Counter()
    for row in DeviationCount.objects.values_list(*DeviationCount.KEY, "n"):
        deviations[row[:-1]] += row[-1]
    totals: Counter = Counter()
    for row in DeviationTotal.objects.values_list(*DeviationTotal.KEY, "n"):
        totals[row[:-1]] += row[-1]
    applications: Counter = Counter()
    for *key, n, weight in ApplicationCount.objects.values_list(
        *ApplicationCount.KEY, "n", "weight"
    ):
        applications[(tuple(key), "n")] += n
        applications[(tuple(key), "weight")] += weight
    return deviations, applications, totals


def dashboard_counts_check() -> list[Difference]:
    """Return every key whose stored counts differ from a count of the rows (none when the
    counts are right)."""
    stored_deviations, stored_applications, stored_totals = _stored()
    deviations, applications = _deviation_shares(), _application_shares()
    totals = _totals(deviations)
    stored_energized: Counter = Counter()
    for day, *values in EnergizedCount.objects.values_list("day", *ENERGIZED_VALUES):
        for name, value in zip(ENERGIZED_VALUES, values, strict=True):
            stored_energized[((day,), name)] += value
    energized_now = _energized_shares()
    differences = [
        Difference("deviations", key, (stored_deviations[key],), (deviations[key],))
        for key in sorted(set(stored_deviations) | set(deviations), key=repr)
        if stored_deviations[key] != deviations[key]
    ]
    differences += [
        Difference("deviation totals", key, (stored_totals[key],), (totals[key],))
        for key in sorted(set(stored_totals) | set(totals), key=repr)
        if stored_totals[key] != totals[key]
    ]
    keys = {key for key, _value in [*stored_applications, *applications]}
    for key in sorted(keys, key=repr):
        stored = (stored_applications[(key, "n")], stored_applications[(key, "weight")])
        counted = (applications[(key, "n")], applications[(key, "weight")])
        if stored != counted:
            differences.append(Difference("applications", key, stored, counted))
    for key in sorted({key for key, _value in [*stored_energized, *energized_now]}):
        stored = tuple(stored_energized[(key, v)] for v in ENERGIZED_VALUES)
        counted = tuple(energized_now[(key, v)] for v in ENERGIZED_VALUES)
        if stored != counted:
            differences.append(Difference("energized", key, stored, counted))
    return differences


@transaction.atomic
def dashboard_counts_recount() -> tuple[int, int]:
    """Count every row again and store the counts in place of the old ones; return how
    many keys each table holds.

    On PostgreSQL the count tables are locked first (writers' upserts wait): a change
    committed before the recount reads is in it, one committed after adds its difference
    to the new counts.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            tables = (
                DeviationCount._meta.db_table,
                DeviationTotal._meta.db_table,
                ApplicationCount._meta.db_table,
                EnergizedCount._meta.db_table,
            )
            names = ", ".join(connection.ops.quote_name(table) for table in tables)
            cursor.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
    # Count rows, not domain rows: they are replaced, nothing of the history goes.
    DeviationCount.objects.all().delete()
    DeviationTotal.objects.all().delete()
    ApplicationCount.objects.all().delete()
    EnergizedCount.objects.all().delete()
    deviations, applications = _deviation_shares(), _application_shares()
    _add(deviations, applications)
    _add_energized(_energized_shares())
    return len(+deviations), len({key for key, _value in +applications})
