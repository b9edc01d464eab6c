"""KPIs per account manager and per department (DESIGN §6), snapshotted nightly for trends.

Fetch, compute, persist: ``kpi_figures`` reads and computes, ``kpi_snapshot_take`` stores
one ``KpiSnapshot`` row per active account manager and per active department, and
``kpi_trend`` reads the rows back for a chart.

The figures of a snapshot taken for day D (local time):

- ``active``: applications in an active state (``ACTIVE_STATES``, suspended included)
  when the snapshot is taken. Like the deviations, this is the state of the moment: a
  snapshot cannot be re-taken for a past day and give that day's active count.
- ``finished``: applications energized within the window, the ``WINDOW_DAYS`` calendar
  days ending on D (D - 29 to D, both included), by the local date of ``energized_at``,
  whatever their state now (energized or closed). Energization is the end of the
  connection cycle; closing only files the post-completion review.
- ``on_time``: of those, the ones energized on or before their ``committed_finish_date``;
  for a department, the ones it caused no late day of (the late days of the others are
  the customer's or another department's: ``scheduling.attribution``).
- ``average_cycle_days``: the mean, over the finished ones, of the working days from
  ``start_date`` to the energization date, both counted (customer-side and suspended time
  included: the cycle the customer saw). An application energized on its committed
  finish date has a cycle of exactly its ``committed_duration``.
- ``average_utility_days``: the mean of the whole-process clock's "used" working days of
  the finished ones (utility-side time only, as ``application_time_limits`` counts it).
  Both averages weigh every application the same and are empty (None) when nothing was
  finished: a gap in the chart, not a zero.
- ``deviations_red`` / ``_amber`` / ``_info``: deviations not resolved (open or
  acknowledged) now, by severity.
- ``limits_exceeded``: active and finished-in-window applications with any clock, the
  whole process included, past its limit: an active one as of D, a finished one as of its
  energization.

Scope: a manager's applications are those they hold (``account_manager``); a
department's are those with at least one activity the department owns; a manager's
deviations are those on their applications, a department's those it owns
(``Deviation.department``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, User
from scheduling.attribution import CUSTOMER
from scheduling.models import Activity, Deviation, Severity
from scheduling.selectors import application_delay_by_party, working_calendar
from scheduling.timelimits import ClockReading, ClockWork, worst_status
from yekuo.errors import InvalidInput
from yekuo.lookups import any_of

from .models import (
    ACTIVE_STATES,
    Application,
    Complaint,
    KpiScope,
    KpiSnapshot,
    PostCompletionReview,
    StageTransition,
)
from .selectors import clock_work, time_limit_readings, time_limits_by_class

WINDOW_DAYS = 30
# Applications whose activities and suspensions are loaded at once: about 17 activity
# rows each, so a chunk holds some 8,500 small tuples.
CHUNK_SIZE = 500
TWO_PLACES = Decimal("0.01")


@dataclass
class KpiFigures:
    """The figures of one manager or one department, as they are summed up."""

    active: int = 0
    finished: int = 0
    on_time: int = 0
    cycle_days_total: int = 0
    utility_days_total: int = 0
    deviations: dict[str, int] = field(default_factory=dict)
    limits_exceeded: int = 0

    def as_fields(self) -> dict:
        """Return the figures as ``KpiSnapshot`` field values."""
        return {
            "active": self.active,
            "finished": self.finished,
            "on_time": self.on_time,
            "average_cycle_days": _mean(self.cycle_days_total, self.finished),
            "average_utility_days": _mean(self.utility_days_total, self.finished),
            "deviations_red": self.deviations.get(Severity.RED, 0),
            "deviations_amber": self.deviations.get(Severity.AMBER, 0),
            "deviations_info": self.deviations.get(Severity.INFO, 0),
            "limits_exceeded": self.limits_exceeded,
        }


def _mean(total, count: int) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / Decimal(count)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


@dataclass
class _Application:
    """What the KPIs need of one application, loaded in bulk."""

    pk: int
    manager_id: int | None
    customer_class: str
    state: str
    start_date: date
    committed_finish_date: date
    energized_on: date | None
    committed_duration: int = 0
    plan_meeting_weekday: int | None = None
    departments: set[int] = field(default_factory=set)
    work: list[ClockWork] = field(default_factory=list)
    log: list[StageTransition] = field(default_factory=list)
    # Every activity, dummies included, when loaded for the attribution of delay.
    activities: list[Activity] = field(default_factory=list)

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


def window(day: date) -> tuple[date, datetime, datetime]:
    """Return the window ending on ``day``: its first day, and as [first instant, instant
    after the last) for a query on ``energized_at``."""
    zone = timezone.get_current_timezone()
    first = day - timedelta(days=WINDOW_DAYS - 1)
    return (
        first,
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
    )


def cycle_days(calendar, start_date: date, energized_on: date) -> int:
    """Return the connection cycle: the working days from day 0 to energization, both
    counted (an application energized on its committed finish date took exactly Tp)."""
    return calendar.date_to_offset(start_date, energized_on) + 1


def _chunks(items: list, size: int) -> Iterator[list]:
    for position in range(0, len(items), size):
        yield items[position : position + size]


def of_applications(ids: list[int]) -> Q:
    """Filter the rows of these applications (a chunk's ids, not empty) by their index.

    The range repeats what the list says, for the planner: given a list of hundreds of ids
    alone, PostgreSQL may expect most of a large table and scan all of it, chunk after
    chunk, which made the work grow with the square of the applications. A range it takes
    for a small part, and reads the index.
    """
    return Q(
        any_of("application_id", ids), application_id__gte=min(ids), application_id__lte=max(ids)
    )


def _clock_rows(ids: list[int]):
    """Return what the clocks and the departments need of these applications' activities:
    the utility-side work started or owned by a department, as plain tuples, in order."""
    return (
        Activity.objects.filter(of_applications(ids), is_dummy=False)
        .filter(Q(department__isnull=False) | Q(actual_start__isnull=False))
        .order_by("application_id", "sort_order", "id")
        .values_list(
            "application_id",
            "department_id",
            "clock",
            "party",
            "actual_start",
            "actual_finish",
            named=True,
        )
    )


def _suspension_log(applications: dict[int, _Application], ids: list[int]) -> None:
    log = (
        StageTransition.objects.filter(
            of_applications(ids), transition__in=["suspend", "resume", "cancel"]
        )
        .order_by("application_id", "at", "id")
        .only("application_id", "transition", "at")
    )
    for row in log:
        applications[row.application_id].log.append(row)


def _load(applications: dict[int, _Application], *, networks: bool = False) -> None:
    """Fill in the departments, clock work and suspension log: two queries per chunk.

    With ``networks``, every activity row is loaded whole (still one query per chunk)
    and kept in ``activities``, for the forecast the attribution of delay needs.
    """
    ids = list(applications)
    for chunk in _chunks(ids, CHUNK_SIZE):
        if networks:
            rows = Activity.objects.filter(of_applications(chunk)).order_by(
                "application_id", "sort_order", "id"
            )
        else:
            rows = _clock_rows(chunk)
        for row in rows:
            application = applications[row.application_id]
            if networks:
                application.activities.append(row)
                if row.is_dummy or (row.department_id is None and row.actual_start is None):
                    continue
            if row.department_id is not None:
                application.departments.add(row.department_id)
            application.work += clock_work([row])
        _suspension_log(applications, chunk)


def _readings(
    application: _Application, *, today: date, limits: dict[str, dict[str, int]], calendar
) -> dict[str, ClockReading]:
    return time_limit_readings(
        application,
        work=application.work,
        log=application.log,
        limits=limits,
        today=today,
        energized_on=application.energized_on,
        working_days=calendar.working_days_in,
    )


_APPLICATION_COLUMNS = (
    "pk",
    "account_manager_id",
    "customer_class",
    "state",
    "start_date",
    "committed_finish_date",
    "energized_at",
    "committed_duration",
    "plan_meeting_weekday",
)


def _applications(queryset: QuerySet[Application]) -> dict[int, _Application]:
    return _as_applications(queryset.order_by("pk").values_list(*_APPLICATION_COLUMNS))


def _as_applications(rows) -> dict[int, _Application]:
    return {
        row[0]: _Application(
            *row[:6],
            energized_on=timezone.localdate(row[6]) if row[6] is not None else None,
            committed_duration=row[7],
            plan_meeting_weekday=row[8],
        )
        for row in rows
    }


def application_time_limits_many(
    application_ids: Iterable[int], *, today: date
) -> dict[int, dict[str, ClockReading]]:
    """Return ``application_time_limits`` of many applications in a constant number of queries.

    The same readings, application id → clock → reading: 1 query for the applications,
    1 for the limits, 2 per ``CHUNK_SIZE`` applications (activities, the suspension log),
    and the calendar's (none while it is cached).
    """
    applications = _applications(Application.objects.filter(pk__in=list(application_ids)))
    _load(applications)
    limits = time_limits_by_class()
    calendar = working_calendar()
    return {
        pk: _readings(application, today=today, limits=limits, calendar=calendar)
        for pk, application in applications.items()
    }


def _stream(condition: Q) -> Iterator[dict[int, _Application]]:
    """Yield the applications matching ``condition`` in chunks of ``CHUNK_SIZE``, in id
    order, each with its clock work, departments and suspension log loaded.

    Each chunk is read after the last one's id (keyset), so memory holds one chunk and
    every query reads about ``CHUNK_SIZE`` applications' rows, whatever their number.
    """
    last, size = 0, CHUNK_SIZE
    while True:
        applications = _as_applications(
            Application.objects.filter(condition, pk__gt=last)
            .order_by("pk")
            .values_list(*_APPLICATION_COLUMNS)[:size]
        )
        if not applications:
            return
        ids = list(applications)
        last = ids[-1]
        for row in _clock_rows(ids):
            application = applications[row.application_id]
            if row.department_id is not None:
                application.departments.add(row.department_id)
            application.work += clock_work([row])
        _suspension_log(applications, ids)
        yield applications


def _late_networks(applications: Iterable[_Application]) -> None:
    """Load every activity row, dummies included, of these applications (one query)."""
    by_pk = {application.pk: application for application in applications}
    if not by_pk:
        return
    for row in Activity.objects.filter(of_applications(list(by_pk))).order_by(
        "application_id", "sort_order", "id"
    ):
        by_pk[row.application_id].activities.append(row)


def kpi_figures(*, day: date) -> dict[tuple[str, int], KpiFigures]:
    """Return the figures of every manager and department with any, keyed (scope, id).

    One pass over the active and finished-in-window applications, ``CHUNK_SIZE`` at a
    time (see ``_stream``): per chunk, 1 query for the applications, 1 for what their
    clocks and departments need of their activities (plain tuples), 1 for their suspension
    log and, when some finished late, 1 for those ones' whole activity rows (their delay
    is forecast to attribute it). Then 1 for the time limits, 2 for the deviations
    (counted by the database), and the calendar's (none while it is cached). Time and rows
    read grow linearly with the active and finished applications, memory with the chunk:
    the clocks and the working-day cycle need the calendar, which the database does not
    have, so they are summed up here.
    """
    first_day, window_start, window_end = window(day)
    in_window = Q(energized_at__gte=window_start, energized_at__lt=window_end)
    limits = time_limits_by_class()
    calendar = working_calendar()
    figures: dict[tuple[str, int], KpiFigures] = defaultdict(KpiFigures)

    for applications in _stream(Q(state__in=ACTIVE_STATES) | in_window):
        counted = []
        for application in applications.values():
            finished = (
                application.energized_on is not None
                and first_day <= application.energized_on <= day
            )
            if not (application.is_active or finished):
                # Energized after ``day``: a snapshot taken for a past day.
                continue
            on_time = finished and application.energized_on <= application.committed_finish_date
            counted.append((application, finished, on_time))
        _late_networks(a for a, finished, on_time in counted if finished and not on_time)
        for application, finished, on_time in counted:
            readings = _readings(application, today=day, limits=limits, calendar=calendar)
            exceeded = worst_status(readings) == "exceeded"
            caused = (
                application_delay_by_party(
                    application, application.activities, calendar, application.energized_on
                )
                if finished and not on_time
                else {}
            )
            keys = [(KpiScope.DEPARTMENT, pk) for pk in application.departments]
            if application.manager_id is not None:
                keys.append((KpiScope.MANAGER, application.manager_id))
            for key in keys:
                kpi = figures[key]
                kpi.active += int(application.is_active)
                kpi.limits_exceeded += int(exceeded)
                if finished:
                    kpi.finished += 1
                    if key[0] == KpiScope.DEPARTMENT:
                        kpi.on_time += int(not caused.get(key[1]))
                    else:
                        kpi.on_time += int(on_time)
                    kpi.cycle_days_total += cycle_days(
                        calendar, application.start_date, application.energized_on
                    )
                    kpi.utility_days_total += readings["whole_process"].used

    open_deviations = Deviation.objects.exclude(status=Deviation.Status.RESOLVED)
    by_severity = {
        severity: Count("pk", filter=Q(severity=severity)) for severity in Severity.values
    }
    for scope, column in (
        (KpiScope.MANAGER, "application__account_manager"),
        (KpiScope.DEPARTMENT, "department"),
    ):
        rows = (
            open_deviations.filter(**{f"{column}__isnull": False})
            .values(column)
            .annotate(**by_severity)
            .order_by()
        )
        for row in rows:
            figures[(scope, row[column])].deviations = {
                severity: row[severity] for severity in Severity.values
            }
    return dict(figures)


def kpi_snapshot_take(*, day: date | None = None) -> int:
    """Store the KPI snapshot of ``day`` (today) for every active manager and department.

    Idempotent: a row per (scope, key, day) is updated in place, so taking the snapshot
    again the same day leaves the same rows with the newest figures. Return the number of
    rows written.

    Costs: the queries of ``kpi_figures`` (a constant number plus up to 4 per ``CHUNK_SIZE``
    active and finished applications), 2 for the managers and departments, then one
    ``update_or_create`` (a locking read, then an update or an insert, in a savepoint) per
    manager and per department: the writes grow with the people and departments, never
    with the applications.
    """
    day = day or timezone.localdate()
    managers = list(
        User.objects.filter(is_active=True, account_manager__is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    departments = list(
        Department.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
    )
    figures = kpi_figures(day=day)
    keys = [(KpiScope.MANAGER, pk) for pk in managers] + [
        (KpiScope.DEPARTMENT, pk) for pk in departments
    ]
    # One transaction: a chart never shows half a night's snapshot.
    with transaction.atomic():
        for scope, pk in keys:
            key = {"manager_id": pk} if scope == KpiScope.MANAGER else {"department_id": pk}
            KpiSnapshot.objects.update_or_create(
                day=day,
                scope=scope,
                **key,
                defaults=figures.get((scope, pk), KpiFigures()).as_fields(),
            )
    return len(keys)


def kpi_trend(
    *, scope: str, key: int, days: int = 90, today: date | None = None
) -> QuerySet[KpiSnapshot]:
    """Return the snapshots of one manager (``key``: user id) or one department
    (``key``: department id) over the ``days`` days ending today, oldest first."""
    if scope not in KpiScope.values:
        raise InvalidInput(
            {
                "scope": _("Choose a scope from: %(choices)s.")
                % {"choices": ", ".join(KpiScope.values)}
            }
        )
    if days < 1:
        raise InvalidInput({"days": _("Ask for at least one day.")})
    today = today or timezone.localdate()
    column = "manager_id" if scope == KpiScope.MANAGER else "department_id"
    return KpiSnapshot.objects.filter(
        scope=scope,
        day__gt=today - timedelta(days=days),
        day__lte=today,
        **{column: key},
    ).order_by("day")


# --- Monthly trend of the whole utility (the dashboard's chart) -----------------------------


@dataclass(frozen=True)
class MonthlyCycle:
    """The connection cycle of one month, from the month's last snapshot day."""

    month: date
    finished: int
    average_cycle_days: Decimal | None
    average_utility_days: Decimal | None


