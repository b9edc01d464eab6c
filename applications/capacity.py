"""Shared capacity for a region's applications: every application in progress scheduled
against the region's crews and review meeting (scheduling.levelling), and the result kept
on each application beside its unconstrained forecast.

A region is the unit: its applications share its crews and nothing else, so regions are
levelled independently (one task each, spread over workers). The projects are built from
the same forecast inputs the analysis uses (scheduling.selectors.application_forecast):
the same as-of point, progress, Tp and meeting weekday. An activity queues for the crew of
its kind (``crew_kind``) of its department and of each joint department in the region; a
crew the region has not set up leaves that activity unconstrained, and is reported.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Region
from scheduling import levelling, relief
from scheduling import selectors as schedule_selectors
from scheduling import services as schedule_services
from scheduling.models import CrewKind
from yekuo import bulk
from yekuo.dates import month_day_text

from .models import WORK_STATES, Application, CapacityMeasure
from .sweep import read
from .sweep.working_days import WorkingDays


@dataclass
class RegionLevelling:
    """What levelling a region found: the levelling itself, the applications' day 0 as
    dates (to give the results as dates), the crews' names by key, and the crews the
    region lacks with the activities they left unconstrained."""

    region: Region
    today: date
    found: levelling.Levelling | None
    origin: date | None = None  # the date of global day 0
    first: int = 0  # the first global day anything may be placed on (the earliest as-of)
    day0: dict[int, date] = field(default_factory=dict)
    crews: dict[str, str] = field(default_factory=dict)
    crew_ids: dict[int, str] = field(default_factory=dict)
    resources: dict[str, levelling.Resource] = field(default_factory=dict)
    weekday_of: object = None
    missing: Counter = field(default_factory=Counter)
    projects: list[levelling.Project] = field(default_factory=list)
    # The loans among the measures found: id(measure) -> (lending crew, its capacity).
    loans: dict = field(default_factory=dict)
    numbers: dict[int, str] = field(default_factory=dict)


class LevelledApplication(NamedTuple):
    """What a region's levelling reads of an application (as the forecast reads it)."""

    pk: int
    number: str
    start_date: date
    committed_duration: int | None
    plan_meeting_weekday: int | None
    is_important: bool


def region_levelling(region: Region, *, today: date) -> RegionLevelling:
    """Level the applications in progress of ``region`` as of the end of ``today``.

    Read as the sweep reads a batch (tuples, not model instances: a region holds thousands
    of applications), in four queries: the applications, their activities, what those
    need of the crews, and the region's crews."""
    applications = [
        LevelledApplication(*row)
        for row in Application.objects.filter(region=region, state__in=WORK_STATES)
        .order_by("pk")
        .values_list(*LevelledApplication._fields)
    ]
    result = RegionLevelling(region=region, today=today, found=None)
    if not applications:
        return result
    ids = [a.pk for a in applications]
    calendar = WorkingDays(
        schedule_selectors.working_calendar(), min(a.start_date for a in applications)
    )
    result.day0 = {a.pk: calendar.project_day_zero(a.start_date) for a in applications}
    origin = result.origin = min(result.day0.values())
    crews = schedule_selectors.region_crews(region.pk)
    resources = schedule_selectors.crew_resources(crews, calendar, origin)
    result.crews = {schedule_selectors.crew_key(c.kind, c.department_id): str(c) for c in crews}
    result.crew_ids = {c.pk: schedule_selectors.crew_key(c.kind, c.department_id) for c in crews}
    result.resources = {resource.key: resource for resource in resources}
    by_application = read.swept_activities(ids)
    needs = schedule_selectors.crew_needs(ids)
    projects = []
    for application in applications:
        activities = by_application[application.pk]
        compiled = read.compiled_rows(activities, read.logic_key(activities))
        day0, progress, as_of, durations, baseline = schedule_selectors.forecast_inputs(
            application, activities, calendar, today, compiled
        )
        projects.append(
            levelling.Project(
                key=application.pk,
                compiled=compiled,
                day0=calendar.date_to_offset(origin, day0),
                as_of=as_of,
                progress=progress,
                durations=durations,
                planned_duration=baseline.planned_duration,
                committed=application.committed_duration,
                meeting_weekday=application.plan_meeting_weekday,
                important=application.is_important,
                demands=_demands(needs.get(application.pk, {}), result),
            )
        )

    def weekday_of(day: int) -> int:
        return calendar.offset_to_date(origin, day).weekday()

    result.weekday_of = weekday_of
    result.projects = projects
    result.numbers = {a.pk: a.number for a in applications}
    result.first = min(project.day0 + project.as_of for project in projects)
    result.found = levelling.level(
        projects,
        resources,
        weekday_of=weekday_of,
        important_first=settings.LEVELLING_IMPORTANT_FIRST,
    )
    return result


