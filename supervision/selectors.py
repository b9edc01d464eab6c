"""Every read of the supervisors' pages and of the deviations API."""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import AccountManagerProfile, Department
from accounts.selectors import account_manager_list
from applications.assignment import ManagerLoad
from applications.kpi import kpi_monthly_trend, window
from applications.models import (
    ACTIVE_STATES,
    WORK_STATES,
    Application,
    ApplicationCount,
    CapacityMeasure,
    DeviationCount,
    DeviationTotal,
    EnergizedCount,
    TimeLimitStatus,
)
from applications.selectors import (
    APPLICATION_DETAILS,
    risk_level,
    visible_applications,
    with_unfinished_work_of,
)
from scheduling import selectors as schedule_selectors
from scheduling.models import (
    Activity,
    Crew,
    Deviation,
    DeviationCause,
    ResponsibleParty,
    Severity,
    severity_rank,
)
from yekuo.domain import Stage
from yekuo.lookups import any_of
from yekuo.shown import Shown


def visible_deviations(user):
    """Return the deviations of the applications ``user`` may read, with what the API shows."""
    return Deviation.objects.filter(
        application__in=visible_applications(user).values("pk")
    ).select_related(
        "application",
        "activity",
        "department",
        "acknowledged_by",
        "cause",
        "responsible_department",
    )


def readable_deviation(user, deviation_id: int):
    """Return deviation ``deviation_id`` if ``user`` may read its application, from the hot
    table or the archive (with ``is_archived``); None otherwise."""
    return schedule_selectors.deviation_of_history(
        deviation_id, application_ids=visible_applications(user).values("pk")
    )


def deviation_history_of(user, *, application_id: int) -> list:
    """Return the resolved deviations of an application ``user`` may read (archived ones
    too, the last resolved first); empty when they may not read it."""
    if not visible_applications(user).filter(pk=application_id).exists():
        return []
    rows = schedule_selectors.deviation_history([application_id])
    application = Application.objects.get(pk=application_id)
    for row in rows:
        row.application = application
    return rows


def deviation_counts(deviations) -> dict[str, list[dict]]:
    """Count the unresolved ``deviations`` (a queryset) open and acknowledged, by cause and
    by responsible party; an open deviation not answered yet counts under neither (None,
    ""). Causes come in their order, with their names in the reader's language."""
    unresolved = deviations.exclude(status=Deviation.Status.RESOLVED).order_by()
    tally = {
        "open": Count("id", filter=Q(status=Deviation.Status.OPEN)),
        "acknowledged": Count("id", filter=Q(status=Deviation.Status.ACKNOWLEDGED)),
    }
    by_cause = list(
        unresolved.values("cause__code", "cause__name", "cause__name_en", "cause__sort_order")
        .annotate(**tally)
        .order_by(F("cause__sort_order").asc(nulls_last=True), "cause__code")
    )
    by_party = list(
        unresolved.values(
            "responsible_party",
            "responsible_department__code",
            "responsible_department__name",
            "responsible_department__name_en",
        )
        .annotate(**tally)
        .order_by("responsible_party", "responsible_department__code")
    )
    return _answer_tables(by_cause, by_party)


def _answer_tables(by_cause: list[dict], by_party: list[dict]) -> dict[str, list[dict]]:
    english = not (get_language() or "").startswith("zh")
    parties = dict(ResponsibleParty.choices)
    return {
        "by_cause": [
            {
                "cause": row["cause__code"],
                "name": (
                    (english and row["cause__name_en"]) or row["cause__name"] or _("Not answered")
                ),
                "open": row["open"],
                "acknowledged": row["acknowledged"],
            }
            for row in by_cause
        ],
        "by_party": [
            {
                "party": row["responsible_party"],
                "department": row["responsible_department__code"],
                "name": (
                    (english and row["responsible_department__name_en"])
                    or row["responsible_department__name"]
                    or str(parties.get(row["responsible_party"], _("Not answered")))
                ),
                "open": row["open"],
                "acknowledged": row["acknowledged"],
            }
            for row in by_party
        ],
    }


# --- Supervisor dashboard (the page at /dashboard/) -----------------------------------------

DEVIATION_PAGE_SIZE = 25

# Sort keys of the deviation table → ORDER BY; "-" in front of a key reverses it.
DEVIATION_SORTS = {
    "severity": ["severity_rank", "-delay", "-detected_at", "-id"],
    "delay": ["delay", "-id"],
    "detected": ["detected_at", "-id"],
    "application": ["application__number", "-id"],
    "department": ["department__sort_order", "department__code", "-delay", "-id"],
    "stage": ["activity__stage", "-delay", "-id"],
}


