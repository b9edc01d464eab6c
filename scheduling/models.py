"""Network templates, the working-day calendar's administrator data."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.deconstruct import deconstructible
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from yekuo.archive import archive_model
from yekuo.domain import Clock, CustomerClass, Milestone, Party, Stage

from . import explanations
from .deviation import ESCALATE, MEETING, PARALLEL, SHORTEN


class ActivityKind(models.TextChoices):
    NORMAL = "normal", _("Normal")
    MEETING = "meeting", _("Review meeting (on the meeting weekday only)")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class CrewKind(models.TextChoices):
    """The shared resources an activity may need (scheduling.levelling)."""

    SURVEY = "survey", _("Survey crew")
    DESIGN_REVIEW = "design_review", _("Design review crew")
    INSPECTION = "inspection", _("Inspection crew")
    ENERGIZATION = "energization", _("Metering and energization crew")
    REVIEW_MEETING = "review_meeting", _("Review meeting")


@deconstructible
class ChoiceListValidator:
    """Accept a list whose every item is one of the values of a choices enum."""

    def __init__(self, choices_path: str) -> None:
        self.choices_path = choices_path

    def __call__(self, value) -> None:
        choices = import_string(self.choices_path)
        if not isinstance(value, list) or any(item not in choices.values for item in value):
            raise ValidationError(
                _("Choose from: %(choices)s.") % {"choices": ", ".join(choices.values)}
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, ChoiceListValidator) and other.choices_path == self.choices_path


class NetworkTemplate(models.Model):
    """The planned network of one kind of application; applications copy it when accepted.

    Versioned: an application keeps the activities it copied, so editing a template never
    changes work already under way; a structural change is a new version.
    """

    code = models.SlugField(_("code"), max_length=60)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=120)
    business_types = models.JSONField(
        _("business types"),
        default=list,
        validators=[ChoiceListValidator("yekuo.domain.BusinessType")],
        help_text=_("The business types this template plans."),
    )
    customer_class = models.CharField(
        _("customer class"), max_length=30, choices=CustomerClass.choices
    )
    voltage_classes = models.JSONField(
        _("voltage classes"),
        default=list,
        validators=[ChoiceListValidator("yekuo.domain.VoltageClass")],
        help_text=_("The voltage classes this template plans."),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Only active templates plan new applications.")
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["customer_class", "code", "-version"]
        verbose_name = _("network template")
        verbose_name_plural = _("network templates")
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="network_template_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def matches(self, *, business_type: str, customer_class: str, voltage_class: str) -> bool:
        return (
            self.customer_class == customer_class
            and business_type in self.business_types
            and voltage_class in self.voltage_classes
        )


class ActivityDefinition(models.Model):
    """What defines an activity (or AOA dummy): a template's, and an application's copy.

    The logic is either activity-on-arrow (``tail`` → ``head`` event numbers, as Chinese
    planners draw a 双代号网络图, dummies allowed) or activity-on-node (``predecessors``);
    a network uses one form throughout. The engine validates the whole network.
    """

    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    code = models.CharField(
        _("code"), max_length=20, blank=True, help_text=_("Empty only for a dummy.")
    )
    name = models.CharField(_("name"), max_length=80, blank=True)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, blank=True)
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("owning department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("Empty for the customer's own work."),
    )
    joint_departments = models.ManyToManyField(
        "accounts.Department",
        verbose_name=_("joint departments"),
        blank=True,
        related_name="+",
        help_text=_(
            "Other departments that staff this activity together with its owning department "
            "(a joint activity, such as a joint site survey); their staff record it too."
        ),
    )
    party = models.CharField(
        _("party"), max_length=10, choices=Party.choices, default=Party.UTILITY
    )
    duration = models.PositiveSmallIntegerField(_("planned duration (working days)"))
    shortest_duration = models.PositiveSmallIntegerField(
        _("shortest duration (working days)"), null=True, blank=True
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=ActivityKind.choices, default=ActivityKind.NORMAL
    )
    meeting_weekday = models.PositiveSmallIntegerField(
        _("meeting weekday"),
        choices=Weekday.choices,
        null=True,
        blank=True,
        help_text=_("For a review meeting only; empty means the configured weekday."),
    )
    tail = models.PositiveIntegerField(_("tail event"), null=True, blank=True)
    head = models.PositiveIntegerField(_("head event"), null=True, blank=True)
    is_dummy = models.BooleanField(_("dummy"), default=False)
    lead = models.PositiveSmallIntegerField(
        _("overlap (working days)"),
        default=0,
        help_text=_(
            "Activity on arrow: the working days it may start before its tail event is "
            "reached, overlapping the end of every arc into it (at most their shortest "
            "duration). On node, give a negative lag on the link instead."
        ),
    )
    predecessors = models.JSONField(
        _("predecessors"),
        default=list,
        blank=True,
        help_text=_('Activity-on-node only: codes, or {"id": code, "lag": days}.'),
    )
    parallel_with = models.JSONField(
        _("may run in parallel with"),
        default=list,
        blank=True,
        help_text=_("Codes of activities this one may run side by side with when late."),
    )
    clock = models.CharField(
        _("time-limit clock"),
        max_length=30,
        choices=Clock.choices,
        blank=True,
        help_text=_("The utility-side time limit this activity's working days count against."),
    )
    milestone = models.CharField(
        _("milestone"),
        max_length=30,
        choices=Milestone.choices,
        blank=True,
        help_text=_("What finishing this activity means to the stage guards."),
    )
    crew_kind = models.CharField(
        _("shared crew"),
        max_length=20,
        choices=CrewKind.choices,
        blank=True,
        help_text=_(
            "The shared resource it queues for: its department's crew of this kind in the "
            "application's region (and the joint departments' too), or the region's review "
            "meeting. Empty when it needs none."
        ),
    )
    crew_units = models.PositiveSmallIntegerField(
        _("crew units a day"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("How much of the crew's daily capacity it takes each day it runs."),
    )

    class Meta:
        abstract = True

    # The fields an application copies from its template when it is accepted.
    COPIED_FIELDS = (
        "sort_order",
        "code",
        "name",
        "name_en",
        "stage",
        "department",
        "party",
        "duration",
        "shortest_duration",
        "kind",
        "meeting_weekday",
        "lead",
        "tail",
        "head",
        "is_dummy",
        "predecessors",
        "parallel_with",
        "clock",
        "milestone",
        "crew_kind",
        "crew_units",
    )

    def __str__(self) -> str:
        if self.is_dummy:
            return _("dummy %(tail)s-%(head)s") % {"tail": self.tail, "head": self.head}
        return f"{self.code} {self.name}"

    def to_network_item(self) -> dict:
        """Return this activity in the network JSON form the engine reads."""
        if self.is_dummy:
            item = {"duration": self.duration, "dummy": True}
            if self.code:
                item["id"] = self.code
        else:
            item = {"id": self.code, "duration": self.duration, "name": self.name}
        if self.tail is not None or self.head is not None:
            item["tail"], item["head"] = self.tail, self.head
        else:
            item["predecessors"] = self.predecessors
        if self.is_dummy:
            return item
        item.update(
            {
                "name_en": self.name_en or None,
                "stage": self.stage or None,
                "department": self.department.name if self.department_id else None,
                "party": self.party,
                "kind": self.kind,
                "shortest_duration": self.shortest_duration,
                "parallel_with": self.parallel_with,
                "meeting_weekday": self.meeting_weekday,
                "lead": self.lead or None,
            }
        )
        return {key: value for key, value in item.items() if value is not None}


class ActivityTemplate(ActivityDefinition):
    """One activity (or AOA dummy) of a network template."""

    template = models.ForeignKey(
        NetworkTemplate,
        verbose_name=_("network template"),
        on_delete=models.CASCADE,
        related_name="activities",
    )

    class Meta:
        ordering = ["template", "sort_order", "id"]
        verbose_name = _("template activity")
        verbose_name_plural = _("template activities")
        constraints = [
            models.UniqueConstraint(
                fields=["template", "code"],
                condition=~models.Q(code=""),
                name="activity_template_code_unique",
            ),
        ]


class Crew(models.Model):
    """A shared resource of one service region: a department's crew of one kind, with the
    activity-days it can work each working day, or the region's review meeting, with the
    plans one meeting can review. Activities of every application in the region queue for
    it (scheduling.levelling)."""

    kind = models.CharField(_("kind"), max_length=20, choices=CrewKind.choices)
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="crews",
    )
    region = models.ForeignKey(
        "accounts.Region",
        verbose_name=_("service region"),
        on_delete=models.PROTECT,
        related_name="crews",
    )
    capacity = models.PositiveSmallIntegerField(
        _("capacity"),
        help_text=_(
            "Activity-days it can work each working day (for a review meeting: the plans "
            "one meeting can review)."
        ),
    )
    meeting_weekday = models.PositiveSmallIntegerField(
        _("meeting weekday"),
        choices=Weekday.choices,
        null=True,
        blank=True,
        help_text=_("For a review meeting only; empty means the configured weekday."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # What the last levelling of its region asked of it and booked, day by day from its
    # as-of day: {"as_of": day, "days": [[day, demand, booked, capacity], ...]} (demand: what
    # the unconstrained forecasts would have it do; capacity null: unlimited), and on how
    # many of those days the demand exceeds the capacity. Derived; rewritten each time.
    load = models.JSONField(_("load"), default=dict, blank=True, editable=False)
    over_capacity_days = models.PositiveIntegerField(
        _("days over capacity"), default=0, editable=False
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["region", "department", "kind"]
        verbose_name = _("crew")
        verbose_name_plural = _("crews")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "department", "region"], name="crew_one_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.department} {self.get_kind_display()}"

    def clean(self) -> None:
        if self.meeting_weekday is not None and self.kind != CrewKind.REVIEW_MEETING:
            raise ValidationError(
                {"meeting_weekday": _("Only a review meeting is held on a weekday.")}
            )


class CrewCapacityChange(models.Model):
    """The crew's capacity over some days, whatever it usually is: away (0), lent to another
    region for a week (less), an extra crew day or an extra review meeting (more)."""

    crew = models.ForeignKey(
        Crew,
        verbose_name=_("crew"),
        on_delete=models.PROTECT,
        related_name="capacity_changes",
    )
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    capacity = models.PositiveSmallIntegerField(
        _("capacity on these days"), help_text=_("0 when the crew is away.")
    )
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        ordering = ["crew", "first_day", "id"]
        verbose_name = _("crew capacity change")
        verbose_name_plural = _("crew capacity changes")

    def __str__(self) -> str:
        return f"{self.crew}: {self.capacity} {self.first_day:%Y-%m-%d}–{self.last_day:%Y-%m-%d}"

    def clean(self) -> None:
        if self.first_day and self.last_day and self.last_day < self.first_day:
            raise ValidationError({"last_day": _("The last day cannot be before the first.")})


class CalendarOverride(models.Model):
    """An administrator's word on one day: working or off, whatever the holiday data says."""

    day = models.DateField(_("date"), unique=True)
    is_working = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
    )
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {_('working') if self.is_working else _('off')}"


