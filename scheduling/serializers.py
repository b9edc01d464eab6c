"""Serializers of the scheduling API: read serializers for output, type checks for input."""

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Department, Region
from accounts.serializers import PersonSerializer
from yekuo import plausible

from . import explanations, selectors
from .models import (
    ActivityTemplate,
    Crew,
    CrewCapacityChange,
    Deviation,
    DeviationCause,
    LearnedDuration,
    NetworkTemplate,
    Proposal,
    ResponsibleParty,
)

# Named for the schema's enums (SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
DeviationStatus = Deviation.Status
ProposalStatus = Proposal.Status


class DepartmentBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name"]


class TimesSerializer(serializers.Serializer):
    es = serializers.IntegerField(help_text=gettext_lazy("Earliest start (working-day offset)."))
    ef = serializers.IntegerField(help_text=gettext_lazy("Earliest finish."))
    ls = serializers.IntegerField(help_text=gettext_lazy("Latest start."))
    lf = serializers.IntegerField(help_text=gettext_lazy("Latest finish."))
    tf = serializers.IntegerField(help_text=gettext_lazy("Total float."))
    ff = serializers.IntegerField(help_text=gettext_lazy("Free float."))
    critical = serializers.BooleanField()
    start = serializers.DateField(help_text=gettext_lazy("The first working day."))
    finish = serializers.DateField(help_text=gettext_lazy("The last working day."))


class ActualSerializer(serializers.Serializer):
    start = serializers.DateField(allow_null=True)
    finish = serializers.DateField(allow_null=True)


class ScheduleActivitySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    stage = serializers.CharField()
    department = DepartmentBriefSerializer(allow_null=True)
    joint_departments = DepartmentBriefSerializer(
        many=True,
        help_text=gettext_lazy("The departments that staff it with its owning department."),
    )
    party = serializers.CharField()
    duration = serializers.IntegerField()
    remaining = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=["not_started", "started", "finished"])
    milestone = serializers.CharField()
    baseline = TimesSerializer(allow_null=True)
    actual = ActualSerializer()
    forecast = TimesSerializer()
    criticality = serializers.FloatField(
        allow_null=True,
        help_text=gettext_lazy(
            "Of the risk forecast: the share of its runs in which the activity is critical."
        ),
    )
    sensitivity = serializers.FloatField(
        allow_null=True,
        help_text=gettext_lazy(
            "Of the risk forecast: the correlation of the activity's duration with the finish."
        ),
    )


class BaselineSummarySerializer(serializers.Serializer):
    version = serializers.IntegerField(allow_null=True)
    computed_duration = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("Tc of the baseline, in working days.")
    )
    computed_finish_date = serializers.DateField(allow_null=True)
    planned_duration = serializers.IntegerField(
        help_text=gettext_lazy("Tp, the committed duration, in working days.")
    )
    committed_finish_date = serializers.DateField()
    critical_paths = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField())
    )


class ForecastSummarySerializer(serializers.Serializer):
    as_of_offset = serializers.IntegerField()
    duration = serializers.IntegerField(help_text=gettext_lazy("Forecast Tc in working days."))
    finish_date = serializers.DateField()
    planned_duration = serializers.IntegerField()
    total_float = serializers.IntegerField()
    critical_paths = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField())
    )


class CurvePointSerializer(serializers.Serializer):
    date = serializers.DateField()
    share = serializers.FloatField(help_text=gettext_lazy("The share of runs finished by it."))


class RiskSerializer(serializers.Serializer):
    as_of = serializers.DateField(help_text=gettext_lazy("The day of the last analysis."))
    on_time_probability = serializers.FloatField(
        allow_null=True,
        help_text=gettext_lazy(
            "The probability of finishing by the committed date (0–1); null without one."
        ),
    )
    p50_finish_date = serializers.DateField()
    p80_finish_date = serializers.DateField()
    p95_finish_date = serializers.DateField()
    driver = serializers.CharField(
        allow_null=True, help_text=gettext_lazy("The code of the activity driving the risk.")
    )
    curve = CurvePointSerializer(
        many=True, help_text=gettext_lazy("The distribution of the finish date (S-curve).")
    )


class ScheduleSerializer(serializers.Serializer):
    application = serializers.IntegerField()
    number = serializers.CharField()
    version = serializers.IntegerField()
    day0 = serializers.DateField()
    as_of = serializers.DateField()
    baseline = BaselineSummarySerializer()
    forecast = ForecastSummarySerializer()
    risk = RiskSerializer(
        allow_null=True,
        help_text=gettext_lazy(
            "The Monte Carlo forecast of the last analysis, from durations learned from "
            "history; null before the first."
        ),
    )
    activities = ScheduleActivitySerializer(many=True)


def _plausible_day(value):
    if message := plausible.date_error(value):
        raise serializers.ValidationError(message)
    return value


