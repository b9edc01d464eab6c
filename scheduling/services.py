"""Writes of the scheduling app."""

from __future__ import annotations

from datetime import date

from django.core.cache import cache
from django.db import transaction

from .models import CalendarOverride, CalendarYear
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
