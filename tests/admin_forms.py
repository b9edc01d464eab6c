"""Build the POST data of a Django admin change form as the browser would send it."""

from django.forms import BooleanField, MultipleChoiceField


def _field_data(form):
    data = {}
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        value = form[name].value()
        if isinstance(field, BooleanField):
            if value:
                data[key] = "on"
        elif isinstance(field, MultipleChoiceField):
            data[key] = list(value or [])
        elif value is not None:
            data[key] = value
    return data


def change_form_data(response) -> dict:
    """Return the data of the admin change form in ``response``, inlines included."""
    data = _field_data(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        data.update(_field_data(inline.formset.management_form))
        for inline_form in inline.formset.forms:
            data.update(_field_data(inline_form))
    return data
