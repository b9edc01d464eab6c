"""Reads of the scheduling app: templates as engine input, the working-day calendar."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.core.cache import cache

from . import cpm
from .calendar import CN_COVERED_YEARS, WorkingCalendar
from .models import Activity, ActivityTemplate, CalendarOverride, CalendarYear, NetworkTemplate

CALENDAR_VERSION_KEY = "scheduling:calendar-version"


def network_data(activities: Iterable[ActivityTemplate]) -> dict:
    """Return template activities as the network JSON the engine reads."""
    return {"activities": [activity.to_network_item() for activity in activities]}


def compile_activities(activities: Iterable[ActivityTemplate | Activity]) -> cpm.CompiledNetwork:
    """Return the network of these activities validated and ordered by the engine."""
    return cpm.load_network(network_data(activities))


def template_compile(template: NetworkTemplate) -> cpm.CompiledNetwork:
    """Return the template's network validated and ordered by the engine."""
    activities = template.activities.select_related("department").order_by("sort_order", "id")
    return cpm.load_network(network_data(activities))


def template_for(
    *, business_type: str, customer_class: str, voltage_class: str
) -> NetworkTemplate | None:
    """Return the newest active template that plans this kind of application."""
    candidates = NetworkTemplate.objects.filter(
        is_active=True, customer_class=customer_class
    ).order_by("-version", "code")
    for template in candidates:
        if template.matches(
            business_type=business_type,
            customer_class=customer_class,
            voltage_class=voltage_class,
        ):
            return template
    return None


_calendar: tuple[int, WorkingCalendar, str] | None = None


def working_calendar() -> WorkingCalendar:
    """Return the working-day calendar with the administrators' overrides.

    Built once per process and rebuilt when an override or a confirmed year changes (the
    change bumps a version number in the shared cache, so every process notices).
    """
    global _calendar
    version = cache.get(CALENDAR_VERSION_KEY, 0)
    if _calendar is None or _calendar[0] != version:
        overrides = dict(CalendarOverride.objects.values_list("day", "is_working"))
        confirmed = sorted(CalendarYear.objects.values_list("year", flat=True))
        digest = hashlib.blake2b(
            repr((sorted(overrides.items()), confirmed)).encode(), digest_size=8
        ).hexdigest()
        _calendar = (
            version,
            WorkingCalendar(
                overrides=overrides,
                confirmed_years=confirmed,
                allow_uncovered=settings.CALENDAR_ALLOW_ESTIMATED_YEARS,
            ),
            digest,
        )
    return _calendar[1]


def working_calendar_digest() -> str:
    """Return a short digest of the calendar's overrides and confirmed years.

    It changes exactly when an administrator's change changes the working days.
    """
    working_calendar()
    return _calendar[2]


def calendar_estimated_years(*, today: date, horizon_years: int = 2) -> list[int]:
    """Return the years from ``today`` on that the calendar can only estimate.

    A year is estimated when the holiday data has no official notice for it and no
    administrator has confirmed it (by entering the notice as overrides).
    """
    confirmed = set(CalendarYear.objects.values_list("year", flat=True))
    return [
        year
        for year in range(today.year, today.year + horizon_years)
        if year not in CN_COVERED_YEARS and year not in confirmed
    ]


def activity_progress(
    activities: Iterable[Activity], *, calendar: WorkingCalendar, day0: date
) -> dict[str, cpm.Progress]:
    """Return the recorded progress as the engine's working-day offsets.

    A finish date is the activity's last working day, so its EF is the offset after it.
    """
    progress = {}
    for activity in activities:
        if activity.is_dummy or activity.actual_start is None:
            continue
        start = calendar.date_to_offset(day0, activity.actual_start)
        finish = (
            calendar.date_to_offset(day0, activity.actual_finish) + 1
            if activity.actual_finish
            else None
        )
        progress[activity.code] = cpm.Progress(
            actual_start=start, actual_finish=finish, remaining=activity.remaining
        )
    return progress