@dataclass(frozen=True)
class DashboardKpis:
    active: int
    unassigned: int
    red: int
    amber: int
    open_by_severity: dict[str, int]
    time_limit_alarms: int
    finished: int
    on_time: int
    average_cycle_days: float | None
    average_committed_days: float | None

    @property
    def on_time_percent(self) -> int | None:
        if not self.finished:
            return None
        return round(100 * self.on_time / self.finished)


def open_deviation_counts() -> list[tuple[int | None, str, str, int]]:
    """Return the open deviations of active applications counted by (department id,
    stage of the late activity, severity), in one query over the maintained counts
    (``applications.dashboard_counts``, their totals over regions and managers): the cards
    and both charts are summed from these rows."""
    rows = (
        DeviationTotal.objects.values_list("department_id", "stage", "severity")
        .annotate(total=Sum("n"))
        .filter(total__gt=0)
        .order_by()
    )
    return [(department or None, stage, severity, n) for department, stage, severity, n in rows]


def dashboard_kpis(*, today: date, deviation_counts) -> DashboardKpis:
    """Return the dashboard's cards, in two queries whatever the number of applications
    (``deviation_counts``: the rows of ``open_deviation_counts``; the applications are
    summed from their maintained counts).

    Time-limit alarms: active applications whose worst clock is past its limit, as the
    last sweep stored it (``Application.time_limit_status``).

    On time and the average connection cycle are over the applications energized in the
    window ending today, as the nightly snapshot defines both (``applications.kpi``),
    against the committed duration Tp of the same applications: summed from the counts
    kept per day of energization.
    """
    counts = ApplicationCount.objects.aggregate(
        active=Coalesce(Sum("n"), 0),
        unassigned=Coalesce(Sum("n", filter=Q(manager_id=0)), 0),
        alarms=Coalesce(Sum("n", filter=Q(time_limit_status=TimeLimitStatus.EXCEEDED)), 0),
    )
    by_severity = {severity: 0 for severity in Severity.values}
    for _department, _stage, severity, n in deviation_counts:
        by_severity[severity] = by_severity.get(severity, 0) + n
    first_day, _window_start, _window_end = window(today)
    finished = EnergizedCount.objects.filter(day__gte=first_day, day__lte=today).aggregate(
        count=Coalesce(Sum("n"), 0),
        on_time=Coalesce(Sum("on_time"), 0),
        cycle_total=Coalesce(Sum("cycle_days"), 0),
        committed_total=Coalesce(Sum("committed_days"), 0),
    )
    count, on_time = finished["count"], finished["on_time"]
    cycle_total, committed_total = finished["cycle_total"], finished["committed_total"]
    return DashboardKpis(
        active=counts["active"],
        unassigned=counts["unassigned"],
        red=by_severity[Severity.RED],
        amber=by_severity[Severity.AMBER],
        open_by_severity=by_severity,
        time_limit_alarms=counts["alarms"],
        finished=count,
        on_time=on_time,
        average_cycle_days=round(cycle_total / count, 1) if count else None,
        average_committed_days=round(committed_total / count, 1) if count else None,
    )


def _open_deviations_filtered(
    *,
    severity: str = "",
    stage: str = "",
    department_id: int | None = None,
    manager_id: int | None = None,
    region_id: int | None = None,
    cause: str = "",
    party: str = "",
):
    qs = Deviation.objects.exclude(status=Deviation.Status.RESOLVED).filter(
        application__state__in=ACTIVE_STATES
    )
    if cause:
        qs = qs.filter(cause__code=cause)
    if party:
        qs = qs.filter(responsible_party=party)
    if severity:
        qs = qs.filter(severity=severity)
    if stage:
        qs = qs.filter(activity__stage=stage)
    if department_id:
        qs = qs.filter(department_id=department_id)
    if manager_id:
        qs = qs.filter(application__account_manager_id=manager_id)
    if region_id:
        qs = qs.filter(application__region_id=region_id)
    return qs