def _demands(needs: dict[str, list[tuple]], result: RegionLevelling) -> dict[str, dict[str, int]]:
    demands = {}
    for code, line in needs.items():
        found = {}
        for kind, units, department_id, department_name in line:
            key = schedule_selectors.crew_key(kind, department_id)
            if key in result.crews:
                found[key] = units
            else:
                result.missing[f"{department_name} {CrewKind(kind).label}"] += 1
        if found:
            demands[code] = found
    return demands


def region_level_and_store(region: Region, *, today: date) -> tuple[RegionLevelling, int, list]:
    """Level a region, store what each application and crew keeps of it and the measures
    that would relieve its queues; return the levelling, how many applications were
    stored and the measures proposed (the most helpful first)."""
    result = region_levelling(region, today=today)
    stored = capacity_forecasts_store(result)
    return result, stored, capacity_measures_store(result, capacity_measures(result))


# How far ahead a crew's load is kept (working days from the as-of day).
LOAD_DAYS = 30


def crew_loads(result: RegionLevelling) -> list[tuple]:
    """Return (crew id, load, days over capacity) of each crew of the region, as the crew
    stores them (scheduling.models.Crew.load)."""
    if result.found is None:
        return []
    calendar = schedule_selectors.working_calendar()
    found, origin = result.found, result.origin
    first = result.first
    days = range(first, first + LOAD_DAYS)
    dates = calendar.dates_from(origin, first + LOAD_DAYS)
    rows = []
    for crew_id, key in result.crew_ids.items():
        demand, booked = found.demand.get(key, {}), found.load.get(key, {})
        capacity = found.capacity.get(key, {})
        resource = result.resources[key]
        line = []
        for day in days:
            limit = capacity.get(day, resource.capacity_of(day, result.weekday_of))
            line.append([dates[day].isoformat(), demand.get(day, 0), booked.get(day, 0), limit])
        over = sum(1 for _d, asked, _b, limit in line if limit is not None and asked > limit)
        rows.append((crew_id, {"as_of": result.today.isoformat(), "days": line}, over))
    return rows


# What an application keeps of its levelling.
CAPACITY_FIELDS = [
    "capacity_as_of",
    "levelled_finish_date",
    "capacity_delay",
    "capacity_waits",
    "capacity_holds",
]


@transaction.atomic
def capacity_forecasts_store(result: RegionLevelling) -> int:
    """Store each levelled application's finish with shared crews, the working days it
    loses waiting and for which crews, and each crew's load (through the scheduling app's
    service); return how many applications were stored. (Derived columns of the
    applications this app owns, written in bulk as the sweep writes its forecasts.)"""
    rows = capacity_values(result)
    bulk.update_rows(Application, CAPACITY_FIELDS, rows)
    schedule_services.crew_loads_store(crew_loads(result))
    return len(rows)


