"""Forms of the applications pages. They check the shape of the input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Department, User
from scheduling.models import Severity

from . import selectors
from .models import ApplicationState, Complaint, DocumentKind, TimeLimitStatus


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


# --- The application page ---------------------------------------------------------------

SCORES = [("", "—"), *((n, str(n)) for n in range(5, 0, -1))]


class TransitionForm(forms.Form):
    transition = forms.CharField(widget=forms.HiddenInput, max_length=40)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    note = forms.CharField(
        label=_("Note or reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ProgressForm(forms.Form):
    actual_start = forms.DateField(
        label=_("Actual start"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    actual_finish = forms.DateField(
        label=_("Actual finish"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    remaining = forms.IntegerField(
        label=_("Remaining (working days)"),
        required=False,
        min_value=0,
        max_value=1000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    failed = forms.BooleanField(label=_("Inspection failed"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)
    # The application's version the page showed: a change made meanwhile is refused.
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def progress(self) -> dict:
        """Return the cleaned entry as the progress service's arguments."""
        data = self.cleaned_data
        return {
            "start": data["actual_start"],
            "finish": data["actual_finish"],
            "passed": not data["failed"],
            "remaining": data["remaining"],
            "note": data["note"],
            "expected_version": data["version"],
        }

    def clean(self):
        data = super().clean()
        if not self.errors and not any(
            data.get(field) is not None for field in ("actual_start", "actual_finish", "remaining")
        ):
            raise forms.ValidationError(
                _("Enter the actual start, the actual finish or the remaining working days.")
            )
        return data


class DismissForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it dismissed?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the proposal is dismissed.")},
    )


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "—"), *DocumentKind.choices])
    file = forms.FileField(label=_("File"))


class ReviewForm(forms.Form):
    quality = forms.TypedChoiceField(label=_("Quality"), choices=SCORES, coerce=int)
    safety = forms.TypedChoiceField(label=_("Safety"), choices=SCORES, coerce=int)
    efficiency = forms.TypedChoiceField(label=_("Efficiency"), choices=SCORES, coerce=int)
    satisfaction = forms.TypedChoiceField(
        label=_("Customer satisfaction"), choices=SCORES, coerce=int
    )
    findings = forms.CharField(
        label=_("Findings"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class FollowUpForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
    )
    due_on = forms.DateField(
        label=_("Due on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    description = forms.CharField(
        label=_("What is to be done"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FollowUpCloseForm(forms.Form):
    note = forms.CharField(
        label=_("Closing note"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ComplaintForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Complaint.Channel.choices)
    category = forms.ChoiceField(label=_("Category"), choices=Complaint.Category.choices)
    received_on = forms.DateField(
        label=_("Received on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    text = forms.CharField(
        label=_("Complaint"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    substantiated = forms.BooleanField(label=_("Substantiated"), required=False)
    handled_by = forms.ModelChoiceField(
        label=_("Handled by"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
    )
    department = forms.ModelChoiceField(
        label=_("Handling department"),
        queryset=Department.objects.filter(is_active=True).order_by("name"),
        required=False,
    )
    outcome = forms.CharField(
        label=_("Outcome"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
