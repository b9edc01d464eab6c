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

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch

from accounts.models import Region
from scheduling import levelling
from scheduling import selectors as schedule_selectors
from scheduling import services as schedule_services
from scheduling.models import CrewKind
from yekuo import bulk

from .models import WORK_STATES, Application


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


def region_levelling(region: Region, *, today: date) -> RegionLevelling:
    """Level the applications in progress of ``region`` as of the end of ``today``."""
    calendar = schedule_selectors.working_calendar()
    applications = list(
        Application.objects.filter(region=region, state__in=WORK_STATES)
        .prefetch_related(
            Prefetch("activities", queryset=schedule_selectors.activities_with_departments())
        )
        .order_by("pk")
    )
    result = RegionLevelling(region=region, today=today, found=None)
    if not applications:
        return result
    result.day0 = {a.pk: calendar.project_day_zero(a.start_date) for a in applications}
    origin = result.origin = min(result.day0.values())
    crews = schedule_selectors.region_crews(region.pk)
    resources = schedule_selectors.crew_resources(crews, calendar, origin)
    result.crews = {schedule_selectors.crew_key(c.kind, c.department_id): str(c) for c in crews}
    result.crew_ids = {c.pk: schedule_selectors.crew_key(c.kind, c.department_id) for c in crews}
    result.resources = {resource.key: resource for resource in resources}
    projects = []
    for application in applications:
        activities = list(application.activities.all())
        baseline, forecast, day0 = schedule_selectors.application_forecast(
            application, activities, calendar, today
        )
        projects.append(
            levelling.Project(
                key=application.pk,
                compiled=forecast.compiled,
                day0=calendar.date_to_offset(origin, day0),
                as_of=forecast.as_of,
                progress=forecast.progress,
                durations={a.code: a.duration for a in activities if not a.is_dummy},
                planned_duration=baseline.planned_duration,
                committed=application.committed_duration,
                meeting_weekday=application.plan_meeting_weekday,
                important=application.is_important,
                demands=_demands(activities, result),
            )
        )

    def weekday_of(day: int) -> int:
        return calendar.offset_to_date(origin, day).weekday()

    result.weekday_of = weekday_of
    result.first = min(project.day0 + project.as_of for project in projects)
    result.found = levelling.level(
        projects,
        resources,
        weekday_of=weekday_of,
        important_first=settings.LEVELLING_IMPORTANT_FIRST,
    )
    return result


def _demands(activities, result: RegionLevelling) -> dict[str, dict[str, int]]:
    demands = {}
    for activity in activities:
        if activity.is_dummy or not activity.crew_kind or activity.department_id is None:
            continue
        needs = {}
        for department in (activity.department, *activity.joint_departments.all()):
            key = schedule_selectors.crew_key(activity.crew_kind, department.pk)
            if key in result.crews:
                needs[key] = activity.crew_units
            else:
                result.missing[f"{department.name} {CrewKind(activity.crew_kind).label}"] += 1
        if needs:
            demands[activity.code] = needs
    return demands


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
CAPACITY_FIELDS = ["capacity_as_of", "levelled_finish_date", "capacity_delay", "capacity_waits"]


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
    """Return (application id, as of, levelled finish date, delay, waits) of each levelled
    application, as the application stores them."""
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
        rows.append((key, result.today, finish, project.delay, waits))
    return rows
