"""Serializers of the applications API: plain read serializers for output, input
serializers that check types only (the services decide everything else)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Department, Region, User
from accounts.serializers import PersonSerializer
from scheduling.serializers import ScheduleSerializer
from yekuo import plausible
from yekuo.domain import BusinessType, CustomerClass, VoltageClass

from . import capacity
from .models import (
    TRANSITIONS,
    Application,
    CapacityMeasure,
    Complaint,
    Customer,
    FollowUp,
    SupplyType,
)
from .selectors import CUSTOMER_CONTACT_FIELDS


def _plausible_capacity(value: int) -> int:
    if message := plausible.capacity_error(value):
        raise serializers.ValidationError(message)
    return value


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name"]


class CustomerBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "credit_code"]


class CustomerSerializer(serializers.ModelSerializer):
    """A customer as read through ``selectors.visible_customers``: the contact person and
    phone only for those who serve it (null for department staff, who reach the customer
    through its account manager)."""

    region = RegionSerializer()
    contact_name = serializers.CharField(
        allow_null=True,
        help_text=gettext_lazy("Null unless you serve this customer."),
    )
    contact_phone = serializers.CharField(
        allow_null=True,
        help_text=gettext_lazy("Null unless you serve this customer."),
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # Without the selector's annotation nothing says the reader serves the customer.
        if not getattr(instance, "shows_contact", False):
            for name in CUSTOMER_CONTACT_FIELDS:
                data[name] = None
        return data

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "credit_code",
            "industry",
            "address",
            "region",
            "contact_name",
            "contact_phone",
            "created_at",
        ]


class CrewWaitSerializer(serializers.Serializer):
    crew = serializers.CharField(help_text=gettext_lazy("The crew (region, department, kind)."))
    days = serializers.IntegerField(help_text=gettext_lazy("Working days waited for it."))


class ApplicationSerializer(serializers.ModelSerializer):
    """An application as the API shows it; ``version`` is also its ETag."""

    state_label = serializers.CharField(source="get_state_display", read_only=True)
    suspended_from = serializers.CharField(
        read_only=True,
        help_text=gettext_lazy("The state a suspended application returns to; empty otherwise."),
    )
    customer = CustomerBriefSerializer()
    region = RegionSerializer()
    account_manager = PersonSerializer(allow_null=True)
    open_red_deviation = serializers.BooleanField(
        read_only=True, help_text=gettext_lazy("An unresolved red deviation exists.")
    )
    open_amber_deviation = serializers.BooleanField(read_only=True)
    levelled_finish_date = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy(
            "The forecast finish with the queues for the region's shared crews and review "
            "meeting (the last levelling); null before one."
        ),
    )
    capacity_delay = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy("Working days that waiting for shared crews adds to the finish."),
    )
    capacity_waits = CrewWaitSerializer(many=True, read_only=True)
    risk_on_time = serializers.FloatField(
        source="risk.on_time",
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy(
            "The probability of finishing by the committed date (the risk forecast of the "
            "last analysis), from 0 to 1; null before one."
        ),
    )
    risk_p80 = serializers.DateField(
        source="risk.p80",
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy("The date by which 80 % of the forecast's runs finish."),
    )

    class Meta:
        model = Application
        fields = [
            "id",
            "number",
            "state",
            "state_label",
            "suspended_from",
            "customer",
            "region",
            "business_type",
            "customer_class",
            "voltage_class",
            "requested_capacity_kva",
            "supply_type",
            "is_important",
            "account_manager",
            "assigned_at",
            "template",
            "start_date",
            "committed_duration",
            "committed_finish_date",
            "forecast_finish_date",
            "total_float",
            "risk_on_time",
            "risk_p80",
            "levelled_finish_date",
            "capacity_delay",
            "capacity_waits",
            "time_limit_status",
            "open_red_deviation",
            "open_amber_deviation",
            "accepted_at",
            "energized_at",
            "closed_at",
            "cancelled_at",
            "cancel_reason",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerInputSerializer(serializers.Serializer):
    """The customer of a new application; an existing credit code reuses that customer."""

    credit_code = serializers.CharField(max_length=18)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    region = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("Service region code (for a new customer)."),
    )
    industry = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    contact_name = serializers.CharField(
        max_length=60, required=False, allow_blank=True, default=""
    )
    contact_phone = serializers.CharField(
        max_length=30, required=False, allow_blank=True, default=""
    )


class ApplicationCreateSerializer(serializers.Serializer):
    customer = CustomerInputSerializer()
    business_type = serializers.ChoiceField(choices=BusinessType.choices)
    customer_class = serializers.ChoiceField(choices=CustomerClass.choices)
    voltage_class = serializers.ChoiceField(choices=VoltageClass.choices)
    requested_capacity_kva = serializers.IntegerField(min_value=1)
    supply_type = serializers.ChoiceField(choices=SupplyType.choices, required=False)
    is_important = serializers.BooleanField(required=False, default=False)
    account_manager = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(account_manager__isnull=False),
        required=False,
        allow_null=True,
        help_text=gettext_lazy(
            "User id of the account manager; absent, one is assigned automatically."
        ),
    )
    accepted_on = serializers.DateField(
        required=False, help_text=gettext_lazy("The day of acceptance; today when absent.")
    )

    def validate_requested_capacity_kva(self, value):
        return _plausible_capacity(value)

    def validate_accepted_on(self, value):
        if value > timezone.localdate():
            raise serializers.ValidationError(_("The day of acceptance cannot be in the future."))
        if message := plausible.date_error(value):
            raise serializers.ValidationError(message)
        return value


class ApplicationUpdateSerializer(serializers.Serializer):
    """The editable details of an application; any other field is refused."""

    is_important = serializers.BooleanField(required=False)
    requested_capacity_kva = serializers.IntegerField(required=False, min_value=1)

    def validate_requested_capacity_kva(self, value):
        return _plausible_capacity(value)

    def validate(self, attrs):
        unknown = (
            sorted(set(self.initial_data) - set(self.fields))
            if isinstance(self.initial_data, dict)
            else []
        )
        if unknown:
            raise serializers.ValidationError(
                {field: [_("This field cannot be changed here.")] for field in unknown}
            )
        if not attrs:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Send at least one field to change.")]}
            )
        return attrs


class TransitionSerializer(serializers.Serializer):
    """A transition leaving the current state: may this user apply it now, and if not why."""

    transition = serializers.CharField(source="name")
    label = serializers.CharField()
    available = serializers.BooleanField()
    reasons = serializers.ListField(
        child=serializers.CharField(),
        help_text=gettext_lazy("Why it is not possible now; empty when it is."),
    )


class TransitionsSerializer(serializers.Serializer):
    state = serializers.CharField()
    state_label = serializers.CharField()
    version = serializers.IntegerField()
    transitions = TransitionSerializer(many=True)


class TransitionInputSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(choices=list(TRANSITIONS))
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text=gettext_lazy("Required for suspend, cancel and rework: the reason."),
    )


class ReassignInputSerializer(serializers.Serializer):
    """Another account manager for an application, why, and a supervisor's override."""

    manager = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(account_manager__isnull=False),
        help_text=gettext_lazy("The user id of the new account manager."),
    )
    reason = serializers.CharField(max_length=500, allow_blank=True)
    override = serializers.BooleanField(
        required=False,
        default=False,
        help_text=gettext_lazy(
            "Supervisors only: give the application to the manager although automatic "
            "assignment would not (region, voltage qualification, capacity)."
        ),
    )
    override_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500
    )