class ProgressInputSerializer(serializers.Serializer):
    """Progress on one activity; the parts given are recorded in this order, all or none."""

    actual_start = serializers.DateField(required=False)
    actual_finish = serializers.DateField(required=False)
    passed = serializers.BooleanField(
        required=False,
        default=True,
        help_text=gettext_lazy("For an inspection: false records a failed inspection."),
    )
    remaining = serializers.IntegerField(required=False, min_value=0, max_value=1000)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def validate_actual_start(self, value):
        return _plausible_day(value)

    def validate_actual_finish(self, value):
        return _plausible_day(value)

    def validate(self, attrs):
        if not {"actual_start", "actual_finish", "remaining"} & set(attrs):
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        gettext_lazy("Send actual_start, actual_finish or remaining.")
                    ]
                }
            )
        return attrs


class ProposalSerializer(serializers.ModelSerializer):
    description = serializers.SerializerMethodField()
    decided_by = PersonSerializer(allow_null=True)

    class Meta:
        model = Proposal
        fields = [
            "id",
            "kind",
            "activities",
            "description",
            "new_finish",
            "days_recovered",
            "detail",
            "status",
            "decided_by",
            "decided_at",
            "reason",
        ]

    def get_description(self, proposal) -> str:
        """What to do, in the reader's language (the activities' names from the context's
        ``activities`` of the proposal's application, else read)."""
        activities = self.context.get("activities")
        if activities is None:
            return selectors.proposal_text(proposal)
        return explanations.proposal_text(proposal, activities)


class ApplicationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class DeviationCauseSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = DeviationCause
        fields = ["code", "name"]

    def get_name(self, row) -> str:
        """The cause's name in the reader's language."""
        return explanations.label(row)


class ActivityRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DeviationSerializer(serializers.ModelSerializer):
    application = ApplicationRefSerializer()
    activity = ActivityRefSerializer()
    department = DepartmentBriefSerializer(allow_null=True)
    explanation = serializers.SerializerMethodField()
    acknowledged_by = PersonSerializer(allow_null=True)
    cause = DeviationCauseSerializer(allow_null=True)
    responsible_department = DepartmentBriefSerializer(allow_null=True)
    archived = serializers.SerializerMethodField()

    class Meta:
        model = Deviation
        fields = [
            "id",
            "application",
            "activity",
            "department",
            "severity",
            "status",
            "delay",
            "total_float",
            "free_float",
            "critical",
            "total_slip",
            "successor_slip",
            "commitment_overrun",
            "explanation",
            "detected_at",
            "updated_at",
            "acknowledged_by",
            "acknowledged_at",
            "cause",
            "responsible_party",
            "responsible_department",
            "party_reason",
            "planned_action",
            "action_due",
            "resolved_at",
            "archived",
        ]

    def get_explanation(self, row) -> str:
        """The sentence of DESIGN §5 in the reader's language, rendered from the facts."""
        return explanations.deviation_text(row)

    def get_archived(self, row) -> bool:
        """Resolved long enough ago to be kept in the archive: read-only history."""
        return getattr(row, "is_archived", False)


class DeviationDetailSerializer(DeviationSerializer):
    # Every proposal, the archived ones too: the superseded are history the API keeps.
    proposals = ProposalSerializer(many=True, source="proposal_history")

    class Meta(DeviationSerializer.Meta):
        fields = [*DeviationSerializer.Meta.fields, "proposals"]

    def to_representation(self, row):
        # The proposals name activities of the deviation's application: read them once.
        self.context["activities"] = selectors.activities_by_code([row.application_id])[
            row.application_id
        ]
        if not hasattr(row, "proposal_history"):
            row.proposal_history = selectors.proposal_history(row)
        return super().to_representation(row)


class DismissInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class AnswerInputSerializer(serializers.Serializer):
    """An answer to a deviation (acknowledging it, or correcting the answer)."""

    cause = serializers.CharField(
        max_length=40, help_text=gettext_lazy("Code of an active cause (/deviation-causes/).")
    )
    responsible_party = serializers.ChoiceField(
        choices=ResponsibleParty.choices,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("By default the late activity's owner."),
    )
    responsible_department = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Id of the department, when a department answers."),
    )
    party_reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("Required when another party than the default answers."),
    )
    planned_action = serializers.CharField(max_length=2000)
    action_due = serializers.DateField()


class CauseCountSerializer(serializers.Serializer):
    cause = serializers.CharField(allow_null=True, help_text=gettext_lazy("None: not answered."))
    name = serializers.CharField()
    open = serializers.IntegerField()
    acknowledged = serializers.IntegerField()


class PartyCountSerializer(serializers.Serializer):
    party = serializers.CharField(help_text=gettext_lazy("Empty: not answered."))
    department = serializers.CharField(allow_null=True, help_text=gettext_lazy("Its code."))
    name = serializers.CharField()
    open = serializers.IntegerField()
    acknowledged = serializers.IntegerField()


class DeviationSummarySerializer(serializers.Serializer):
    by_cause = CauseCountSerializer(many=True)
    by_party = PartyCountSerializer(many=True)