def kpi_monthly_trend(*, months: int = 12, today: date | None = None) -> list[MonthlyCycle]:
    """Return the average connection cycle of every account manager together, per month.

    For each of the ``months`` calendar months up to today's, the managers' snapshots of
    the last day the month has any are combined, each manager's average weighted by the
    applications they finished in its window: the cycle of the 30 days ending then. A
    month without snapshots is absent. Two queries; the rows read grow with the managers
    and the months shown, never with the applications nor with the nights of history
    (a year of nightly snapshots of 500 managers is 180,000 rows, of which 6,000 count).
    """
    today = today or timezone.localdate()
    first = today.replace(day=1)
    for _month in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    last_days = _months_last_snapshot_days(first, today)
    rows = (
        KpiSnapshot.objects.filter(scope=KpiScope.MANAGER, day__in=last_days)
        .order_by()
        .values_list("day", "finished", "average_cycle_days", "average_utility_days")
    )
    by_day: dict[date, list[tuple]] = defaultdict(list)
    for day, finished, cycle, utility in rows:
        by_day[day].append((finished, cycle, utility))
    trend = []
    for day in sorted(by_day):
        month = day.replace(day=1)
        figures = by_day[day]
        finished = sum(f for f, _c, _u in figures)
        cycle = sum(f * c for f, c, _u in figures if c is not None)
        utility = sum(f * u for f, _c, u in figures if u is not None)
        trend.append(
            MonthlyCycle(
                month=month,
                finished=finished,
                average_cycle_days=_mean(cycle, finished),
                average_utility_days=_mean(utility, finished),
            )
        )
    return trend


