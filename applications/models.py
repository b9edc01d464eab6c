"""Customers and their service-connection applications, with the stage machine of DESIGN §3.

A transition method only changes fields; ``applications.services.application_transition``
does the rest (permission, guards, locking, the log row, the schedule, background work).
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from scheduling.models import Weekday
from yekuo.domain import (
    BusinessType,
    Clock,
    CustomerClass,
    DocumentKind,
    Milestone,
    VoltageClass,
)

from . import guards
from .credit_code import validate_credit_code


class ApplicationState(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    SURVEY = "survey", _("Site survey")
    DESIGN = "design", _("Supply-plan design and review")
    FEES = "fees", _("Fees")
    CONSTRUCTION = "construction", _("Customer construction and inspections")
    ENERGIZATION = "energization", _("Metering and energization")
    ENERGIZED = "energized", _("Energized")
    CLOSED = "closed", _("Closed")
    SUSPENDED = "suspended", _("Suspended")
    CANCELLED = "cancelled", _("Cancelled")


S = ApplicationState
WORK_STATES = [S.CONSULTATION, S.SURVEY, S.DESIGN, S.FEES, S.CONSTRUCTION, S.ENERGIZATION]
ACTIVE_STATES = [*WORK_STATES, S.SUSPENDED]
STAGE_ORDER = [*WORK_STATES, S.ENERGIZED, S.CLOSED]


class TimeLimitStatus(models.TextChoices):
    """The worst of an application's time-limit clocks (DESIGN §6), as the sweep last read it."""

    OK = "ok", _("Within the time limits")
    WARNING = "warning", _("80 percent of a time limit used")
    EXCEEDED = "exceeded", _("A time limit exceeded")


class SupplyType(models.TextChoices):
    SINGLE = "single", _("Single source")
    DUAL = "dual", _("Dual source")


