"""Forms of the application page. They check the shape of the input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DocumentKind

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
