"""Forms of the supervisor's dashboard: they check what was typed; services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import PersonChoiceField
from accounts.models import Department, Region, User
from applications.forms import ErrorAttrsMixin, read_choices
from applications.models import Application
from scheduling import explanations
from scheduling.models import DeviationCause, ResponsibleParty, Severity
from yekuo.domain import Stage


class ManagerChoiceField(PersonChoiceField):
    default_error_messages = {
        "invalid_choice": _("There is no account manager called “%(value)s”."),
        "ambiguous": _(
            "Several account managers are called “%(value)s”: type the sign-in name instead."
        ),
    }


def _managers():
    return User.objects.filter(account_manager__isnull=False).order_by("username")


class CauseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return explanations.label(obj)


class DeviationFilterForm(ErrorAttrsMixin, forms.Form):
    """The deviation table's filters and sort (a GET form)."""

    SORTS = [
        ("severity", _("Severity")),
        ("-delay", _("Longest delay")),
        ("-detected", _("Newest")),
        ("application", _("Application number")),
        ("department", _("Department")),
        ("stage", _("Stage")),
    ]

    severity = forms.ChoiceField(
        label=_("Severity"), required=False, choices=[("", _("Any")), *Severity.choices]
    )
    stage = forms.ChoiceField(
        label=_("Stage"), required=False, choices=[("", _("Any")), *Stage.choices]
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        required=False,
        queryset=Department.objects.filter(is_active=True),
        empty_label=_("Any"),
    )
    manager = ManagerChoiceField(
        label=_("Account manager"), required=False, queryset=_managers(), empty_label=_("Any")
    )
    region = forms.ModelChoiceField(
        label=_("Service region"),
        required=False,
        queryset=Region.objects.filter(is_active=True),
        empty_label=_("Any"),
    )
    cause = CauseChoiceField(
        label=_("Cause"),
        required=False,
        queryset=DeviationCause.objects.filter(is_active=True),
        to_field_name="code",
        empty_label=_("Any"),
    )
    party = forms.ChoiceField(
        label=_("Responsible party"),
        required=False,
        choices=[("", _("Any")), *ResponsibleParty.choices],
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORTS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A fresh query each time the form is shown: managers come and go.
        self.fields["manager"].queryset = _managers()
        self.fields["manager"].fit()
        read_choices(self, "department", "region", "cause")


class ReassignForm(ErrorAttrsMixin, forms.Form):
    """Give an application another account manager, with the reason (logged)."""

    application = forms.CharField(
        label=_("Application number"),
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "YK-2026-000001", "autocomplete": "off"}),
    )
    manager = ManagerChoiceField(
        label=_("New account manager"),
        queryset=User.objects.none(),
        empty_label=_("Choose…"),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason for the reassignment.")},
    )
    override = forms.BooleanField(
        label=_("Override the assignment checks"),
        required=False,
        help_text=_(
            "Give the application to this manager although automatic assignment would not "
            "(region, voltage qualification, capacity)."
        ),
    )
    override_reason = forms.CharField(
        label=_("Reason for the override"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # The dashboard's filters when the form was opened: the supervisor returns to them.
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, may_override: bool = True, **kwargs):
        # Its own ids: the deviation filters on the same page have a "manager" field too.
        kwargs.setdefault("auto_id", "id_reassign_%s")
        super().__init__(*args, **kwargs)
        if not may_override:
            del self.fields["override"], self.fields["override_reason"]
        self.fields["manager"].queryset = User.objects.filter(
            is_active=True, account_manager__is_active=True
        ).order_by("username")
        self.fields["manager"].fit()

    def chosen_application(self):
        """Return the application the form is about (typed or chosen in a table), if any."""
        source = self.data if self.is_bound else self.initial
        number = (source.get("application") or "").strip().upper()
        if not number:
            return None
        return (
            Application.objects.select_related("region")
            .only("pk", "number", "region", "voltage_class", "is_important", "customer_class")
            .filter(number=number)
            .first()
        )

    def clean_application(self):
        number = self.cleaned_data["application"].strip().upper()
        application = Application.objects.filter(number=number).only("pk", "number").first()
        if application is None:
            raise forms.ValidationError(
                _("There is no application %(number)s."), params={"number": number}
            )
        self.application = application
        return number


class AssignForm(forms.Form):
    """Run the automatic assignment for one application of the unassigned queue."""

    application = forms.IntegerField(widget=forms.HiddenInput)
