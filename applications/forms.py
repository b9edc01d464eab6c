"""Forms of the applications pages. They check the shape of the input; the services decide."""

import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.forms import PersonChoiceField
from accounts.models import Department, Region, User
from scheduling.models import ResponsibleParty, Severity
from yekuo import plausible
from yekuo.domain import BusinessType, CustomerClass, VoltageClass

from . import selectors
from .models import ApplicationState, Complaint, DocumentKind, SupplyType, TimeLimitStatus


def read_choices(form: forms.Form, *names: str) -> None:
    """Read the choices of ``form``'s model choice fields ``names`` into lists, once: a
    page caches the form's fields under a digest of what they offer (``{% fragment %}``).

    Through ``iter()``: ``list()`` would ask the field's iterator its length first, which
    is one more query (a count)."""
    for name in names:
        form.fields[name].choices = list(iter(form.fields[name].choices))


class LengthMessagesMixin:
    """Say how long a text may be in words a reader uses, naming the field (Django's own
    message reads "确保该变量包含不超过 2000 字符")."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if getattr(field, "max_length", None):
                field.error_messages["max_length"] = _too_long(field.label)


class ErrorAttrsMixin(LengthMessagesMixin):
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


def _too_long(label) -> str:
    """Return the message for a text longer than its field allows; the validator fills in
    ``limit_value`` and ``show_value``."""
    label = str(label or _("This field")).replace("%", "%%")
    return _("%(field)s: at most %(limit)s characters; this has %(length)s.") % {
        "field": label,
        "limit": "%(limit_value)s",
        "length": "%(show_value)s",
    }


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
        for name in ("start", "end"):
            day = cleaned.get(name)
            if day is not None and (message := plausible.date_error(day)):
                self.add_error(name, message)
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end of the period is before its start."))
        elif start and end and (end - start).days > 366 * settings.ASSESSMENT_MAX_YEARS:
            # The assessment reads every application of the period: the period is bounded
            # so that one request cannot ask for centuries.
            self.add_error(
                "end",
                _("A period covers at most %(years)s years.")
                % {"years": settings.ASSESSMENT_MAX_YEARS},
            )
        return cleaned


# --- The application page ---------------------------------------------------------------

SCORES = [("", "—"), *((n, str(n)) for n in range(5, 0, -1))]


class TransitionForm(LengthMessagesMixin, forms.Form):
    transition = forms.CharField(widget=forms.HiddenInput, max_length=40)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    note = forms.CharField(
        label=_("Note or reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ProgressForm(LengthMessagesMixin, forms.Form):
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


class DismissForm(LengthMessagesMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why is it dismissed?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the proposal is dismissed.")},
    )


class DeviationAnswerForm(ErrorAttrsMixin, forms.Form):
    """The answer to a deviation: its cause, who answers, the action and its due day.

    The choices (causes, departments) are read once per page and handed to every form.
    """

    cause = forms.ChoiceField(
        label=_("Cause"), error_messages={"required": _("Choose one of the listed causes.")}
    )
    responsible_party = forms.ChoiceField(
        label=_("Responsible party"),
        choices=ResponsibleParty.choices,
        error_messages={"required": _("Choose who answers for the deviation.")},
    )
    responsible_department = forms.TypedChoiceField(
        label=_("Responsible department"), coerce=int, empty_value=None, required=False
    )
    party_reason = forms.CharField(
        label=_("Why another party (if not the activity's owner)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    planned_action = forms.CharField(
        label=_("Planned action"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say what will be done about it.")},
    )
    action_due = forms.DateField(
        label=_("Action due"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Give the day the action is due.")},
    )

    def __init__(self, *args, causes=(), departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cause"].choices = [("", "—"), *causes]
        self.fields["responsible_department"].choices = [("", "—"), *departments]


class DocumentForm(LengthMessagesMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "—"), *DocumentKind.choices])
    file = forms.FileField(label=_("File"))


class ReviewForm(LengthMessagesMixin, forms.Form):
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


# One predecessor of the re-plan form: a code, then optionally +n (a lag) or -n (an overlap).
PREDECESSOR_TOKEN = re.compile(r"(?P<code>[^\s+\-−]+)\s*(?:(?P<sign>[+\-−])\s*(?P<days>\d+))?")


def predecessors_text(predecessors: list) -> str:
    """Write stored AON predecessors as the re-plan form shows them: ``A, B+2, C-1`` (a
    lag after B, an overlap of C's last day)."""
    parts = []
    for item in predecessors or []:
        if isinstance(item, dict):
            lag = item.get("lag") or 0
            parts.append(f"{item['id']}{lag:+d}" if lag else item["id"])
        else:
            parts.append(item)
    return ", ".join(parts)


class ReplanForm(ErrorAttrsMixin, forms.Form):
    """A supervisor's re-plan: per activity its durations, logic and department, and why.

    The fields of activity ``K`` are ``K-duration``, ``K-shortest``, ``K-tail``,
    ``K-head`` and ``K-lead`` (a network drawn with events: the overlap with the arcs into
    its tail event) or ``K-predecessors`` (drawn on nodes:
    ``A, B+2, C-1`` means after A, 2 working days after B, and from 1 working day before C
    finishes), and ``K-department``.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.CharField(
        label=_("Reason for the re-plan"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason for the re-plan.")},
    )

    def __init__(self, *args, activities, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.activities = activities
        self.aoa = any(a.tail is not None for a in activities)
        choices = [("", _("Customer's side")), *((d.code, str(d)) for d in departments)]
        for a in activities:
            label = f"{a.code} {a.name}"
            days = {"min_value": 0, "max_value": 1000}
            self.fields[f"{a.code}-duration"] = forms.IntegerField(
                label=_("Duration"), initial=a.duration, **days
            )
            self.fields[f"{a.code}-shortest"] = forms.IntegerField(
                label=_("Shortest duration"), required=False, initial=a.shortest_duration, **days
            )
            if self.aoa:
                self.fields[f"{a.code}-tail"] = forms.IntegerField(
                    label=_("Tail event"), min_value=1, initial=a.tail
                )
                self.fields[f"{a.code}-head"] = forms.IntegerField(
                    label=_("Head event"), min_value=1, initial=a.head
                )
                self.fields[f"{a.code}-lead"] = forms.IntegerField(
                    label=_("Overlap"), initial=a.lead, **days
                )
            else:
                self.fields[f"{a.code}-predecessors"] = forms.CharField(
                    label=_("Predecessors"),
                    required=False,
                    max_length=200,
                    initial=predecessors_text(a.predecessors),
                )
            self.fields[f"{a.code}-department"] = forms.ChoiceField(
                label=_("Department"),
                required=False,
                choices=choices,
                initial=a.department.code if a.department else "",
            )
            self.fields[f"{a.code}-joint"] = forms.MultipleChoiceField(
                label=_("Joint departments"),
                required=False,
                choices=choices[1:],
                initial=[d.code for d in a.joint_departments.all()],
                widget=forms.SelectMultiple(attrs={"size": 2}),
            )
            for name in self.row_names(a.code):
                field = self.fields[name]
                field.widget.attrs["aria-label"] = f"{label}: {field.label}"

    def row_names(self, code: str) -> list[str]:
        logic = ["tail", "head", "lead"] if self.aoa else ["predecessors"]
        return [
            f"{code}-{part}" for part in ("duration", "shortest", *logic, "department", "joint")
        ]

    def rows(self):
        """Return each activity with its bound fields, in the network's order."""
        for a in self.activities:
            yield a, [self[name] for name in self.row_names(a.code)]

    def clean(self):
        data = super().clean()
        for a in self.activities:
            joint = data.get(f"{a.code}-joint")
            if joint and not data.get(f"{a.code}-department"):
                self.add_error(
                    f"{a.code}-joint", _("Choose the owning department before joint ones.")
                )
            elif joint and data[f"{a.code}-department"] in joint:
                owner = dict(self.fields[f"{a.code}-department"].choices)[
                    data[f"{a.code}-department"]
                ]
                self.add_error(
                    f"{a.code}-joint",
                    _("%(department)s owns this activity already; it is not also a joint one.")
                    % {"department": owner},
                )
        if self.aoa:
            return data
        for a in self.activities:
            name = f"{a.code}-predecessors"
            if name not in data:
                continue
            preds = []
            for token in data[name].replace("，", ",").replace("、", ",").split(","):
                token = token.strip()
                if not token:
                    continue
                match = PREDECESSOR_TOKEN.fullmatch(token)
                if match is None:
                    self.add_error(
                        name,
                        _(
                            "Write predecessors as codes with an optional lag: A, B+2; C-1 "
                            "starts 1 working day before C ends."
                        ),
                    )
                    break
                code, sign, days = match.group("code", "sign", "days")
                lag = int(days) * (-1 if sign in "-−" else 1) if sign else 0
                preds.append({"id": code, "lag": lag} if lag else code)
            data[f"{a.code}-predecessor_list"] = preds
        return data

    def changes(self) -> dict:
        """Return the service's arguments for what the form holds."""
        data = self.cleaned_data
        codes = [a.code for a in self.activities]
        if self.aoa:
            logic = {c: {"tail": data[f"{c}-tail"], "head": data[f"{c}-head"]} for c in codes}
        else:
            logic = {c: {"predecessors": data[f"{c}-predecessor_list"]} for c in codes}
        leads = {"leads": {c: data[f"{c}-lead"] for c in codes}} if self.aoa else {}
        return {
            **leads,
            "durations": {c: data[f"{c}-duration"] for c in codes},
            "shortest_durations": {c: data[f"{c}-shortest"] for c in codes},
            "logic": logic,
            "departments": {
                c: [data[f"{c}-department"], *data[f"{c}-joint"]]
                if data[f"{c}-department"]
                else None
                for c in codes
            },
        }

    def field_for(self, key: str) -> str | None:
        """Return the form field a service's message key (``durations.K`` …) is about."""
        kind, _dot, code = key.partition(".")
        part = {
            "durations": "duration",
            "shortest_durations": "shortest",
            "departments": "department",
            "leads": "lead",
            "logic": "tail" if self.aoa else "predecessors",
        }.get(kind)
        if key == "reason":
            return "reason"
        name = f"{code}-{part}"
        return name if part and name in self.fields else None


class FollowUpForm(LengthMessagesMixin, forms.Form):
    owner = PersonChoiceField(
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].fit()


class FollowUpCloseForm(LengthMessagesMixin, forms.Form):
    note = forms.CharField(
        label=_("Closing note"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ComplaintForm(LengthMessagesMixin, forms.Form):
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
    handled_by = PersonChoiceField(
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handled_by"].fit()
        read_choices(self, "department")


class AcceptanceForm(ErrorAttrsMixin, forms.Form):
    """Acceptance (受理) at the counter: the customer by credit code, what is asked for, and
    the documents handed in. The service plans it and decides; the page shows the plan and
    the one-time notice before saving."""

    # The service's error keys for the customer, as this form names its fields.
    CUSTOMER_FIELDS = ("name", "region", "industry", "address", "contact_name", "contact_phone")

    credit_code = forms.CharField(
        label=_("Unified social credit code"),
        max_length=18,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "class": "code-input"}
        ),
    )
    name = forms.CharField(label=_("Customer name"), max_length=120, required=False)
    region = forms.ModelChoiceField(
        label=_("Service region"), queryset=Region.objects.none(), required=False
    )
    industry = forms.CharField(label=_("Industry"), max_length=60, required=False)
    address = forms.CharField(label=_("Supply address"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("Contact"), max_length=60, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=30, required=False)
    business_type = forms.ChoiceField(label=_("Business type"))
    customer_class = forms.ChoiceField(label=_("Customer class"))
    voltage_class = forms.ChoiceField(label=_("Voltage class"))
    requested_capacity_kva = forms.IntegerField(
        label=_("Requested capacity (kVA)"),
        min_value=1,
        error_messages={
            "invalid": _("Enter the capacity as a whole number of kVA."),
            "min_value": _("The requested capacity must be more than 0 kVA."),
        },
    )
    supply_type = forms.ChoiceField(
        label=_("Supply type"),
        required=False,
        choices=[("", _("As the customer class has it")), *SupplyType.choices],
    )
    is_important = forms.BooleanField(label=_("Important customer"), required=False)
    assign_to_me = forms.BooleanField(
        label=_("I answer for it as its account manager"), required=False, initial=True
    )

    def __init__(self, *args, user, offered: list[tuple[str, str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["region"].queryset = selectors.acceptance_regions(user)
        self.fields["region"].empty_label = _("Choose the customer's service region")
        types = {business for business, _class, _voltage in offered}
        classes = {klass for _business, klass, _voltage in offered}
        voltages = {voltage for _business, _class, voltage in offered}
        self.fields["business_type"].choices = [
            (value, label) for value, label in BusinessType.choices if value in types
        ]
        self.fields["customer_class"].choices = [
            (value, label) for value, label in CustomerClass.choices if value in classes
        ]
        self.fields["voltage_class"].choices = [
            (value, label) for value, label in VoltageClass.choices if value in voltages
        ]
        if getattr(user, "account_manager", None) is None:
            del self.fields["assign_to_me"]
        for kind, label in DocumentKind.choices:
            self.fields[f"document_{kind}"] = forms.FileField(
                label=label, required=False, widget=forms.ClearableFileInput
            )

    def clean_credit_code(self):
        return self.cleaned_data["credit_code"].strip().upper()

    def clean_requested_capacity_kva(self):
        value = self.cleaned_data["requested_capacity_kva"]
        if message := plausible.capacity_error(value):
            raise forms.ValidationError(message)
        return value

    def clean(self):
        data = super().clean()
        code = data.get("credit_code")
        if code and not selectors.customer_exists(code):
            if not data.get("name"):
                self.add_error("name", _("Enter the name of the new customer."))
            if not data.get("region") and "region" not in self.errors:
                self.add_error("region", _("Choose the service region of the new customer."))
        return data

    def customer_input(self) -> dict:
        data = self.cleaned_data
        return {
            "credit_code": data["credit_code"],
            "name": data["name"],
            "region": data["region"],
            "industry": data["industry"],
            "address": data["address"],
            "contact_name": data["contact_name"],
            "contact_phone": data["contact_phone"],
        }

    def documents(self) -> list[tuple[str, object]]:
        return [
            (kind, self.cleaned_data[f"document_{kind}"])
            for kind in DocumentKind.values
            if self.cleaned_data.get(f"document_{kind}")
        ]

    def document_field(self, kind: str):
        return self[f"document_{kind}"]

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Place the service's messages: ``customer.name`` beside name, ``documents.licence``
        beside that document's file input."""
        placed = {}
        for key, messages in errors.items():
            if key.startswith("customer."):
                key = key.removeprefix("customer.")
                key = key if key in self.CUSTOMER_FIELDS or key == "credit_code" else None
            elif key.startswith("documents."):
                key = f"document_{key.removeprefix('documents.')}"
            placed.setdefault(key if key in self.fields else None, []).extend(messages)
        for key, messages in placed.items():
            for message in messages:
                self.add_error(key, message)
        self.mark_errors()