def _months_last_snapshot_days(first: date, today: date) -> list[date]:
    """The last day of each month from ``first`` to ``today`` that has managers'
    snapshots, in one query. On PostgreSQL each month's day is read from the end of the
    month down the (scope, day) index, one row per month (a lateral join over the months:
    cheap to plan, where twelve limited branches of a union cost 7 ms to build);
    elsewhere (SQLite, a small installation) grouped by month."""
    if connection.vendor != "postgresql":
        return list(
            KpiSnapshot.objects.filter(scope=KpiScope.MANAGER, day__gte=first, day__lte=today)
            .annotate(month=TruncMonth("day"))
            .values("month")
            .annotate(last=Max("day"))
            .order_by()
            .values_list("last", flat=True)
        )
    table = connection.ops.quote_name(KpiSnapshot._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last.day FROM generate_series(%s::date, %s::date, interval '1 month')"
            " AS month(start) CROSS JOIN LATERAL ("
            f" SELECT s.day FROM {table} s WHERE s.scope = %s AND s.day >= month.start"
            " AND s.day < month.start + interval '1 month' AND s.day <= %s"
            " ORDER BY s.day DESC LIMIT 1) AS last",
            [first, today, KpiScope.MANAGER.value, today],
        )
        return [day for (day,) in cursor.fetchall()]


