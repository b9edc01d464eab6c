"""Template helpers for the pages' forms."""

from django import template

register = template.Library()


@register.filter
def select_options(bound_field) -> list[tuple[str, str, bool]]:
    """Return the (value, label, selected) options of a choice field.

    The pages write their filter selects with these in one loop: Django's select widget
    renders a template per option, which on the dashboard's six filters cost more than
    the page's database work.
    """
    value = bound_field.value()
    chosen = {str(v) for v in value} if isinstance(value, list | tuple) else {str(value or "")}
    return [
        (str(key), str(label), str(key) in chosen)
        for key, label in bound_field.field.choices
        if not isinstance(label, list | tuple)
    ]