def capacity_values(result: RegionLevelling) -> list[tuple]:
    """Return (application id, as of, levelled finish date, delay, waits, holds) of each
    levelled application, as the application stores them."""
    if result.found is None:
        return []
    calendar = schedule_selectors.working_calendar()
    rows = []
    for key, project in result.found.projects.items():
        finish = calendar.offset_to_date(result.day0[key], max(0, project.finish - 1))
        waits = [
            {"crew": result.crews.get(crew, crew), "days": days}
            for crew, days in sorted(project.waited_for().items(), key=lambda item: -item[1])
        ]
        day0 = result.day0[key]
        holds = {
            wait.activity: calendar.offset_to_date(day0, project.starts[wait.activity]).isoformat()
            for wait in project.waits
        }
        rows.append((key, result.today, finish, project.delay, waits, holds))
    return rows


# --- Measures that relieve the queues (scheduling.relief) -------------------------------------

# How many measures a region keeps proposed: the most helpful.
MEASURES_KEPT = 3
# How many candidates a levelling tries at most (each is a levelling of the region
# again): those of the crews the most working days were lost waiting for.
MEASURES_TRIED = 6


def capacity_measures(result: RegionLevelling) -> list[relief.Effect]:
    """Return the measures that would help the region's applications, the most helpful
    first, each with its effect over all of them (a levelling again per measure)."""
    found = result.found
    if found is None:
        return []
    resources = list(result.resources.values())
    lost: Counter = Counter()
    for project in found.projects.values():
        lost.update(project.waited_for())
    candidates = sorted(
        relief.measures(
            found, resources, weekday_of=result.weekday_of, first=result.first, horizon=LOAD_DAYS
        ),
        key=lambda measure: (-lost[measure.resource], measure.resource),
    )
    loans = {}
    for measure in list(candidates):
        if measure.kind == relief.EXTRA_DAY:
            loan = _loan(result, measure)
            if loan is not None:
                loans[id(loan[0])] = loan[1:]
                candidates.append(loan[0])
    candidates = candidates[:MEASURES_TRIED]
    effects = [relief.effect(measure, result.projects, resources, found) for measure in candidates]
    result.loans = {
        id(effect.measure): loans[id(effect.measure)]
        for effect in effects
        if id(effect.measure) in loans
    }
    return relief.ranked(effects)


def _loan(result: RegionLevelling, measure: relief.Measure):
    """Return (the measure as a loan, the lending crew, its capacity on the days by ISO
    date) from the crew of the same kind and department in another region with the most
    room on every day of the measure by its last levelling, or None when none has room.
    Room is capacity less what its levelling booked: lent out of it, the lender's own
    applications keep their places (scheduling.relief)."""
    calendar = schedule_selectors.working_calendar()
    days = sorted(measure.capacity_on)
    dates = [calendar.offset_to_date(result.origin, day).isoformat() for day in days]
    kind, department_id = measure.resource.split(":")
    best = None
    for crew in schedule_selectors.lending_crews(
        kind=kind, department_id=int(department_id), besides_region_id=result.region.pk
    ):
        known = {day: (booked, limit) for day, _demand, booked, limit in crew.load["days"]}
        if any(day not in known or known[day][1] is None for day in dates):
            continue
        room = min(known[day][1] - known[day][0] for day in dates)
        if room > 0 and (best is None or room > best[0]):
            best = (room, crew, {day: known[day][1] for day in dates})
    if best is None:
        return None
    room, crew, limits = best
    resource = result.resources[measure.resource]
    usual = resource.capacity_of(days[0], result.weekday_of) or 1
    units = min(room, usual)
    loan = relief.borrowed(result.found, resource, days, units, weekday_of=result.weekday_of)
    return loan, crew, {day: limit - units for day, limit in limits.items()}