class TemplateActivitySerializer(serializers.ModelSerializer):
    department = DepartmentBriefSerializer(allow_null=True)

    class Meta:
        model = ActivityTemplate
        fields = [
            "code",
            "name",
            "name_en",
            "stage",
            "department",
            "party",
            "duration",
            "shortest_duration",
            "kind",
            "tail",
            "head",
            "is_dummy",
            "predecessors",
            "parallel_with",
            "clock",
            "milestone",
        ]


class CodeField(serializers.SlugRelatedField):
    """A related row named by its code. Text holding a NUL byte names none (PostgreSQL
    cannot even look it up)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)


class CrewSerializer(serializers.ModelSerializer):
    """A shared crew of a region (or its review meeting) and its daily capacity."""

    department = CodeField(
        slug_field="code",
        queryset=Department.objects.filter(is_active=True),
        help_text=gettext_lazy("Department code."),
    )
    region = CodeField(
        slug_field="code",
        queryset=Region.objects.filter(is_active=True),
        help_text=gettext_lazy("Service region code."),
    )
    capacity = serializers.IntegerField(
        min_value=0,
        max_value=32767,
        help_text=gettext_lazy(
            "Activity-days it can work each working day; for a review meeting, the plans one "
            "meeting can review."
        ),
    )

    class Meta:
        model = Crew
        fields = [
            "id",
            "kind",
            "department",
            "region",
            "capacity",
            "meeting_weekday",
            "is_active",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]
        # The one-per-kind rule is the service's, worded under "kind".
        validators = []


class CrewCapacityChangeSerializer(serializers.ModelSerializer):
    """The crew's capacity over some days: away (0), lent, an extra day or meeting."""

    capacity = serializers.IntegerField(min_value=0, max_value=32767)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CrewCapacityChange
        fields = ["id", "first_day", "last_day", "capacity", "reason", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]


class LearnedDurationSerializer(serializers.ModelSerializer):
    """A template activity's duration learned from history, for a group (empty fields:
    the activity as a whole)."""

    class Meta:
        model = LearnedDuration
        fields = [
            "id",
            "template",
            "code",
            *LearnedDuration.GROUP_FIELDS,
            "median",
            "p80",
            "spread",
            "count",
            "is_current",
            "learned_at",
        ]


class NetworkTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = NetworkTemplate
        fields = [
            "id",
            "code",
            "version",
            "name",
            "business_types",
            "customer_class",
            "voltage_classes",
            "is_active",
            "notes",
        ]


class NetworkTemplateDetailSerializer(NetworkTemplateSerializer):
    activities = TemplateActivitySerializer(many=True)

    class Meta(NetworkTemplateSerializer.Meta):
        fields = [*NetworkTemplateSerializer.Meta.fields, "activities"]


# The what-if endpoints answer exactly what the commands print.


class NetworkTimesSerializer(serializers.Serializer):
    es = serializers.IntegerField()
    ef = serializers.IntegerField()
    ls = serializers.IntegerField()
    lf = serializers.IntegerField()
    tf = serializers.IntegerField()
    ff = serializers.IntegerField()
    critical = serializers.BooleanField()


class EventTimesSerializer(serializers.Serializer):
    et = serializers.IntegerField()
    lt = serializers.IntegerField()


@extend_schema_field(
    {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^[0-9]+$"}]}
)
class PathCountField(serializers.Field):
    """A count that may exceed what JSON readers hold exactly: as given (int or digits)."""

    def to_representation(self, value):
        return value


class NetworkScheduleSerializer(serializers.Serializer):
    duration = serializers.IntegerField(help_text=gettext_lazy("Tc in working days."))
    planned_duration = serializers.IntegerField(help_text=gettext_lazy("Tp in working days."))
    critical_paths = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=gettext_lazy("The first critical paths in sorted order, at most 20."),
    )
    critical_path_count = PathCountField(
        help_text=gettext_lazy(
            "How many critical paths there are: a number, or a string of digits when above "
            "2^53 − 1."
        )
    )
    critical_paths_truncated = serializers.BooleanField(
        help_text=gettext_lazy("Whether critical_paths leaves some critical paths out.")
    )
    activities = serializers.DictField(child=NetworkTimesSerializer())
    events = serializers.DictField(
        child=EventTimesSerializer(), required=False, help_text=gettext_lazy("AOA input only.")
    )


class DelayAnalysisSerializer(serializers.Serializer):
    activity = serializers.CharField()
    delay = serializers.IntegerField()
    total_float = serializers.IntegerField()
    free_float = serializers.IntegerField()
    critical = serializers.BooleanField()
    total_duration_delay = serializers.IntegerField()
    successor_delay = serializers.IntegerField()
    new_duration = serializers.IntegerField()
    planned_duration = serializers.IntegerField()
    commitment_overrun = serializers.IntegerField()


class DelayQuerySerializer(serializers.Serializer):
    activity = serializers.CharField(max_length=100)
    delay = serializers.IntegerField(min_value=0, max_value=100_000)
