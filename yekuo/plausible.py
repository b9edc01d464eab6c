"""Plausibility of input: the window of believable dates and the bounds of a capacity.

A value outside these bounds is a typing error (0001-01-01, 1900-01-01, a capacity of
ten million kVA), not a fact to plan with. Services, serializers and forms ask these
functions, so the API, the pages and the admin refuse the same values with the same
words. The bounds are settings (``PLAUSIBLE_DATE_EARLIEST``, ``PLAUSIBLE_DATE_YEARS_AHEAD``,
``CAPACITY_KVA_MAX``).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from yekuo.dates import day_text

CAPACITY_KVA_MIN = 1


def date_window(today: date | None = None) -> tuple[date, date]:
    """Return the earliest and latest plausible day, both included."""
    today = today or timezone.localdate()
    years = settings.PLAUSIBLE_DATE_YEARS_AHEAD
    try:
        latest = today.replace(year=today.year + years)
    except ValueError:  # 29 February in a year that has none
        latest = today.replace(year=today.year + years, day=28)
    return settings.PLAUSIBLE_DATE_EARLIEST, latest


def date_error(day: date, today: date | None = None) -> str | None:
    """Return why ``day`` is not plausible, or None when it is."""
    earliest, latest = date_window(today)
    if day < earliest:
        return _("%(day)s is implausibly early; enter a day from %(earliest)s on.") % {
            "day": day_text(day),
            "earliest": day_text(earliest),
        }
    if day > latest:
        return _("%(day)s is implausibly late; enter a day up to %(latest)s.") % {
            "day": day_text(day),
            "latest": day_text(latest),
        }
    return None


def capacity_max() -> int:
    return settings.CAPACITY_KVA_MAX


def capacity_error(value) -> str | None:
    """Return why ``value`` is not a plausible capacity in kVA, or None when it is."""
    if isinstance(value, bool) or not isinstance(value, int):
        return _("Enter the capacity as a whole number of kVA.")
    if value < CAPACITY_KVA_MIN:
        return _("The requested capacity must be more than 0 kVA.")
    if value > settings.CAPACITY_KVA_MAX:
        return _("Enter at most %(max)s kVA.") % {"max": f"{settings.CAPACITY_KVA_MAX:,}"}
    return None