# --- Assessment (考核) of a period, per account manager, department and the customer side ---

CUSTOMER_SCOPE = "customer"


@dataclass
class AssessmentRow:
    """The assessment of one account manager, one department or the customer side.

    The applications counted are those energized in the period (by the local date of
    ``energized_at``): ``finished``. Each late working day of one of them (past its
    committed finish) is attributed to the party that caused it
    (:mod:`scheduling.attribution`): a utility-side activity's department, or the
    customer for customer-side activities. Then, per scope:

    - an account manager answers for their applications: ``late`` are those energized
      after their committed finish, the delays are the working days past it, and
      ``delay_caused`` the utility side's days of them (the customer's time is not the
      utility's);
    - a department answers for the delays it caused: ``finished`` are the applications it
      had work in, ``late`` those it caused at least one late day of, the delays (average,
      worst, ``delay_caused``) the days it caused, ``limits_exceeded`` those of its late
      ones with a clock past its limit;
    - the customer side: ``late`` are the applications the customer caused late days of,
      the delays those days; the utility's time limits do not run on customer time.

    ``complaints``: customer complaints received in the period (by ``received_on``) about
    a manager's applications, or handled by a department; ``complaints_substantiated``:
    those found substantiated.

    ``on_time``: finished and not late. ``limits_exceeded`` (managers): finished ones with
    any clock, the whole process included, past its limit at energization. The review
    scores are the means (1-5) of the post-completion reviews of the finished ones;
    ``accepted``: applications accepted in the period (a department's: with its work).
    """

    scope: str
    key: int | str
    name: str
    accepted: int = 0
    finished: int = 0
    on_time: int = 0
    late: int = 0
    delay_total: int = 0
    worst_delay: int = 0
    delay_caused: int = 0
    limits_exceeded: int = 0
    complaints: int = 0
    complaints_substantiated: int = 0
    reviews: int = 0
    score_totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REVIEW_SCORES, 0))

    @property
    def on_time_rate(self) -> Decimal | None:
        """The share finished and not late, in per cent (two places)."""
        if not self.finished:
            return None
        return _mean(100 * self.on_time, self.finished)

    @property
    def average_delay(self) -> Decimal | None:
        """The mean delay of the late applications, in working days."""
        return _mean(self.delay_total, self.late)

    def average_score(self, name: str) -> Decimal | None:
        return _mean(self.score_totals[name], self.reviews)

    @property
    def scores(self) -> dict[str, Decimal | None]:
        return {name: self.average_score(name) for name in REVIEW_SCORES}

    def count(self, *, late_by: int, caused: int, exceeded: bool, review) -> None:
        """Count one finished application: late by ``late_by`` days for this row."""
        self.finished += 1
        self.delay_caused += caused
        self.limits_exceeded += int(exceeded)
        if late_by:
            self.late += 1
            self.delay_total += late_by
            self.worst_delay = max(self.worst_delay, late_by)
        else:
            self.on_time += 1
        if review is not None:
            self.reviews += 1
            for name, score in zip(REVIEW_SCORES, review, strict=True):
                self.score_totals[name] += score