def open_deviation_answer_counts(
    *,
    severity: str = "",
    stage: str = "",
    department_id: int | None = None,
    manager_id: int | None = None,
    region_id: int | None = None,
    cause: str = "",
    party: str = "",
) -> dict[str, list[dict]]:
    """The dashboard's open deviations (filtered as the table is) counted by cause and by
    responsible party, as ``deviation_counts`` tells them: three queries over the
    maintained counts and the names, whatever the number of deviations. Unfiltered by
    manager and region, from the counts' totals over those (a few hundred rows, not tens
    of thousands)."""
    by_person = manager_id or region_id
    counts = (DeviationCount if by_person else DeviationTotal).objects.filter(n__gt=0)
    if cause:
        counts = counts.filter(cause_id__in=DeviationCause.objects.filter(code=cause).values("pk"))
    if party:
        counts = counts.filter(responsible_party=party)
    if severity:
        counts = counts.filter(severity=severity)
    if stage:
        counts = counts.filter(stage=stage)
    if department_id:
        counts = counts.filter(department_id=department_id)
    if manager_id:
        counts = counts.filter(manager_id=manager_id)
    if region_id:
        counts = counts.filter(region_id=region_id)
    rows = counts.values_list(
        "cause_id", "responsible_party", "responsible_department_id", "status"
    )
    rows = rows.annotate(total=Sum("n")).order_by()
    by_cause: dict[int, dict] = {}
    by_party: dict[tuple[str, int], dict] = {}
    for cause_id, responsible_party, department, status, n in rows:
        for tally in (
            by_cause.setdefault(cause_id, {"open": 0, "acknowledged": 0}),
            by_party.setdefault((responsible_party, department), {"open": 0, "acknowledged": 0}),
        ):
            tally[status] += n
    causes = {c.pk: c for c in DeviationCause.objects.filter(pk__in=[k for k in by_cause if k])}
    departments = {
        d.pk: d
        for d in Department.objects.filter(pk__in=[d for _p, d in by_party if d]).only(
            "code", "name", "name_en"
        )
    }
    cause_rows = [
        {
            "cause__code": getattr(causes.get(key), "code", None),
            "cause__name": getattr(causes.get(key), "name", None),
            "cause__name_en": getattr(causes.get(key), "name_en", None),
            "cause__sort_order": getattr(causes.get(key), "sort_order", None),
            **tally,
        }
        for key, tally in by_cause.items()
    ]
    cause_rows.sort(
        key=lambda r: (
            r["cause__sort_order"] is None,
            r["cause__sort_order"] or 0,
            r["cause__code"] or "",
        )
    )
    party_rows = [
        {
            "responsible_party": responsible_party,
            "responsible_department__code": getattr(departments.get(key), "code", None),
            "responsible_department__name": getattr(departments.get(key), "name", None),
            "responsible_department__name_en": getattr(departments.get(key), "name_en", None),
            **tally,
        }
        for (responsible_party, key), tally in by_party.items()
    ]
    party_rows.sort(
        key=lambda r: (
            r["responsible_party"],
            r["responsible_department__code"] is None,
            r["responsible_department__code"] or "",
        )
    )
    return _answer_tables(cause_rows, party_rows)


def open_deviations(*, sort: str = "severity", **filters):
    """Return the open deviations of active applications, filtered and sorted, with all a
    row of the table shows (one query per page).

    Only what the row shows is joined: each further join multiplies the orders
    PostgreSQL's planner weighs (nine tables planned in 22 ms for a 1 ms query)."""
    qs = _open_deviations_filtered(**filters)
    key = sort.lstrip("-")
    order = DEVIATION_SORTS.get(key, DEVIATION_SORTS["severity"])
    if sort.startswith("-"):
        first = order[0]
        order = [first[1:] if first.startswith("-") else f"-{first}", *order[1:]]
    return (
        qs.select_related(
            "application",
            "application__customer",
            "application__account_manager",
            "activity",
            "department",
        )
        .defer(*(f"application__{name}" for name in APPLICATION_DETAILS))
        .annotate(severity_rank=severity_rank())
        .order_by(*order)
    )


AT_RISK_SHOWN = 20
CREWS_SHOWN = 6


def busiest_crews(*, region_id: int | None = None, shown: int | None = None) -> Shown:
    """Return the active crews (and review meetings) that their region's levelling found
    asked most beyond their capacity (most days over it in the window kept, then by
    region and kind), the first ``shown`` (``CREWS_SHOWN``); of one region when given.
    One query."""
    shown = shown or CREWS_SHOWN
    crews = Crew.objects.filter(is_active=True).exclude(load={})
    if region_id:
        crews = crews.filter(region_id=region_id)
    rows = list(
        crews.select_related("region", "department").order_by(
            "-over_capacity_days", "region__code", "kind", "department__code", "id"
        )[: shown + 1]
    )
    return Shown(rows[:shown], len(rows) > shown)


MEASURES_SHOWN = 5