class Customer(models.Model):
    """A large customer (大客户), identified by its unified social credit code."""

    name = models.CharField(_("name"), max_length=120)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        validators=[validate_credit_code],
    )
    industry = models.CharField(_("industry"), max_length=60, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    region = models.ForeignKey(
        "accounts.Region",
        verbose_name=_("service region"),
        on_delete=models.PROTECT,
        related_name="customers",
    )
    contact_name = models.CharField(_("contact"), max_length=60, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name


class Application(ConcurrentTransitionMixin, models.Model):
    """One service-connection application (业扩报装), owned by one account manager."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="applications"
    )
    region = models.ForeignKey(
        "accounts.Region",
        verbose_name=_("service region"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    business_type = models.CharField(
        _("business type"), max_length=30, choices=BusinessType.choices
    )
    customer_class = models.CharField(
        _("customer class"), max_length=30, choices=CustomerClass.choices
    )
    voltage_class = models.CharField(
        _("voltage class"), max_length=10, choices=VoltageClass.choices
    )
    requested_capacity_kva = models.PositiveIntegerField(
        _("requested capacity (kVA)"),
        validators=[MinValueValidator(1), MaxValueValidator(10_000_000)],
    )
    supply_type = models.CharField(
        _("supply type"), max_length=10, choices=SupplyType.choices, default=SupplyType.SINGLE
    )
    is_important = models.BooleanField(_("important customer"), default=False)
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_applications",
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    state = FSMField(
        _("state"), default=S.CONSULTATION, choices=S.choices, protected=True, db_index=True
    )
    suspended_from = models.CharField(
        _("state left when suspended"), max_length=20, choices=S.choices, blank=True
    )
    template = models.ForeignKey(
        "scheduling.NetworkTemplate",
        verbose_name=_("network template"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    start_date = models.DateField(_("day 0 of the schedule"))
    committed_duration = models.PositiveIntegerField(_("committed duration (working days)"))
    committed_finish_date = models.DateField(_("committed finish date"))
    # The weekday of the review meeting the plan holds its meeting activities at (0 =
    # Monday), recorded with the baseline so that a later change of the meeting day
    # moves neither its baseline nor its forecast; empty: planned without meeting days.
    plan_meeting_weekday = models.PositiveSmallIntegerField(
        _("review meeting weekday of the plan"),
        null=True,
        blank=True,
        choices=Weekday.choices,
        help_text=_(
            "The weekday its review meetings are planned on; empty for a plan made "
            "before meetings were placed on their weekday."
        ),
    )
    # The one-time notice the application was accepted with: [{"kind", "stage",
    # "required", "note"}], copied from the document requirements so that a later edit
    # of the requirements changes no application already told what to bring.
    document_checklist = models.JSONField(
        _("documents to hand in"), default=list, blank=True, editable=False
    )
    forecast_finish_date = models.DateField(_("forecast finish date"), null=True, blank=True)
    total_float = models.IntegerField(_("float now (working days)"), null=True, blank=True)
    time_limit_status = models.CharField(
        _("time-limit status"),
        max_length=10,
        choices=TimeLimitStatus.choices,
        default=TimeLimitStatus.OK,
        help_text=_("The worst time-limit clock as of the last deviation sweep."),
    )
    # Which clock the status is about (a ``Clock`` or ``whole_process``): the nearest to or
    # furthest past its limit; empty while every clock is within 80 % of its limit.
    time_limit_clock = models.CharField(_("time-limit clock"), max_length=30, blank=True)
    # The Monte Carlo forecast of its last analysis is scheduling's ApplicationRisk
    # (``application.risk``), a row of its own that every analysis rewrites.
    # The forecast against the crews and review meetings the region's applications share
    # (scheduling.levelling), as of its day: the finish, the working days lost waiting and
    # for which crews ([{"crew": name, "days": n}, ...]). Empty before a levelling.
    capacity_as_of = models.DateField(_("levelled as of"), null=True, blank=True, editable=False)
    levelled_finish_date = models.DateField(
        _("finish with shared crews"), null=True, blank=True, editable=False
    )
    capacity_delay = models.IntegerField(
        _("working days lost waiting for crews"), null=True, blank=True, editable=False
    )
    capacity_waits = models.JSONField(
        _("waits for crews"), default=list, blank=True, editable=False
    )
    # The activities not started that wait for a crew, with the day their crew can take
    # them ({code: ISO date}): the risk forecast holds them to it.
    capacity_holds = models.JSONField(
        _("activities held by crews"), default=dict, blank=True, editable=False
    )
    # What the last deviation sweep computed from (the day, the calendar, the limits, the
    # application and its activities, digested): the next sweep skips an application
    # whose inputs have not changed since.
    sweep_fingerprint = models.CharField(max_length=32, blank=True, editable=False)
    accepted_at = models.DateTimeField(_("accepted at"))
    energized_at = models.DateTimeField(_("energized at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-accepted_at", "-id"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        indexes = [
            models.Index(fields=["account_manager", "state"]),
            models.Index(fields=["region", "state"]),
            # The workspace lists the newest accepted first: a page is read off these
            # instead of sorting every (or every one of a manager's) active application.
            models.Index(
                models.F("accepted_at").desc(),
                models.F("id").desc(),
                name="application_newest",
            ),
            models.Index(
                "account_manager",
                models.F("accepted_at").desc(),
                models.F("id").desc(),
                name="application_manager_newest",
            ),
            # The API's list by state (an integrator's most common filter), newest first.
            models.Index(
                "state",
                models.F("accepted_at").desc(),
                models.F("id").desc(),
                name="application_state_newest",
            ),
            # The supervisors' queue: active applications without a manager, oldest first.
            models.Index(
                fields=["created_at", "id"],
                name="application_unassigned",
                condition=models.Q(account_manager__isnull=True),
            ),
            # The dashboard's on-time rate and the assessment: energized in a period.
            models.Index(fields=["energized_at"], name="application_energized_at"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.customer}"

    @property
    def time_limit_text(self) -> str:
        """Return the time-limit badge in words, naming the limit it is about."""
        if self.time_limit_status == TimeLimitStatus.OK:
            return ""
        if not self.time_limit_clock:
            # Stored by a sweep before the clock was stored with it.
            return self.get_time_limit_status_display()
        clock = (
            Clock(self.time_limit_clock).label
            if self.time_limit_clock in Clock.values
            else _("Whole process")
        )
        if self.time_limit_status == TimeLimitStatus.EXCEEDED:
            return _("%(clock)s: time limit exceeded") % {"clock": clock}
        return _("%(clock)s: 80 percent of the time limit used") % {"clock": clock}

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    # The stage machine. Each transition names its guards and its permission; the
    # service checks both (with messages) before it calls the method. Its custom= holds
    # what the pages, the admin and the API say about it (read through TRANSITIONS):
    # "label", and "reason_required" for the steps aside and back, whose note must say why.
    # The order here is the order they are offered in.

    @transition(
        field=state,
        source=S.CONSULTATION,
        target=S.SURVEY,
        conditions=[guards.stage_finished, guards.documents_handed_in],
        permission=guards.manager_or_supervisor,
        custom={"label": pgettext_lazy("transition", "Start the site survey")},
    )
    def start_survey(self):
        pass

    @transition(
        field=state,
        source=S.SURVEY,
        target=S.DESIGN,
        conditions=[guards.stage_finished, guards.documents_handed_in],
        permission=guards.manager_or_supervisor,
        custom={"label": pgettext_lazy("transition", "Start the supply-plan design")},
    )
    def start_design(self):
        pass

    @transition(
        field=state,
        source=S.DESIGN,
        target=S.FEES,
        conditions=[guards.plan_approved, guards.stage_finished, guards.documents_handed_in],
        permission=guards.manager_or_supervisor,
        custom={"label": pgettext_lazy("transition", "Move to fees")},
    )
    def start_fees(self):
        pass

    @transition(
        field=state,
        source=S.FEES,
        target=S.CONSTRUCTION,
        conditions=[guards.fees_settled, guards.stage_finished, guards.documents_handed_in],
        permission=guards.manager_or_supervisor,
        custom={"label": pgettext_lazy("transition", "Move to customer construction")},
    )
    def start_construction(self):
        pass

    @transition(
        field=state,
        source=S.CONSTRUCTION,
        target=S.ENERGIZATION,
        conditions=[
            guards.completion_inspection_passed,
            guards.stage_finished,
            guards.documents_handed_in,
        ],
        permission=guards.manager_or_supervisor,
        custom={"label": pgettext_lazy("transition", "Move to metering and energization")},
    )
    def start_energization(self):
        pass

    @transition(
        field=state,
        source=S.ENERGIZATION,
        target=S.ENERGIZED,
        conditions=[
            guards.fees_settled,
            guards.completion_inspection_passed,
            guards.contract_signed,
            guards.stage_finished,
            guards.documents_handed_in,
        ],
        permission=guards.manager_supervisor_or_department("metering"),
        custom={"label": pgettext_lazy("transition", "Energize")},
    )
    def energize(self, *, at):
        self.energized_at = at

    @transition(
        field=state,
        source=S.ENERGIZED,
        target=S.CLOSED,
        conditions=[guards.review_recorded],
        permission=guards.manager_or_supervisor,
        custom={"label": pgettext_lazy("transition", "Close")},
    )
    def close(self, *, at):
        self.closed_at = at

    @transition(
        field=state,
        source=WORK_STATES,
        target=S.SUSPENDED,
        conditions=[],
        permission=guards.manager_or_supervisor,
        custom={"label": pgettext_lazy("transition", "Suspend"), "reason_required": True},
    )
    def suspend(self):
        self.suspended_from = self.state

    @transition(
        field=state,
        source=S.SUSPENDED,
        target=RETURN_VALUE(*WORK_STATES),
        conditions=[guards.has_state_to_return_to],
        permission=guards.manager_or_supervisor,
        custom={"label": pgettext_lazy("transition", "Resume")},
    )
    def resume(self):
        back, self.suspended_from = self.suspended_from, ""
        return back

    @transition(
        field=state,
        source=ACTIVE_STATES,
        target=S.CANCELLED,
        conditions=[],
        permission=guards.manager_or_supervisor,
        custom={"label": pgettext_lazy("transition", "Cancel"), "reason_required": True},
    )
    def cancel(self, *, at, reason):
        self.cancelled_at = at
        self.cancel_reason = reason
        self.suspended_from = ""

    @transition(
        field=state,
        source=S.DESIGN,
        target=S.SURVEY,
        conditions=[],
        permission=guards.manager_supervisor_or_department("planning"),
        custom={
            "label": pgettext_lazy("transition", "Rework: back to the site survey"),
            "reason_required": True,
            # The activities done again: every activity of the survey stage.
            "reopens": {"stage": "survey"},
        },
    )
    def rework_survey(self):
        pass

    @transition(
        field=state,
        source=S.ENERGIZATION,
        target=S.CONSTRUCTION,
        conditions=[],
        permission=guards.manager_supervisor_or_department("operations"),
        custom={
            "label": pgettext_lazy("transition", "Rework: back to construction"),
            "reason_required": True,
            # The activities done again: the completion inspection.
            "reopens": {"milestone": Milestone.COMPLETION_INSPECTION},
        },
    )
    def rework_construction(self):
        pass


def _declared_transitions() -> dict[str, dict]:
    # django-fsm collects the transitions in alphabetical order; the class body keeps the
    # order they are declared in.
    field = Application._meta.get_field("state")
    custom = {t.name: t.custom for t in field.get_all_transitions(Application)}
    return {name: custom[name] for name in vars(Application) if name in custom}


TRANSITIONS: dict[str, dict] = _declared_transitions()
"""The ``custom=`` metadata of each transition of :class:`Application`, by name, in the order
the transitions are declared (the order the pages offer them in)."""


def transition_label(name: str) -> str:
    """Return what people call the transition ``name`` (the name itself when unknown)."""
    return str(TRANSITIONS.get(name, {}).get("label", name))


class ApplicationSequence(models.Model):
    """The last application number given out in a year (numbers restart every year)."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("application number sequence")
        verbose_name_plural = _("application number sequences")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class StageTransition(models.Model):
    """One applied transition (append-only: never edited, never deleted)."""

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="transitions",
    )
    transition = models.CharField(_("transition"), max_length=40)
    from_state = models.CharField(_("from"), max_length=20, choices=S.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=20, choices=S.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["application", "at", "id"]
        verbose_name = _("stage transition")
        verbose_name_plural = _("stage transitions")

    def __str__(self) -> str:
        return f"{self.application.number} {self.from_state or '—'} → {self.to_state}"


class AssignmentChange(models.Model):
    """A change of the accountable account manager (append-only)."""

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="assignment_changes",
    )
    from_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("from"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    to_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField(_("reason"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"))
    # A supervisor may give an application to a manager that automatic assignment would
    # not choose (outside the region, not qualified, at capacity): the checks passed over
    # and the written reason stay with the change.
    is_override = models.BooleanField(_("override"), default=False)
    override_reason = models.TextField(_("reason for the override"), blank=True)
    overridden_checks = models.JSONField(_("checks overridden"), default=list, blank=True)

    class Meta:
        ordering = ["application", "at", "id"]
        verbose_name = _("account-manager change")
        verbose_name_plural = _("account-manager changes")

    def __str__(self) -> str:
        return f"{self.application_id}: {self.from_manager_id} → {self.to_manager_id}"

    CHECK_LABELS = {
        "active": _("active"),
        "region": _("service region"),
        "voltage": _("voltage qualification"),
        "capacity": _("capacity"),
    }

    @property
    def overridden_check_labels(self) -> list[str]:
        """Return the names of the checks a supervisor passed over, in words."""
        return [str(self.CHECK_LABELS.get(code, code)) for code in self.overridden_checks]


class DocumentRequirement(models.Model):
    """One line of the one-time notice (一次性告知): a document a kind of application needs,
    and the stage it must be handed in by. Edited in the admin; an application keeps the
    list it was accepted with (``Application.document_checklist``)."""

    business_type = models.CharField(
        _("business type"),
        max_length=30,
        choices=BusinessType.choices,
        blank=True,
        help_text=_("Empty: every business type."),
    )
    customer_classes = models.JSONField(
        _("customer classes"),
        default=list,
        blank=True,
        help_text=_("Codes of the customer classes it applies to; empty: every class."),
    )
    kind = models.CharField(_("document"), max_length=30, choices=DocumentKind.choices)
    stage = models.CharField(
        _("needed by the end of stage"),
        max_length=20,
        choices=[(state.value, state.label) for state in WORK_STATES],
    )
    is_required = models.BooleanField(
        _("required"),
        default=True,
        help_text=_("A required document holds the application in its stage until it is in."),
    )
    note = models.CharField(_("note for the customer"), max_length=200, blank=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("document requirement")
        verbose_name_plural = _("document requirements")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_stage_display()})"

    def applies_to(self, *, business_type: str, customer_class: str) -> bool:
        return (not self.business_type or self.business_type == business_type) and (
            not self.customer_classes or customer_class in self.customer_classes
        )


def document_path(document, filename: str) -> str:
    return f"applications/{document.application.number}/{document.kind}/{filename}"


class Document(models.Model):
    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="documents",
    )
    kind = models.CharField(_("kind"), max_length=30, choices=DocumentKind.choices)
    file = models.FileField(_("file"), upload_to=document_path, max_length=255)
    original_name = models.CharField(_("original file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    is_withdrawn = models.BooleanField(_("withdrawn"), default=False)

    class Meta:
        ordering = ["application", "kind", "-uploaded_at"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"


SCORE = [MinValueValidator(1), MaxValueValidator(5)]


class PostCompletionReview(models.Model):
    """问效: how the connection went, scored 1-5, recorded before the application closes."""

    application = models.OneToOneField(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="review"
    )
    quality = models.PositiveSmallIntegerField(_("quality"), validators=SCORE)
    safety = models.PositiveSmallIntegerField(_("safety"), validators=SCORE)
    efficiency = models.PositiveSmallIntegerField(_("efficiency"), validators=SCORE)
    satisfaction = models.PositiveSmallIntegerField(_("customer satisfaction"), validators=SCORE)
    findings = models.TextField(_("findings"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("post-completion review")
        verbose_name_plural = _("post-completion reviews")

    def __str__(self) -> str:
        return f"{self.application_id} 问效"


class FollowUp(models.Model):
    """问责: a follow-up item raised from a post-completion review's finding, owned by one
    person until it is closed with a note (who closed it and when are kept)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    review = models.ForeignKey(
        PostCompletionReview,
        verbose_name=_("post-completion review"),
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    due_on = models.DateField(_("due on"))
    description = models.TextField(_("description"), max_length=4000)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    raised_at = models.DateTimeField(_("raised at"))
    closing_note = models.TextField(_("closing note"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up item")
        verbose_name_plural = _("follow-up items")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["status", "due_on"], name="followup_status_due_idx")]

    def __str__(self) -> str:
        return f"{self.review_id} 问责 {self.due_on}"


class Complaint(models.Model):
    """A customer complaint (客户投诉) about an application, counted in the assessment of
    its account manager and of the department that handled it."""

    class Channel(models.TextChoices):
        HOTLINE = "hotline", _("95598 hotline")
        ONLINE = "online", _("Online")
        LETTER_VISIT = "letter_visit", _("Letter or visit")
        OTHER = "other", _("Other")

    class Category(models.TextChoices):
        DELAY = "delay", _("Delay")
        SERVICE = "service", _("Service manner")
        CHARGES = "charges", _("Charges")
        QUALITY = "quality", _("Supply quality")
        OTHER = "other", _("Other")

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    text = models.TextField(_("complaint"), max_length=4000)
    received_on = models.DateField(_("received on"))
    substantiated = models.BooleanField(_("substantiated"), default=False)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("handling department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.TextField(_("outcome"), max_length=4000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer complaint")
        verbose_name_plural = _("customer complaints")
        ordering = ["-received_on", "-id"]
        indexes = [models.Index(fields=["received_on"], name="complaint_received_idx")]

    def __str__(self) -> str:
        return f"{self.application_id} 投诉 {self.received_on}"


class TimeLimit(models.Model):
    """A utility-side time limit in working days (TIME_LIMITS.md), edited by administrators."""

    clock = models.CharField(
        _("clock"), max_length=30, choices=[*Clock.choices, ("whole_process", _("Whole process"))]
    )
    customer_class = models.CharField(
        _("customer class"), max_length=30, choices=CustomerClass.choices
    )
    working_days = models.PositiveSmallIntegerField(_("limit (working days)"))

    class Meta:
        ordering = ["customer_class", "clock"]
        verbose_name = _("time limit")
        verbose_name_plural = _("time limits")
        constraints = [
            models.UniqueConstraint(fields=["clock", "customer_class"], name="time_limit_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_customer_class_display()} {self.get_clock_display()} {self.working_days}"


class KpiScope(models.TextChoices):
    MANAGER = "manager", _("Account manager")
    DEPARTMENT = "department", _("Department")


class KpiSnapshot(models.Model):
    """One night's KPIs of one account manager or one department, for trend charts.

    Written by ``applications.kpi.kpi_snapshot_take``, which defines every figure; taking
    the snapshot again on the same day overwrites the row (one row per scope, key and day).
    """

    day = models.DateField(_("day"))
    scope = models.CharField(_("scope"), max_length=12, choices=KpiScope.choices)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    active = models.PositiveIntegerField(_("active applications"))
    finished = models.PositiveIntegerField(_("energized in the window"))
    on_time = models.PositiveIntegerField(_("energized by the committed finish date"))
    average_cycle_days = models.DecimalField(
        _("average connection cycle (working days)"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
    )
    average_utility_days = models.DecimalField(
        _("average utility-side time (working days)"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
    )
    deviations_red = models.PositiveIntegerField(_("open red deviations"))
    deviations_amber = models.PositiveIntegerField(_("open amber deviations"))
    deviations_info = models.PositiveIntegerField(_("open info deviations"))
    limits_exceeded = models.PositiveIntegerField(_("applications past a time limit"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["scope", "day", "id"]
        verbose_name = _("KPI snapshot")
        verbose_name_plural = _("KPI snapshots")
        constraints = [
            # Key first, then day: the unique indexes also serve a trend query (one key,
            # a range of days).
            models.UniqueConstraint(
                fields=["manager", "day"],
                condition=models.Q(scope="manager"),
                name="kpi_snapshot_manager_day",
            ),
            models.UniqueConstraint(
                fields=["department", "day"],
                condition=models.Q(scope="department"),
                name="kpi_snapshot_department_day",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(scope="manager", manager__isnull=False, department__isnull=True)
                    | models.Q(scope="department", department__isnull=False, manager__isnull=True)
                ),
                name="kpi_snapshot_scope_key",
            ),
        ]
        # The dashboard's trend: a scope's last snapshot day of each month, then that
        # day's rows.
        indexes = [models.Index(fields=["scope", "day"], name="kpi_snapshot_scope_day")]

    def __str__(self) -> str:
        key = self.manager_id if self.scope == KpiScope.MANAGER else self.department_id
        return f"{self.day:%Y-%m-%d} {self.scope} {key}"


class IdempotencyKey(models.Model):
    """The first response to a POST sent with an ``Idempotency-Key`` header, for replays.

    The row is inserted before the request's work, in the same transaction, so a second
    request with the same key waits on the unique index until the first commits and then
    replays its response: one key, one effect. Only successful responses are kept; a
    refused request leaves no row, so a corrected retry runs again. Rows older than
    ``IDEMPOTENCY_KEY_HOURS`` are ignored and purged by a periodic task.
    """

    key = models.CharField(_("key"), max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=255)
    request_hash = models.CharField(_("request body hash"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True)
    response_body = models.JSONField(_("response body"), null=True, encoder=DjangoJSONEncoder)
    response_headers = models.JSONField(_("response headers"), default=dict)
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key}"


# --- Counts the supervisors' dashboard draws (kept by applications/dashboard_counts.py) ----

# The key of the deviation counts, and of their totals over region and manager.
DEVIATION_COUNT_KEY = (
    "severity",
    "stage",
    "department_id",
    "region_id",
    "manager_id",
    "cause_id",
    "responsible_party",
    "responsible_department_id",
    "status",
)
DEVIATION_TOTAL_KEY = tuple(
    name for name in DEVIATION_COUNT_KEY if name not in ("region_id", "manager_id")
)


class DeviationCount(models.Model):
    """How many unresolved deviations of active applications share one key: the dashboard's
    cards, charts and answer tables are sums of these rows, whatever the number of rows
    they count.

    Plain numbers, not foreign keys: a count names what it counts and never holds a row
    back from a change. ``0`` (or ``""``) stands for none: no department (the customer's
    own activity), no manager, not answered yet; a unique key cannot hold NULL as a value
    the upsert matches.
    """

    severity = models.CharField(max_length=10)
    stage = models.CharField(max_length=20)
    department_id = models.IntegerField()
    region_id = models.IntegerField()
    manager_id = models.IntegerField()
    cause_id = models.IntegerField()
    responsible_party = models.CharField(max_length=12)
    responsible_department_id = models.IntegerField()
    status = models.CharField(max_length=15)
    n = models.IntegerField(default=0)

    KEY = DEVIATION_COUNT_KEY

    class Meta:
        verbose_name = _("deviation count")
        verbose_name_plural = _("deviation counts")
        constraints = [
            models.UniqueConstraint(fields=list(DEVIATION_COUNT_KEY), name="deviation_count_key")
        ]
        # The dashboard filtered by a manager or a region sums their rows only.
        indexes = [
            models.Index(fields=["manager_id"], name="deviation_count_manager"),
            models.Index(fields=["region_id"], name="deviation_count_region"),
        ]

    def __str__(self) -> str:
        return f"{self.severity} {self.stage} {self.status}: {self.n}"


class DeviationTotal(models.Model):
    """The unresolved deviations of active applications counted without their service
    region and account manager: the sums of ``DeviationCount`` over those two, kept in the
    same transaction by the same writers. The dashboard reads these when it is filtered by
    neither: at 1,000,000 applications ``DeviationCount`` holds some 73,000 keys (one
    manager's deviations spread over 5,000 managers), these a few hundred."""

    severity = models.CharField(max_length=10)
    stage = models.CharField(max_length=20)
    department_id = models.IntegerField()
    cause_id = models.IntegerField()
    responsible_party = models.CharField(max_length=12)
    responsible_department_id = models.IntegerField()
    status = models.CharField(max_length=15)
    n = models.IntegerField(default=0)

    KEY = DEVIATION_TOTAL_KEY

    class Meta:
        verbose_name = _("deviation total")
        verbose_name_plural = _("deviation totals")
        constraints = [
            models.UniqueConstraint(fields=list(DEVIATION_TOTAL_KEY), name="deviation_total_key")
        ]

    def __str__(self) -> str:
        return f"{self.severity} {self.stage} {self.status}: {self.n}"


class ApplicationCount(models.Model):
    """How many active applications (and what weight of them) a manager holds in one
    time-limit status: the dashboard's cards and the managers' loads. ``manager_id`` 0:
    unassigned."""

    manager_id = models.IntegerField()
    time_limit_status = models.CharField(max_length=10)
    n = models.IntegerField(default=0)
    weight = models.IntegerField(default=0)

    KEY = ("manager_id", "time_limit_status")

    class Meta:
        verbose_name = _("application count")
        verbose_name_plural = _("application counts")
        constraints = [
            models.UniqueConstraint(
                fields=["manager_id", "time_limit_status"], name="application_count_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.manager_id} {self.time_limit_status}: {self.n}"


class EnergizedCount(models.Model):
    """The applications energized on one day (local date), with what the dashboard's
    on-time and cycle cards sum over the window: how many were on time, their connection
    cycles and committed durations (working days, by the calendar when they were counted;
    ``recount_dashboard`` counts them again after a change of the calendar)."""

    day = models.DateField(unique=True)
    n = models.IntegerField(default=0)
    on_time = models.IntegerField(default=0)
    cycle_days = models.IntegerField(default=0)
    committed_days = models.IntegerField(default=0)

    KEY = ("day",)

    class Meta:
        verbose_name = _("energized count")
        verbose_name_plural = _("energized counts")

    def __str__(self) -> str:
        return f"{self.day}: {self.n}"


class CustomerLink(models.Model):
    """A link that lets the customer follow the application on a phone, without signing in.

    The link carries a signature of its id and ``nonce`` (``applications.customer_links``):
    it cannot be guessed or altered, and the page reads the row, so a link expires at
    ``expires_at`` and stops at once when revoked.
    """

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="customer_links",
    )
    nonce = models.CharField(max_length=16, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("made by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("made at"))
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer's progress link")
        verbose_name_plural = _("customer's progress links")

    def __str__(self) -> str:
        return f"{self.application_id} #{self.pk}"

    def is_usable(self, now) -> bool:
        return self.revoked_at is None and self.expires_at > now


class CustomerLinkVisit(models.Model):
    """One use of a customer's link: an opening of the page or a request of the customer
    (the construction finished, the completion inspection asked for), with where from.

    A request waits for the account manager until ``handled_at``: the manager confirms it
    by recording the progress it speaks of."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Page opened")
        REFUSED = "refused", _("Expired or revoked link used")
        CONSTRUCTION_FINISHED = "construction_finished", _("Customer: construction finished")
        INSPECTION_REQUESTED = "inspection_requested", _("Customer: inspection asked for")

    # What the customer asks for (the rest are uses of the page).
    REQUEST_KINDS = (Kind.CONSTRUCTION_FINISHED, Kind.INSPECTION_REQUESTED)

    link = models.ForeignKey(
        CustomerLink, verbose_name=_("link"), on_delete=models.PROTECT, related_name="visits"
    )
    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    at = models.DateTimeField(_("at"), db_index=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    handled_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("customer link visit")
        verbose_name_plural = _("customer link visits")
        indexes = [
            models.Index(
                fields=["application"],
                condition=models.Q(handled_at__isnull=True)
                & ~models.Q(kind__in=["opened", "refused"]),
                name="customer_request_waiting",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


# --- Measures that relieve a region's shared crews (kept by applications/capacity.py) ----------


class CapacityMeasure(models.Model):
    """A change of one crew's capacity on some days that the last levelling of its region
    found would help (scheduling.relief), with its effect on every application of the region:
    proposed until a supervisor accepts it (a crew capacity change is then recorded) or
    dismisses it; superseded when a later levelling no longer finds it."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACCEPTED = "accepted", _("Accepted")
        DISMISSED = "dismissed", _("Dismissed")
        SUPERSEDED = "superseded", _("Superseded")

    class Kind(models.TextChoices):
        EXTRA_DAY = "extra_day", _("Extra crew days")
        EXTRA_MEETING = "extra_meeting", _("Extra review meeting")
        LEND = "lend", _("Another region's crew lends a hand")

    region = models.ForeignKey(
        "accounts.Region",
        verbose_name=_("service region"),
        on_delete=models.PROTECT,
        related_name="capacity_measures",
    )
    crew = models.ForeignKey(
        "scheduling.Crew",
        verbose_name=_("crew"),
        on_delete=models.PROTECT,
        related_name="capacity_measures",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    # The crew's capacity on each day of the measure, by ISO date.
    capacity = models.JSONField(_("capacity on these days"), default=dict)
    # A loan: the crew of another region that lends, and its capacity on those days.
    lender = models.ForeignKey(
        "scheduling.Crew",
        verbose_name=_("lending crew"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="capacity_loans",
    )
    lender_capacity = models.JSONField(
        _("lending crew's capacity on these days"), default=dict, blank=True
    )
    as_of = models.DateField(_("computed as of"))
    applications_helped = models.PositiveIntegerField(_("applications finishing earlier"))
    applications_hurt = models.PositiveIntegerField(_("applications finishing later"))
    days_saved = models.IntegerField(_("working days saved"))
    commitments_kept = models.PositiveIntegerField(_("commitments kept again"))
    commitments_lost = models.PositiveIntegerField(_("commitments lost"))
    # [[application id, number, finish before, finish after], ...] of every application
    # whose finish with shared crews moves.
    effect = models.JSONField(_("effect"), default=list)
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
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["region", "-commitments_kept", "-days_saved", "id"]
        verbose_name = _("capacity measure")
        verbose_name_plural = _("capacity measures")
        indexes = [
            models.Index(
                fields=["region", "status"],
                name="capacity_measure_open",
                condition=models.Q(status="proposed"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.crew_id} {self.first_day:%Y-%m-%d}"