REVIEW_SCORES = ("quality", "safety", "efficiency", "satisfaction")


@dataclass
class Assessment:
    start: date
    end: date
    managers: list[AssessmentRow]
    departments: list[AssessmentRow]
    customer: AssessmentRow
    # False when only a department head's own department row is shown.
    whole: bool = True

    @property
    def customer_rows(self) -> list[AssessmentRow]:
        return [self.customer]


def may_see_assessment(user) -> bool:
    """Supervisors see the whole assessment, a department head its department's row."""
    return user.has_perm("accounts.view_assessment") or (
        user.has_perm("accounts.lead_department") and user.department_id is not None
    )


def assessment_seen_by(result: Assessment, user) -> Assessment:
    """Return the part of ``result`` that ``user`` may see: all of it with the permission
    to view the assessment, else (a department head) the row of their department."""
    if user.has_perm("accounts.view_assessment"):
        return result
    return Assessment(
        start=result.start,
        end=result.end,
        managers=[],
        departments=[row for row in result.departments if row.key == user.department_id],
        customer=result.customer,
        whole=False,
    )


def assessment(*, start: date, end: date) -> Assessment:
    """Return the assessment of every account manager and department, and of the customer
    side, for [start, end] (see :class:`AssessmentRow` for what each figure counts).

    Queries, whatever the number of applications: 1 for the applications energized in
    the period, 2 per ``CHUNK_SIZE`` of them (``_load``: whole activity rows, the
    suspension log), 1 for the time limits, 1 for their reviews, 2 for the applications
    accepted in the period (by manager, by department), 1 for the complaints received in
    it, 2 for the names, and the calendar's. The Python work is one forecast per late
    finished application. Every active account manager and department has a row, with
    zeros when nothing happened.
    """
    if end < start:
        raise InvalidInput({"end": _("The end of the period is before its start.")})
    zone = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    applications = _applications(
        Application.objects.filter(energized_at__gte=since, energized_at__lt=until)
    )
    _load(applications, networks=True)
    limits = time_limits_by_class()
    calendar = working_calendar()

    managers = {
        user.pk: AssessmentRow(scope=KpiScope.MANAGER, key=user.pk, name=str(user))
        for user in User.objects.filter(account_manager__isnull=False).order_by("username")
    }
    departments = {
        d.pk: AssessmentRow(scope=KpiScope.DEPARTMENT, key=d.pk, name=d.name)
        for d in Department.objects.filter(is_active=True)
    }
    customer = AssessmentRow(scope=CUSTOMER_SCOPE, key=CUSTOMER_SCOPE, name=_("Customer side"))
    reviews = {
        row[0]: row[1:]
        for row in PostCompletionReview.objects.filter(
            application_id__in=list(applications)
        ).values_list("application_id", *REVIEW_SCORES)
    }

    for application in applications.values():
        readings = _readings(application, today=end, limits=limits, calendar=calendar)
        exceeded = worst_status(readings) == "exceeded"
        late_by = 0
        if application.energized_on > application.committed_finish_date:
            late_by = max(
                calendar.date_to_offset(
                    application.committed_finish_date, application.energized_on
                ),
                1,
            )
        caused = (
            application_delay_by_party(
                application, application.activities, calendar, application.energized_on
            )
            if late_by
            else {}
        )
        review = reviews.get(application.pk)
        for pk in application.departments:
            if pk in departments:
                days = caused.get(pk, 0)
                departments[pk].count(
                    late_by=days, caused=days, exceeded=exceeded and days > 0, review=review
                )
        if application.manager_id in managers:
            utility_days = sum(days for party, days in caused.items() if party != CUSTOMER)
            managers[application.manager_id].count(
                late_by=late_by, caused=utility_days, exceeded=exceeded, review=review
            )
        days = caused.get(CUSTOMER, 0)
        customer.count(late_by=days, caused=days, exceeded=False, review=None)

    accepted = Application.objects.filter(accepted_at__gte=since, accepted_at__lt=until)
    for manager_id, count in (
        accepted.order_by()
        .values("account_manager_id")
        .annotate(n=Count("pk"))
        .values_list("account_manager_id", "n")
    ):
        if manager_id in managers:
            managers[manager_id].accepted = count
        customer.accepted += count
    for department_id, count in (
        Activity.objects.filter(application__in=accepted, department__isnull=False, is_dummy=False)
        .order_by()
        .values("department_id")
        .annotate(n=Count("application_id", distinct=True))
        .values_list("department_id", "n")
    ):
        if department_id in departments:
            departments[department_id].accepted = count
    complaints = (
        Complaint.objects.filter(received_on__gte=start, received_on__lte=end)
        .order_by()
        .values_list("application__account_manager_id", "department_id", "substantiated")
        .annotate(n=Count("pk"))
    )
    for manager_id, department_id, substantiated, count in complaints:
        for row in (managers.get(manager_id), departments.get(department_id)):
            if row is not None:
                row.complaints += count
                row.complaints_substantiated += count if substantiated else 0
    return Assessment(
        start=start,
        end=end,
        managers=list(managers.values()),
        departments=list(departments.values()),
        customer=customer,
    )