def proposed_capacity_measures(*, region_id: int | None = None) -> list[CapacityMeasure]:
    """Return the proposed measures that would relieve shared crews, the most helpful first
    (commitments kept again, then working days saved), the first ``MEASURES_SHOWN``; of
    one region when given. One query."""
    measures = CapacityMeasure.objects.filter(status=CapacityMeasure.Status.PROPOSED)
    if region_id:
        measures = measures.filter(region_id=region_id)
    return list(
        measures.select_related(
            "crew__region", "crew__department", "lender__region", "lender__department"
        ).order_by("-commitments_kept", "-days_saved", "first_day", "id")[:MEASURES_SHOWN]
    )


def crew_weeks(crew) -> list[tuple[date, int, int | None, int]]:
    """Return the crew's load by week, from its as-of day: (the week's first day kept, the
    activity-days asked of it, its capacity (None when unlimited), the days of the week on
    which more is asked than it has: a week within its capacity may still queue)."""
    weeks: dict[tuple[int, int], list] = {}
    for day, demand, _booked, capacity in crew.load.get("days", []):
        day = date.fromisoformat(day)
        week = weeks.setdefault(day.isocalendar()[:2], [day, 0, 0, 0])
        week[1] += demand
        week[2] = None if capacity is None or week[2] is None else week[2] + capacity
        week[3] += capacity is not None and demand > capacity
    return [tuple(week) for week in weeks.values()]


def levelled_crew(crew_id: int) -> Crew:
    """Return the active crew ``crew_id`` with its region and department (its load may
    be empty: not levelled yet); Crew.DoesNotExist when there is none. One query."""
    return Crew.objects.select_related("region", "department").get(pk=crew_id, is_active=True)


def crew_days(crew) -> list[tuple[date, int, int, int | None]]:
    """Return the crew's load day by day, from its as-of day: (the working day, the
    activity-days asked of it, those its levelling booked, its capacity (None when
    unlimited)). A day asking more than the capacity is where a queue forms."""
    return [
        (date.fromisoformat(day), demand, booked, capacity)
        for day, demand, booked, capacity in crew.load.get("days", [])
    ]


def applications_at_risk(
    *,
    stage: str = "",
    department_id: int | None = None,
    manager_id: int | None = None,
    region_id: int | None = None,
    shown: int | None = None,
) -> Shown:
    """Return the applications in progress least likely to keep their commitment (below
    ``RISK_AT_RISK_BELOW`` by the risk forecast of their last analysis), the least likely
    first, the first ``shown`` (``AT_RISK_SHOWN``) of them, filtered as the deviations are
    where the filter means something for an application: its stage (its state), a
    department with unfinished work in it, its manager, its region. Each comes with
    ``driver``, the activity that drives its risk (or None), and its forecast as ``risk``
    (scheduling's ApplicationRisk). Two queries: read off the index ``risk_least_likely``."""
    shown = shown or AT_RISK_SHOWN
    qs = Application.objects.filter(
        state__in=WORK_STATES, risk__on_time__lt=settings.RISK_AT_RISK_BELOW
    )
    if stage:
        qs = qs.filter(state=stage)
    if department_id:
        qs = with_unfinished_work_of(qs, department_id)
    if manager_id:
        qs = qs.filter(account_manager_id=manager_id)
    if region_id:
        qs = qs.filter(region_id=region_id)
    rows = list(
        qs.select_related("customer", "account_manager", "risk")
        .only(
            "number",
            "state",
            "committed_finish_date",
            "risk__on_time",
            "risk__p80",
            "risk__driver",
            "risk__activities",
            "customer__name",
            "account_manager__username",
            "account_manager__display_name",
        )
        .order_by("risk__on_time", "id")[: shown + 1]
    )
    rows, more = rows[:shown], len(rows) > shown
    drivers = (
        {
            (a.application_id, a.code): a
            for a in Activity.objects.filter(
                any_of("application_id", [r.pk for r in rows]),
                code__in={r.risk.driver for r in rows if r.risk.driver},
            ).only("application_id", "code", "name", "name_en")
        }
        if rows
        else {}
    )
    for row in rows:
        row.driver = drivers.get((row.pk, row.risk.driver))
        if row.driver is not None:
            row.driver.criticality = (row.risk.activities.get(row.risk.driver) or [None])[0]
        row.risk_level = risk_level(row.risk.on_time)
    return Shown(rows, more)


@dataclass(frozen=True)
class SeverityCounts:
    """Open deviations of one department or one stage, by severity."""

    key: object
    label: str
    red: int
    amber: int
    info: int

    @property
    def total(self) -> int:
        return self.red + self.amber + self.info