class CalendarYear(models.Model):
    """A year whose official holiday notice an administrator has entered as overrides.

    The holidays package carries the State Council's notices only up to some year; for a
    later year it knows the statutory holidays by rule but not the make-up working days.
    Confirming a year says its overrides now complete the official arrangement.
    """

    year = models.PositiveSmallIntegerField(
        _("year"), unique=True, validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    source = models.CharField(
        _("source"), max_length=200, help_text=_("The notice the overrides were entered from.")
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), auto_now_add=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("confirmed calendar year")
        verbose_name_plural = _("confirmed calendar years")

    def __str__(self) -> str:
        return str(self.year)


class Baseline(models.Model):
    """One approved plan of an application: version 1 at acceptance, later by re-plans.

    Kept for ever: a re-plan adds a version, it never edits an old one.
    """

    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="baselines",
    )
    version = models.PositiveSmallIntegerField(_("version"))
    duration = models.PositiveIntegerField(_("computed duration Tc (working days)"))
    planned_duration = models.PositiveIntegerField(_("planned duration Tp (working days)"))
    network = models.JSONField(_("network"))
    schedule = models.JSONField(_("schedule"))
    reason = models.TextField(_("reason"), blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["application", "version"]
        verbose_name = _("baseline")
        verbose_name_plural = _("baselines")
        constraints = [
            models.UniqueConstraint(fields=["application", "version"], name="baseline_version"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} v{self.version}"


class Activity(ActivityDefinition):
    """One activity of one application, copied from its template when it was accepted.

    Dates are calendar dates: a start is the first working day of the activity, a finish
    its last working day. Offsets (ES, EF) are working days from the application's day 0.
    """

    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    baseline_es = models.IntegerField(_("baseline ES"), null=True, blank=True)
    baseline_ef = models.IntegerField(_("baseline EF"), null=True, blank=True)
    baseline_tf = models.IntegerField(_("baseline TF"), null=True, blank=True)
    baseline_ff = models.IntegerField(_("baseline FF"), null=True, blank=True)
    baseline_start = models.DateField(_("baseline start"), null=True, blank=True)
    baseline_finish = models.DateField(_("baseline finish"), null=True, blank=True)

    actual_start = models.DateField(_("actual start"), null=True, blank=True)
    actual_finish = models.DateField(_("actual finish"), null=True, blank=True)
    remaining = models.PositiveSmallIntegerField(
        _("remaining (working days)"), null=True, blank=True
    )

    forecast_start = models.DateField(_("forecast start"), null=True, blank=True)
    forecast_finish = models.DateField(_("forecast finish"), null=True, blank=True)
    forecast_tf = models.IntegerField(_("total float"), null=True, blank=True)
    forecast_ff = models.IntegerField(_("free float"), null=True, blank=True)
    is_critical = models.BooleanField(_("critical"), default=False)
    # Its work can go on now: started and not finished, or every predecessor finished.
    # Stored by the analysis with the forecast, so the to-do lists count it by index.
    is_ready = models.BooleanField(_("ready or running"), default=False, db_default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["application", "sort_order", "id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "code"],
                condition=~models.Q(code=""),
                name="activity_code_unique",
            ),
        ]
        indexes = [
            # The to-do lists: a department's work that can go on now.
            models.Index(
                fields=["department", "application"],
                condition=models.Q(is_ready=True),
                name="activity_ready_by_department",
            ),
            # The manager's to-do: is the work of an application's current stage done?
            models.Index(
                fields=["application", "stage"],
                condition=models.Q(actual_finish__isnull=True, is_dummy=False),
                name="activity_unfinished_stage",
            ),
        ]

    @property
    def status(self) -> str:
        if self.actual_finish:
            return "finished"
        if self.actual_start:
            return "started"
        return "not_started"


class ActivityEvent(models.Model):
    """A progress record on an activity (append-only): who recorded what, when."""

    class Kind(models.TextChoices):
        STARTED = "started", _("Started")
        FINISHED = "finished", _("Finished")
        REMAINING = "remaining", _("Remaining duration set")
        INSPECTION_FAILED = "inspection_failed", _("Inspection failed")
        REOPENED = "reopened", _("Reopened by rework")
        REPLANNED = "replanned", _("Re-planned")

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    day = models.DateField(_("date"), null=True, blank=True)
    days = models.IntegerField(_("working days"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["activity", "at", "id"]
        verbose_name = _("progress record")
        verbose_name_plural = _("progress records")

    def __str__(self) -> str:
        return f"{self.activity_id} {self.kind} {self.day or self.days}"


class Severity(models.TextChoices):
    RED = "red", _("Red: the commitment moves")
    AMBER = "amber", _("Amber: successors move")
    INFO = "info", _("Info: absorbed by float")


def severity_rank():
    """Return an expression ranking deviations red (0), amber (1), info (2): the dashboard's
    default order, and the first column of the index that serves it."""
    return models.Case(
        *(
            models.When(severity=severity, then=models.Value(rank))
            for rank, severity in enumerate(Severity.values)
        ),
        output_field=models.IntegerField(),
    )


class DeviationCause(models.Model):
    """A cause a deviation may be put down to (data, edited in the admin; retired, never
    deleted: answered deviations keep theirs)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60, unique=True)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("deviation cause")
        verbose_name_plural = _("deviation causes")

    def __str__(self) -> str:
        return self.name


class ResponsibleParty(models.TextChoices):
    """Who answers for a deviation: a department of the utility, the customer, or neither."""

    DEPARTMENT = "department", _("A department")
    CUSTOMER = "customer", _("The customer")
    EXTERNAL = "external", _("External")


class Deviation(models.Model):
    """A late activity found by the sweep (DESIGN §5): at most one open per activity.

    The sweep upserts it while the delay lasts and resolves it when the delay disappears.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="deviations",
    )
    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.PROTECT, related_name="deviations"
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("owning department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    detected_at = models.DateTimeField(_("detected at"))
    updated_at = models.DateTimeField(_("updated at"))
    delay = models.IntegerField(_("delay Δ (working days)"))
    total_float = models.IntegerField(_("total float"))
    free_float = models.IntegerField(_("free float"))
    critical = models.BooleanField(_("critical"))
    total_slip = models.IntegerField(
        _("slip of the computed duration Tc"),
        help_text=_(
            "Δ − (TF − (Tp − Tc)), at least 0: how far this delay alone moves Tc (measured "
            "when the plan holds its review meetings on their weekday)."
        ),
    )
    successor_slip = models.IntegerField(
        _("slip of the successors"),
        help_text=_(
            "Δ − FF, at least 0: how far the earliest start of the successors moves "
            "(measured when the plan holds its review meetings on their weekday)."
        ),
    )
    commitment_overrun = models.IntegerField(
        _("commitment overrun"),
        help_text=_(
            "Δ − TF, at least 0: how far this delay alone pushes the finish past the planned "
            "duration Tp (measured when the plan holds its review meetings on their "
            "weekday); positive exactly when the deviation is red."
        ),
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    # Not indexed alone: the index on (status, severity) serves every read by status.
    status = models.CharField(
        _("status"), max_length=15, choices=Status.choices, default=Status.OPEN
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # The answer (分析偏差的原因，对症下药): set when acknowledged, corrected later if need be;
    # every answer is kept in DeviationAnswer.
    cause = models.ForeignKey(
        DeviationCause,
        verbose_name=_("cause"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    responsible_party = models.CharField(
        _("responsible party"), max_length=12, choices=ResponsibleParty.choices, blank=True
    )
    responsible_department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("responsible department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    party_reason = models.TextField(_("why another party answers"), blank=True)
    planned_action = models.TextField(_("planned action"), blank=True)
    action_due = models.DateField(_("action due"), null=True, blank=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        verbose_name = _("deviation")
        verbose_name_plural = _("deviations")
        constraints = [
            models.UniqueConstraint(
                fields=["activity"],
                condition=~models.Q(status="resolved"),
                name="one_open_deviation_per_activity",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "severity"]),
            # The API's list, newest first (its order): a page is read off the index
            # instead of joining and sorting every deviation.
            models.Index(
                models.F("detected_at").desc(), models.F("id").desc(), name="deviation_by_detected"
            ),
            # The sweep's read of a batch's open deviations: a few hundred applications'
            # rows, found without visiting every open deviation of the other applications.
            models.Index(
                fields=["application"],
                name="deviation_open_by_application",
                condition=~models.Q(status="resolved"),
            ),
            # The dashboard's table of open deviations, most severe and longest first: a
            # page is read off the index instead of sorting every open deviation.
            models.Index(
                severity_rank(),
                models.F("delay").desc(),
                models.F("detected_at").desc(),
                models.F("id").desc(),
                name="deviation_open_dashboard",
                condition=~models.Q(status="resolved"),
            ),
            # The same table sorted by the longest delay (of one severity or all).
            models.Index(
                models.F("delay").desc(),
                models.F("id").desc(),
                name="deviation_open_by_delay",
                condition=~models.Q(status="resolved"),
            ),
        ]

    def __str__(self) -> str:
        return explanations.deviation_text(self)

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.RESOLVED


class DeviationAnswer(models.Model):
    """One answer to a deviation (cause, responsible party, action, due date), append-only:
    the first acknowledges it, later ones correct it."""

    deviation = models.ForeignKey(
        Deviation, verbose_name=_("deviation"), on_delete=models.PROTECT, related_name="answers"
    )
    cause = models.ForeignKey(
        DeviationCause, verbose_name=_("cause"), on_delete=models.PROTECT, related_name="+"
    )
    responsible_party = models.CharField(
        _("responsible party"), max_length=12, choices=ResponsibleParty.choices
    )
    responsible_department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("responsible department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    party_reason = models.TextField(_("why another party answers"), blank=True)
    planned_action = models.TextField(_("planned action"))
    action_due = models.DateField(_("action due"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["deviation", "at", "id"]
        verbose_name = _("answer to a deviation")
        verbose_name_plural = _("answers to deviations")

    def __str__(self) -> str:
        return f"{self.deviation_id}: {self.cause_id} {self.responsible_party} ({self.at})"


class Proposal(models.Model):
    """A corrective measure the engine proposed for a deviation, with its what-if result.

    An application has at most one open proposal per measure (its kind and activities),
    listed under the most severe deviation that calls for it. It records the forecast it
    was computed from (a digest of every activity's forecast times, and the forecast
    finish): once the forecast moves, the proposal is stale and cannot be accepted; the
    analysis supersedes it and computes the measure again.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACCEPTED = "accepted", _("Accepted")
        DISMISSED = "dismissed", _("Dismissed")
        SUPERSEDED = "superseded", _("Superseded")

    class Kind(models.TextChoices):
        """The corrective measures of DESIGN §5, named as the engine names them."""

        SHORTEN = SHORTEN, _("Shorten later critical activities")
        PARALLEL = PARALLEL, _("Run activities in parallel")
        MEETING = MEETING, _("Catch the review meeting")
        ESCALATE = ESCALATE, _("Escalate")

    # Not indexed alone: proposals are read by deviation, and the open ones by application
    # through one_open_proposal_per_measure; the largest table spares an index on each row.
    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="proposals",
        db_index=False,
    )
    deviation = models.ForeignKey(
        Deviation, verbose_name=_("deviation"), on_delete=models.PROTECT, related_name="proposals"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    measure = models.CharField(
        _("measure"),
        max_length=255,
        help_text=_("The kind and the activities: what one open proposal at a time may say."),
    )
    basis = models.CharField(
        _("computed from the forecast"),
        max_length=32,
        help_text=_("A digest of the forecast the proposal was computed from."),
    )
    basis_finish = models.DateField(_("computed from the forecast finish"))
    activities = models.JSONField(_("activities"), default=list)
    new_finish = models.DateField(_("new finish"), null=True, blank=True)
    days_recovered = models.IntegerField(_("days recovered"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=15, choices=Status.choices, default=Status.PROPOSED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        # Most days recovered first, on every database (PostgreSQL sorts NULL first).
        ordering = ["deviation", models.F("days_recovered").desc(nulls_last=True), "id"]
        verbose_name = _("corrective proposal")
        verbose_name_plural = _("corrective proposals")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "measure"],
                condition=models.Q(status="proposed"),
                name="one_open_proposal_per_measure",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {', '.join(self.activities)}"

    @staticmethod
    def measure_of(kind: str, activities) -> str:
        """Return the key of a measure: its kind and activities (``shorten:P,Q``)."""
        return f"{kind}:{','.join(activities)}"[:255]


# --- Archive (yekuo.archive): resolved deviations and decided proposals, after a while -----

ArchivedDeviation = archive_model(
    Deviation,
    name="ArchivedDeviation",
    verbose_name=_("archived deviation"),
    verbose_name_plural=_("archived deviations"),
    indexed=["application"],
)
ArchivedProposal = archive_model(
    Proposal,
    name="ArchivedProposal",
    verbose_name=_("archived corrective proposal"),
    verbose_name_plural=_("archived corrective proposals"),
    indexed=["deviation"],
    # Its deviation may be in either table: archived with it, or still hot.
    unconstrained=["deviation"],
)


# The group a learned duration is for, from the widest to the narrowest
# (scheduling.learning); empty from the first level not narrowed.
LEARNED_GROUP_FIELDS = ("department", "region", "voltage_class", "customer_class")


class LearnedDuration(models.Model):
    """What a template activity really takes, learned nightly from the finished activities
    of the applications planned with its template (``scheduling.learning``): for the
    activity as a whole (group fields empty) and for narrower groups with enough history.

    Derived data, recomputed every night: a group no longer found is kept and marked not
    current rather than removed.
    """

    template = models.ForeignKey(
        NetworkTemplate,
        verbose_name=_("network template"),
        on_delete=models.PROTECT,
        related_name="learned_durations",
    )
    GROUP_FIELDS = LEARNED_GROUP_FIELDS

    code = models.CharField(_("activity code"), max_length=20)
    department = models.CharField(_("department"), max_length=40, blank=True)
    region = models.CharField(_("service region"), max_length=40, blank=True)
    voltage_class = models.CharField(_("voltage class"), max_length=20, blank=True)
    customer_class = models.CharField(_("customer class"), max_length=30, blank=True)
    median = models.FloatField(_("median (working days)"))
    p80 = models.FloatField(_("P80 (working days)"))
    spread = models.FloatField(_("spread (σ of the log)"))
    count = models.PositiveIntegerField(_("durations"))
    is_current = models.BooleanField(_("current"), default=True)
    learned_at = models.DateTimeField(_("learned at"))

    class Meta:
        ordering = ["template", "code", *LEARNED_GROUP_FIELDS]
        verbose_name = _("learned duration")
        verbose_name_plural = _("learned durations")
        constraints = [
            models.UniqueConstraint(
                fields=["template", "code", *LEARNED_GROUP_FIELDS],
                name="learned_duration_group",
            ),
        ]

    def __str__(self) -> str:
        group = " / ".join(v for v in (getattr(self, f) for f in self.GROUP_FIELDS) if v)
        return f"{self.code} {group}".strip()


class ApplicationRisk(models.Model):
    """The Monte Carlo forecast of an application's last analysis (``scheduling.risk``), as
    of its day: the probability of finishing by the committed date, the finish dates by
    which half, 80 % and 95 % of the runs are done, the activity that drives the risk, the
    S-curve and each activity's criticality and sensitivity.

    Derived data, rewritten by every analysis that computes the application again. It has a
    table of its own, one row per application analysed with the forecast on, so that the
    application's row stays narrow: its own fields change rarely, and the daily rewrite of
    these figures (some 1.2 KB of JSON) touches this table's two indexes, not the
    application table's many.
    """

    application = models.OneToOneField(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="risk",
    )
    as_of = models.DateField(_("risk as of"), null=True, blank=True)
    on_time = models.FloatField(_("probability of keeping the commitment"), null=True, blank=True)
    p50 = models.DateField(_("P50 finish"), null=True, blank=True)
    p80 = models.DateField(_("P80 finish"), null=True, blank=True)
    p95 = models.DateField(_("P95 finish"), null=True, blank=True)
    driver = models.CharField(_("activity driving the risk"), max_length=20, blank=True)
    # [[ISO date, share of the runs finished by it], ...]
    curve = models.JSONField(_("finish distribution"), default=list, blank=True)
    # Per activity code: [criticality index, sensitivity] (the share of runs in which it is
    # critical, the correlation of its duration with the finish): one JSON value here
    # rather than some twenty activity rows whose figures move with every day.
    activities = models.JSONField(_("criticality by activity"), default=dict, blank=True)

    class Meta:
        verbose_name = _("risk forecast")
        verbose_name_plural = _("risk forecasts")
        indexes = [
            # The dashboard's at-risk list: the least likely to keep the commitment first.
            models.Index(
                fields=["on_time", "application"],
                name="risk_least_likely",
                condition=models.Q(on_time__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.as_of}"