@transaction.atomic
def capacity_measures_store(
    result: RegionLevelling, effects: list[relief.Effect]
) -> list[relief.Effect]:
    """Keep the region's proposed measures as ``effects`` (the most helpful first) say, the
    first ``MEASURES_KEPT`` that no one has dismissed: an open measure found again (the
    same crew, kind and days) takes the new effect, one not found again is superseded, a
    new one is proposed. Return the effects proposed now."""
    rows = CapacityMeasure.objects.select_for_update().filter(
        region=result.region,
        status__in=[CapacityMeasure.Status.PROPOSED, CapacityMeasure.Status.DISMISSED],
    )
    open_measures, dismissed = {}, set()
    for m in rows:
        identity = (m.crew_id, m.kind, m.first_day, m.last_day)
        if m.status == CapacityMeasure.Status.DISMISSED:
            dismissed.add(identity)
        else:
            open_measures[identity] = m
    crew_of = {key: pk for pk, key in result.crew_ids.items()}
    kept, proposed = set(), []
    for found in effects:
        if len(proposed) == MEASURES_KEPT:
            break
        values = measure_values(result, found)
        identity = (
            crew_of[found.measure.resource],
            values["kind"],
            values["first_day"],
            values["last_day"],
        )
        if identity in dismissed:
            continue
        proposed.append(found)
        existing = open_measures.get(identity)
        lender, lender_capacity = result.loans.get(id(found.measure), (None, {}))
        values["lender"] = lender
        values["lender_capacity"] = lender_capacity
        if existing is None:
            CapacityMeasure.objects.create(region=result.region, crew_id=identity[0], **values)
        else:
            kept.add(existing.pk)
            for name, value in values.items():
                setattr(existing, name, value)
            existing.save()
    for measure in open_measures.values():
        if measure.pk not in kept:
            measure.status = CapacityMeasure.Status.SUPERSEDED
            measure.save(update_fields=["status", "updated_at"])
    return proposed


def measure_values(result: RegionLevelling, found: relief.Effect) -> dict:
    """The row values of a measure and its effect, in dates."""
    calendar = schedule_selectors.working_calendar()
    origin, measure = result.origin, found.measure
    dates = {day: calendar.offset_to_date(origin, day) for day in measure.capacity_on}

    def finish(key: int, offset: int) -> str:
        return calendar.offset_to_date(result.day0[key], max(0, offset - 1)).isoformat()

    return {
        "kind": measure.kind,
        "first_day": dates[measure.first_day],
        "last_day": dates[measure.last_day],
        "capacity": {dates[day].isoformat(): units for day, units in measure.capacity_on.items()},
        "as_of": result.today,
        "applications_helped": found.helped,
        "applications_hurt": found.hurt,
        "days_saved": found.days_saved,
        "commitments_kept": len(found.kept),
        "commitments_lost": len(found.lost),
        "effect": [
            [key, result.numbers[key], finish(key, before), finish(key, after)]
            for key, (before, after) in sorted(
                found.finishes.items(), key=lambda item: item[1][1] - item[1][0]
            )
        ],
    }


def measure_text(measure: CapacityMeasure) -> str:
    """What a measure asks for, in the active language (its crew read with it)."""
    days = month_day_text(measure.first_day)
    if measure.last_day != measure.first_day:
        days = f"{days}–{month_day_text(measure.last_day)}"
    if measure.kind == CapacityMeasure.Kind.EXTRA_MEETING:
        return _("Hold an extra review meeting on %(days)s (%(crew)s)") % {
            "days": days,
            "crew": measure.crew,
        }
    if measure.kind == CapacityMeasure.Kind.LEND:
        return _("%(lender)s lends a hand to %(crew)s on %(days)s") % {
            "days": days,
            "crew": measure.crew,
            "lender": measure.lender,
        }
    return _("Add a crew's work to %(crew)s on %(days)s") % {"days": days, "crew": measure.crew}


def effect_text(measure: CapacityMeasure) -> str:
    """What a measure does, in a line: applications earlier, days saved, commitments."""
    text = _("%(count)s applications finish earlier, %(days)s working days in all") % {
        "count": measure.applications_helped,
        "days": measure.days_saved,
    }
    if measure.commitments_kept:
        text += _("; %(count)s keep their commitment again") % {"count": measure.commitments_kept}
    if measure.applications_hurt:
        text += _("; %(count)s finish later") % {"count": measure.applications_hurt}
    return text