def _severity_totals(deviation_counts, key_of) -> dict:
    totals: dict = {}
    for department, stage, severity, n in deviation_counts:
        counts = totals.setdefault(key_of(department, stage), {})
        counts[severity] = counts.get(severity, 0) + n
    return totals


def open_deviations_by_department(deviation_counts) -> list[SeverityCounts]:
    """Return the open deviations each department holds, most red first (one query for
    the names; ``deviation_counts``: the rows of ``open_deviation_counts``)."""
    totals = _severity_totals(deviation_counts, lambda department, _stage: department)
    names = {d.pk: d.name for d in Department.objects.filter(pk__in=[k for k in totals if k])}
    result = [
        SeverityCounts(
            key=key,
            # A deviation without a department is on the customer's own activity.
            label=names.get(key, _("Customer side")),
            red=counts.get("red", 0),
            amber=counts.get("amber", 0),
            info=counts.get("info", 0),
        )
        for key, counts in totals.items()
    ]
    return sorted(result, key=lambda c: (-c.red, -c.total, c.label))


def open_deviations_by_stage(deviation_counts) -> list[SeverityCounts]:
    """Return the open deviations in each stage, in stage order (no query)."""
    totals = _severity_totals(deviation_counts, lambda _department, stage: stage)
    return [
        SeverityCounts(
            key=stage,
            label=str(label),
            red=totals.get(stage, {}).get("red", 0),
            amber=totals.get(stage, {}).get("amber", 0),
            info=totals.get(stage, {}).get("info", 0),
        )
        for stage, label in Stage.choices
    ]


@dataclass(frozen=True)
class DashboardFigures:
    kpis: DashboardKpis
    by_department: list[SeverityCounts]
    by_stage: list[SeverityCounts]
    trend: list
    loads: "ManagerLoads"


# The workload chart and table show this many managers, the most loaded against capacity
# first: a province has thousands, and the supervisor looks for the ones over the limit.
MANAGERS_SHOWN = 15


@dataclass(frozen=True)
class ManagerLoads(Shown):
    """The most loaded active managers (``rows``, of ``ManagerLoad``), how many are active
    and how many over capacity."""

    total: int = 0
    over: int = 0


def _fullness(load: int, capacity: int) -> float:
    """Load against capacity; any load on no capacity is the fullest of all."""
    if capacity:
        return load / capacity
    return float("inf") if load else 0.0


def manager_loads(*, shown: int | None = None) -> ManagerLoads:
    """Return the ``shown`` (``MANAGERS_SHOWN``) active managers with the highest weighted
    load against capacity, as ``applications.assignment.account_manager_loads`` weighs it
    (the loads summed from the maintained counts), with how many are active and over.

    Four queries whatever the number of managers: the loads, the capacities, and the shown
    profiles with their regions."""
    shown = shown or MANAGERS_SHOWN
    loads = dict(
        ApplicationCount.objects.filter(manager_id__gt=0)
        .values_list("manager_id")
        .annotate(load=Sum("weight"))
        .order_by()
    )
    active = [
        (pk, loads.get(user_id, 0), capacity, username)
        for pk, user_id, capacity, username in AccountManagerProfile.objects.filter(
            is_active=True, user__is_active=True
        ).values_list("pk", "user_id", "capacity", "user__username")
    ]
    active.sort(key=lambda r: (-_fullness(r[1], r[2]), r[3]))
    top = active[:shown]
    profiles = account_manager_list(active_only=True).in_bulk([r[0] for r in top])
    return ManagerLoads(
        rows=[
            ManagerLoad(profile=profiles[pk], load=load, capacity=capacity)
            for pk, load, capacity, _name in top
            if pk in profiles
        ],
        more=len(active) > len(top),
        total=len(active),
        over=sum(1 for _pk, load, capacity, _name in active if load > capacity),
    )


def dashboard_figures(*, today: date) -> DashboardFigures:
    """Return the dashboard's cards and charts, exact at every request.

    9 queries whatever the numbers: the deviation counts, the application counts, the
    energized applications, the department names, the snapshots, the managers' loads and
    capacities, the shown managers and their regions.
    """
    rows = open_deviation_counts()
    return DashboardFigures(
        kpis=dashboard_kpis(today=today, deviation_counts=rows),
        by_department=open_deviations_by_department(rows),
        by_stage=open_deviations_by_stage(rows),
        trend=kpi_monthly_trend(months=12, today=today),
        loads=manager_loads(),
    )