class ReplanInputSerializer(serializers.Serializer):
    """A re-plan: per activity code what changes, and why (the service checks the values)."""

    reason = serializers.CharField(max_length=2000, allow_blank=True)
    durations = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=gettext_lazy("Activity code → working days."),
    )
    shortest_durations = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=gettext_lazy("Activity code → working days, or null to clear it."),
    )
    logic = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=gettext_lazy(
            'Activity code → {"tail": n, "head": m} (activity on arrow) or '
            '{"predecessors": ["A", {"id": "B", "lag": 2}]} (activity on node; a negative lag '
            "is an overlap: the successor starts that many working days before the "
            "predecessor finishes)."
        ),
    )
    leads = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=gettext_lazy(
            "Activity on arrow: activity code → the working days it may start before its "
            "tail event is reached (an overlap; 0 for none)."
        ),
    )
    departments = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=gettext_lazy(
            "Activity code → department code, null for the customer's own work, or a list "
            "of codes: the owning department, then those that staff it jointly."
        ),
    )


class BaselineSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    approved_by = serializers.CharField(source="approved_by.username", allow_null=True)
    reason = serializers.CharField()
    duration = serializers.IntegerField(help_text=gettext_lazy("Tc, working days."))
    planned_duration = serializers.IntegerField(help_text=gettext_lazy("Tp, working days."))
    finish = serializers.DateField(help_text=gettext_lazy("The last working day of Tc."))


