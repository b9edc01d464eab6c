"""Forms of the applications pages: they check what was typed; services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from scheduling.models import Severity

from . import selectors
from .models import ApplicationState, TimeLimitStatus


class ErrorAttrsMixin:
    """Mark fields with errors ``aria-invalid`` and point them at their message."""

    def full_clean(self):
        super().full_clean()
        self.mark_errors()

    def add_errors(self, errors: dict[str, list[str]]) -> None:
        """Show a service's per-field messages (``InvalidInput.errors``) beside the fields."""
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        self.mark_errors()

    def mark_errors(self) -> None:
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}-error"


class WorkspaceFilterForm(ErrorAttrsMixin, forms.Form):
    """The workspace's filters and search (a GET form: the page works without script)."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=60,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Number, customer or credit code")}
        ),
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("", pgettext_lazy("applications", "Active")),
            *ApplicationState.choices,
            (selectors.ALL_STATES, _("All states")),
        ],
    )
    severity = forms.ChoiceField(
        label=_("Open deviation"),
        required=False,
        choices=[("", _("Any")), *Severity.choices],
    )
    time_limit = forms.ChoiceField(
        label=_("Time limit"),
        required=False,
        choices=[
            ("", _("Any")),
            (TimeLimitStatus.EXCEEDED, _("Overdue")),
            (TimeLimitStatus.WARNING, _("Warning")),
            (TimeLimitStatus.OK, _("Within limit")),
        ],
    )


class AssessmentPeriodForm(ErrorAttrsMixin, forms.Form):
    """The assessment's period: from and to, both included (a GET form)."""

    start = forms.DateField(
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Enter the first day of the period."),
            "invalid": _("Enter a date as YYYY-MM-DD."),
        },
    )
    end = forms.DateField(
        label=_("To"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Enter the last day of the period."),
            "invalid": _("Enter a date as YYYY-MM-DD."),
        },
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end of the period is before its start."))
        return cleaned
