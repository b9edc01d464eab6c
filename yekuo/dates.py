"""Dates in messages built in Python, written as people write them in the active language.

Templates use ``{{ day|date }}``; services, selectors and validation errors use these, so
that a message reads "开始日期 2026年12月3日" and never "2026-12-03". The API keeps ISO
dates in its JSON fields; only its human-readable messages use these.
"""

from datetime import date

from django.utils.formats import date_format


def day_text(day: date) -> str:
    """Return ``day`` in full: 2026年12月3日 / 3 December 2026."""
    return date_format(day, "DATE_FORMAT")


def month_day_text(day: date) -> str:
    """Return ``day`` without its year: 12月3日 / 3 December."""
    return date_format(day, "MONTH_DAY_FORMAT")