class PlanFactsSerializer(serializers.Serializer):
    duration = serializers.IntegerField(allow_null=True)
    shortest_duration = serializers.IntegerField(allow_null=True)
    logic = serializers.CharField(
        help_text=gettext_lazy("tail→head, or the predecessors as A, B+2, C-1.")
    )
    department = serializers.CharField(allow_null=True)
    es = serializers.IntegerField(allow_null=True)
    ef = serializers.IntegerField(allow_null=True)
    tf = serializers.IntegerField(allow_null=True)
    critical = serializers.BooleanField()


class ActivityChangeSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    changed = serializers.ListField(child=serializers.CharField())
    before = PlanFactsSerializer(allow_null=True)
    after = PlanFactsSerializer(allow_null=True)


class PlanComparisonSerializer(serializers.Serializer):
    a = BaselineSerializer()
    b = BaselineSerializer()
    duration_before = serializers.IntegerField()
    duration_after = serializers.IntegerField()
    finish_before = serializers.DateField()
    finish_after = serializers.DateField()
    activities = ActivityChangeSerializer(
        many=True, help_text=gettext_lazy("The activities that moved.")
    )


class ReplanResultSerializer(serializers.Serializer):
    baseline = BaselineSerializer()
    schedule = ScheduleSerializer()


class ComplaintSerializer(serializers.ModelSerializer):
    handled_by = PersonSerializer(allow_null=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    recorded_by = PersonSerializer()

    class Meta:
        model = Complaint
        fields = [
            "id",
            "channel",
            "category",
            "text",
            "received_on",
            "substantiated",
            "handled_by",
            "department",
            "outcome",
            "recorded_by",
            "recorded_at",
        ]


class ComplaintInputSerializer(serializers.Serializer):
    """A complaint to record: types only; the service checks the rest."""

    channel = serializers.ChoiceField(choices=Complaint.Channel.choices)
    category = serializers.ChoiceField(choices=Complaint.Category.choices)
    text = serializers.CharField(max_length=4000)
    received_on = serializers.DateField()
    substantiated = serializers.BooleanField(default=False)
    handled_by = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True, default=None
    )
    department = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Department.objects.all(),
        required=False,
        allow_null=True,
        default=None,
    )
    outcome = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class FollowUpSerializer(serializers.ModelSerializer):
    application = serializers.CharField(source="review.application.number", read_only=True)
    owner = PersonSerializer()
    raised_by = PersonSerializer()
    closed_by = PersonSerializer(allow_null=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "application",
            "owner",
            "due_on",
            "description",
            "status",
            "overdue",
            "raised_by",
            "raised_at",
            "closing_note",
            "closed_by",
            "closed_at",
        ]

    def get_overdue(self, item) -> bool:
        return item.status == FollowUp.Status.OPEN and item.due_on < timezone.localdate()


class FollowUpInputSerializer(serializers.Serializer):
    """A follow-up to raise: types only; the service checks the rest."""

    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True, default=None
    )
    due_on = serializers.DateField(required=False, allow_null=True, default=None)
    description = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, default=""
    )


class FollowUpCloseSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class CapacityMeasureSerializer(serializers.ModelSerializer):
    """A measure that would relieve a region's shared crews, with its effect."""

    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    crew_name = serializers.SerializerMethodField()
    lender_name = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField()
    effect = serializers.SerializerMethodField()

    class Meta:
        model = CapacityMeasure
        fields = [
            "id",
            "region",
            "crew",
            "crew_name",
            "kind",
            "text",
            "first_day",
            "last_day",
            "capacity",
            "lender",
            "lender_name",
            "lender_capacity",
            "as_of",
            "applications_helped",
            "applications_hurt",
            "days_saved",
            "commitments_kept",
            "commitments_lost",
            "effect",
            "status",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = fields

    def get_crew_name(self, measure) -> str:
        return str(measure.crew)

    def get_lender_name(self, measure) -> str:
        return str(measure.lender) if measure.lender_id else ""

    def get_text(self, measure) -> str:
        return capacity.measure_text(measure)

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "application": {"type": "integer"},
                    "number": {"type": "string"},
                    "finish_before": {"type": "string", "format": "date"},
                    "finish_after": {"type": "string", "format": "date"},
                },
            },
        }
    )
    def get_effect(self, measure) -> list:
        return [
            {"application": pk, "number": number, "finish_before": before, "finish_after": after}
            for pk, number, before, after in measure.effect
        ]
