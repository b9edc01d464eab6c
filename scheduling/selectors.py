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


# --- What-if on a network JSON (commands and API) -------------------------------------------


def network_schedule(network_data) -> dict:
    """Return the CPM result of a network JSON: the output of ``compute_schedule``.

    Raise :class:`~scheduling.cpm.NetworkError` for a network the engine refuses.
    """
    return cpm.load_network(network_data).evaluate().as_dict()


def network_delay_analysis(network_data, *, activity, delay) -> dict:
    """Return what a delay of one activity does: the output of ``analyse_delay``."""
    from .deviation import analyse_delay

    return analyse_delay(cpm.load_network(network_data), activity, delay).as_dict()


# --- REST API reads -------------------------------------------------------------------------


def _times(times, calendar, day0) -> dict:
    from .services import _finish_date

    return {
        **times.as_dict(),
        "start": calendar.offset_to_date(day0, times.es),
        "finish": _finish_date(calendar, day0, times.es, times.ef),
    }


def application_schedule(application, *, today: date) -> dict:
    """Return the baseline, the progress and the forecast of an application as of ``today``.

    The forecast is computed by the engine from the recorded progress (nothing is stored);
    the baseline is the latest approved baseline version. Offsets are working days from
    day 0; every offset comes with its calendar date.
    """
    from .services import _forecast

    calendar = working_calendar()
    activities = list(
        Activity.objects.filter(application=application)
        .select_related("department")
        .order_by("sort_order", "id")
    )
    baseline_row = application.baselines.order_by("-version").first()
    _plan, forecast, day0 = _forecast(application, activities, calendar, today)
    planned = baseline_row.schedule["activities"] if baseline_row else {}
    rows = []
    for activity in activities:
        if activity.is_dummy:
            continue
        base = planned.get(activity.code)
        times = forecast.activities[activity.code]
        rows.append(
            {
                "code": activity.code,
                "name": activity.name,
                "name_en": activity.name_en,
                "stage": activity.stage,
                "department": activity.department,
                "party": activity.party,
                "duration": activity.duration,
                "remaining": activity.remaining,
                "status": activity.status,
                "milestone": activity.milestone,
                "baseline": (
                    {
                        **base,
                        "start": calendar.offset_to_date(day0, base["es"]),
                        "finish": calendar.offset_to_date(day0, max(base["es"], base["ef"] - 1)),
                    }
                    if base
                    else None
                ),
                "actual": {"start": activity.actual_start, "finish": activity.actual_finish},
                "forecast": _times(times, calendar, day0),
            }
        )

    def finish(offset: int) -> date:
        return calendar.offset_to_date(day0, max(0, offset - 1))

    return {
        "application": application.pk,
        "number": application.number,
        "version": application.version,
        "day0": day0,
        "as_of": today,
        "baseline": {
            "version": baseline_row.version if baseline_row else None,
            "computed_duration": baseline_row.duration if baseline_row else None,
            "computed_finish_date": finish(baseline_row.duration) if baseline_row else None,
            "planned_duration": application.committed_duration,
            "committed_finish_date": application.committed_finish_date,
            "critical_paths": baseline_row.schedule["critical_paths"] if baseline_row else [],
        },
        "forecast": {
            "as_of_offset": forecast.as_of,
            "duration": forecast.duration,
            "finish_date": finish(forecast.duration),
            "planned_duration": forecast.planned_duration,
            "total_float": forecast.min_total_float,
            "critical_paths": [list(path) for path in forecast.critical_paths],
        },
        "activities": rows,
    }


def visible_deviations(user):
    """Return the deviations of the applications ``user`` may read, with what the API shows."""
    from applications.selectors import visible_applications

    from .models import Deviation

    return Deviation.objects.filter(
        application__in=visible_applications(user).values("pk")
    ).select_related("application", "activity", "department", "acknowledged_by")
