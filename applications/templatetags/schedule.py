"""Template filters of the schedule pages: short dates and text in the reader's language."""

from django import template
from django.utils import dateformat
from django.utils.translation import get_language, ngettext, pgettext

from scheduling import explanations

register = template.Library()


@register.filter
def short_day(value):
    """Return a date as month and day (3月2日, Mar 2): the year is the page's context."""
    if not value:
        return ""
    return dateformat.format(value, pgettext("short date format", "M j"))


@register.filter
def working_days(value):
    """Return a number of working days with its unit (3 个工作日, 3 working days)."""
    if value is None:
        return ""
    return ngettext("%(count)d working day", "%(count)d working days", value) % {"count": value}


@register.filter
def explanation(deviation):
    """Return the sentence that explains a deviation, in the reader's language."""
    return explanations.deviation_text(deviation)


@register.filter
def name_in_language(obj):
    """Return a row's name, or its English name when the reader reads English."""
    if obj is None:
        return ""
    if not (get_language() or "").startswith("zh"):
        return getattr(obj, "name_en", "") or obj.name
    return obj.name
