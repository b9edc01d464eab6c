"""Writes of the scheduling app."""

from __future__ import annotations

from datetime import date

from django.core.cache import cache
from django.db import transaction

from . import cpm, selectors
from .models import Activity, Baseline, CalendarOverride, CalendarYear
from .selectors import CALENDAR_VERSION_KEY


def calendar_changed() -> None:
    """Make every process rebuild its working-day calendar on next use."""
    try:
        cache.incr(CALENDAR_VERSION_KEY)
    except ValueError:
        cache.set(CALENDAR_VERSION_KEY, 1, timeout=None)


@transaction.atomic
def calendar_override_set(*, day: date, is_working: bool, note: str = "", by) -> CalendarOverride:
    """Declare one day working or off, whatever the holiday data says."""
    override, _created = CalendarOverride.objects.update_or_create(
        day=day, defaults={"is_working": is_working, "note": note, "created_by": by}
    )
    transaction.on_commit(calendar_changed)
    return override


@transaction.atomic
def calendar_year_confirm(*, year: int, source: str, by) -> CalendarYear:
    """Record that the overrides of ``year`` complete its official holiday notice."""
    confirmed, _created = CalendarYear.objects.update_or_create(
        year=year, defaults={"source": source, "confirmed_by": by}
    )
    transaction.on_commit(calendar_changed)
    return confirmed


def _finish_date(calendar, day0: date, es: int, ef: int) -> date:
    """Return the last working day of an activity from ES to EF (its start when D = 0)."""
    return calendar.offset_to_date(day0, max(es, ef - 1))


def schedule_baseline_save(
    *,
    application,
    activities: list[Activity],
    planned_duration: int | None,
    version: int,
    reason: str = "",
    by=None,
) -> Baseline:
    """Compute the plan of ``activities``, store it on them and as a baseline version.

    The activities are saved by the caller (created in bulk or updated in bulk).
    """
    calendar = selectors.working_calendar()
    day0 = calendar.project_day_zero(application.start_date)
    compiled = cpm.load_network(selectors.network_data(activities))
    schedule = compiled.evaluate(planned_duration=planned_duration)
    for activity in activities:
        if activity.is_dummy:
            continue
        times = schedule.activities[activity.code]
        activity.baseline_es, activity.baseline_ef = times.es, times.ef
        activity.baseline_tf, activity.baseline_ff = times.tf, times.ff
        activity.baseline_start = calendar.offset_to_date(day0, times.es)
        activity.baseline_finish = _finish_date(calendar, day0, times.es, times.ef)
        activity.forecast_start, activity.forecast_finish = (
            activity.baseline_start,
            activity.baseline_finish,
        )
        activity.forecast_tf, activity.forecast_ff = times.tf, times.ff
        activity.is_critical = times.critical
    return Baseline.objects.create(
        application=application,
        version=version,
        duration=schedule.duration,
        planned_duration=schedule.planned_duration,
        network=selectors.network_data(activities),
        schedule=schedule.as_dict(),
        reason=reason,
        approved_by=by,
    )


FORECAST_FIELDS = ["forecast_start", "forecast_finish", "forecast_tf", "forecast_ff", "is_critical"]


def schedule_reforecast(*, application, today: date) -> cpm.Schedule:
    """Recompute the forecast of an application from its progress; store it.

    The as-of point is the end of ``today``: what is recorded up to today is fact, work
    not yet started can start on the next working day at the earliest.
    """
    calendar = selectors.working_calendar()
    activities = list(application.activities.all())
    day0 = calendar.project_day_zero(application.start_date)
    progress = selectors.activity_progress(activities, calendar=calendar, day0=day0)
    # Progress recorded up to a day is fact through that day, even when ``today`` is earlier
    # (a clock that lags the records must not turn facts into errors).
    recorded = max(
        (max(p.actual_start + 1, p.actual_finish or 0) for p in progress.values()), default=0
    )
    # The end of today is the start of the next working day (Monday, when today is Sunday).
    end_of_today = (
        calendar.date_to_offset(day0, today) + (1 if calendar.is_working_day(today) else 0)
        if today >= day0
        else 0
    )
    as_of = max(recorded, end_of_today)
    compiled = cpm.load_network(selectors.network_data(activities))
    schedule = compiled.forecast(as_of, progress, planned_duration=application.committed_duration)
    for activity in activities:
        if activity.is_dummy:
            continue
        times = schedule.activities[activity.code]
        activity.forecast_start = calendar.offset_to_date(day0, times.es)
        activity.forecast_finish = _finish_date(calendar, day0, times.es, times.ef)
        activity.forecast_tf, activity.forecast_ff = times.tf, times.ff
        activity.is_critical = times.critical
    Activity.objects.bulk_update([a for a in activities if not a.is_dummy], FORECAST_FIELDS)
    application.forecast_finish_date = calendar.offset_to_date(day0, max(0, schedule.finish - 1))
    application.total_float = schedule.min_total_float
    type(application).objects.filter(pk=application.pk).update(
        forecast_finish_date=application.forecast_finish_date,
        total_float=application.total_float,
    )
    return schedule
