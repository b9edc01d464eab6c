"""Reads of the applications app for pages, the API and the services."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import ChangeRecord, Department, Region
from scheduling import charts, explanations, plandiff
from scheduling import selectors as schedule_selectors
from scheduling.cpm import NetworkError, fulkerson_numbers
from scheduling.diagrams import (
    Arc,
    DiagramError,
    GanttTask,
    aon_arcs,
    gantt_layout,
    network_layout,
    percent_complete,
    time_scaled_layout,
)
from scheduling.models import Activity, Baseline, Deviation, Proposal, Severity
from scheduling.timelimits import ClockReading, ClockWork, clock_readings
from yekuo.domain import CLOCKS, WHOLE_PROCESS, DocumentKind, Party
from yekuo.errors import InvalidInput
from yekuo.fragments import fingerprint

from . import guards
from .credit_code import validate_credit_code
from .models import (
    ACTIVE_STATES,
    STAGE_ORDER,
    TRANSITIONS,
    WORK_STATES,
    Application,
    ApplicationState,
    Customer,
    Document,
    DocumentRequirement,
    FollowUp,
    StageTransition,
    TimeLimit,
)
from .search import search_applications


@dataclass
class TransitionSpec:
    """One transition as a person sees it: may they apply it now, and if not, why not."""

    transition: object
    name: str
    label: str
    source_ok: bool
    permitted: bool
    refusals: list[str]

    @property
    def available(self) -> bool:
        return self.source_ok and self.permitted and not self.refusals

    @property
    def reason_required(self) -> bool:
        return self.transition.custom.get("reason_required", False)


def transition_spec(application: Application, name: str, user=None) -> TransitionSpec:
    # django-fsm keeps one Transition per source state: take the one leaving this state.
    candidates = [t for t in application.get_all_state_transitions() if t.name == name]
    leaving = [t for t in candidates if t.source in (application.state, "*")]
    transition = (leaving or candidates)[0]
    source_ok = bool(leaving)
    refusals = []
    if source_ok:
        for condition in transition.conditions:
            refusal = condition.refusal(application)
            if refusal:
                refusals.append(refusal)
    permitted = transition.has_perm(application, user) if user is not None else True
    return TransitionSpec(
        transition=transition,
        name=name,
        label=str(transition.custom.get("label", name)),
        source_ok=source_ok,
        permitted=permitted,
        refusals=refusals,
    )


def application_transitions(application: Application, user) -> list[TransitionSpec]:
    """Return the transitions leaving the current state, in the order the model declares
    them, with what stops each one."""
    specs = [transition_spec(application, name, user) for name in TRANSITIONS]
    return [spec for spec in specs if spec.source_ok]


def visible_applications(user):
    """Return the applications a user may read: DESIGN's scoping of people to work.

    The scope is a condition on the application's own keys (its manager, its region, an
    EXISTS over its activities), never a join: each application comes once without
    DISTINCT, so lists and their counts stay index scans whatever the number of rows.
    """
    qs = Application.objects.all()
    if user.has_perm("accounts.supervise_applications"):
        return qs
    scope = Q(pk__in=[])
    if user.has_perm("accounts.handle_applications"):
        scope |= Q(account_manager=user)
        profile = getattr(user, "account_manager", None)
        if profile is not None:
            scope |= Q(region__in=profile.regions.values("pk"))
    if user.has_perm("accounts.record_department_progress") and user.department_id:
        department = user.department_id
        scope |= Exists(
            Activity.objects.filter(application=OuterRef("pk")).filter(
                Q(department_id=department) | Q(joint_departments=department)
            )
        )
    return qs.filter(scope)


def suspension_periods(application: Application, rows) -> list[tuple[date, date | None]]:
    """Return the (suspended on, resumed on) periods from suspend/resume/cancel log rows."""
    periods: list[tuple[date, date | None]] = []
    start = None
    for row in rows:
        day = timezone.localdate(row.at)
        if row.transition == "suspend":
            start = day
        elif start is not None:
            periods.append((start, day))
            start = None
    if start is not None and application.state == ApplicationState.SUSPENDED:
        periods.append((start, None))
    return periods


def suspensions(application: Application) -> list[tuple[date, date | None]]:
    """Return the (suspended on, resumed on) periods of an application from its log."""
    rows = StageTransition.objects.filter(
        application=application, transition__in=["suspend", "resume", "cancel"]
    ).order_by("at", "id")
    return suspension_periods(application, rows)


def time_limits_by_class() -> dict[str, dict[str, int]]:
    """Return the time limits in working days: customer class → clock → days (one query)."""
    limits: dict[str, dict[str, int]] = defaultdict(dict)
    for customer_class, clock, days in TimeLimit.objects.values_list(
        "customer_class", "clock", "working_days"
    ):
        limits[customer_class][clock] = days
    return limits


def clock_work(activities) -> list[ClockWork]:
    """Return what counts on the clocks: the started utility-side activities with a clock.

    ``activities`` are anything with ``clock``, ``party``, ``actual_start`` and
    ``actual_finish`` (model instances or the sweep's rows).
    """
    return [
        ClockWork(clock=a.clock, start=a.actual_start, finish=a.actual_finish)
        for a in activities
        if a.clock and a.party == Party.UTILITY and a.actual_start is not None
    ]


def time_limit_readings(
    application,
    *,
    work: list[ClockWork],
    log,
    limits: dict[str, dict[str, int]],
    today: date,
    energized_on: date | None = None,
    working_days,
) -> dict[str, ClockReading]:
    """Return the readings of every clock and of the whole process of one application.

    The one place the readings are made from loaded data, for one application or a batch:
    ``application`` has ``state`` and ``customer_class``; ``log`` is its suspend, resume
    and cancel rows in order; the clocks stop at the energization date. ``working_days`` is
    the calendar's ``working_days_in``.
    """
    end = today if energized_on is None else min(today, energized_on)
    return clock_readings(
        work,
        suspensions=suspension_periods(application, log),
        as_of=end,
        limits=limits.get(application.customer_class, {}),
        working_days=working_days,
        clocks=CLOCKS,
    )


def application_time_limits(application: Application, *, today: date) -> dict[str, ClockReading]:
    """Return the utility-side working days used per clock and for the whole process."""
    limits = {
        application.customer_class: dict(
            TimeLimit.objects.filter(customer_class=application.customer_class).values_list(
                "clock", "working_days"
            )
        )
    }
    log = StageTransition.objects.filter(
        application=application, transition__in=["suspend", "resume", "cancel"]
    ).order_by("at", "id")
    energized_at = application.energized_at
    return time_limit_readings(
        application,
        work=clock_work(application.activities.all()),
        log=log,
        limits=limits,
        today=today,
        energized_on=timezone.localdate(energized_at) if energized_at is not None else None,
        working_days=schedule_selectors.working_calendar().working_days_in,
    )


def whole_process_limit(*, customer_class: str) -> int | None:
    """Return the whole-process commitment of a customer class in working days, if any."""
    limit = TimeLimit.objects.filter(customer_class=customer_class, clock=WHOLE_PROCESS).first()
    return limit.working_days if limit is not None else None


def committed_duration(*, plan, limit: int | None) -> int:
    """Return Tp: the whole-process commitment plus the customer's own planned time and the
    wait for the weekly review meeting.

    The commitment counts utility-side working days only; the customer's design and
    construction on the critical path of ``plan`` (a baseline schedule) come on top of it,
    and so does the wait of a review meeting held on its weekday: the committed date is
    one the plan can keep whatever the weekday of acceptance. The time-limit clocks still
    count that wait as utility-side time. ``limit`` is the customer class's
    :func:`whole_process_limit` (None: Tp is the plan's own Tc).
    """
    if limit is None:
        return plan.duration
    path = plan.critical.first(1)[0]
    customer_days = sum(
        plan.durations[code] for code in path if plan.compiled.spec(code).party == Party.CUSTOMER
    )
    meeting_wait = sum(plan.activities[code].wait for code in path)
    return limit + customer_days + meeting_wait


# --- Acceptance: the plan and the one-time notice of a new application ---------------------


@dataclass(frozen=True)
class AcceptancePlan:
    """What acceptance on ``accepted_on`` would plan: the template, day 0, the plan (a
    baseline schedule), Tp and the committed and forecast finish dates."""

    template: object
    start_date: date
    meeting_weekday: int | None
    plan: object
    committed_duration: int
    committed_finish_date: date
    forecast_finish_date: date


def acceptance_plan(
    *, template, customer_class: str, accepted_on: date, meeting_weekday: int | None
) -> AcceptancePlan:
    """Plan an application of ``template`` accepted on ``accepted_on``, as acceptance does."""
    calendar = schedule_selectors.working_calendar()
    start_date = calendar.project_day_zero(accepted_on)
    # The plan holds its review meetings on the meeting weekday, counted from day 0.
    meetings = schedule_selectors.meeting_days(calendar, start_date, meeting_weekday)
    plan = schedule_selectors.template_compile(template).evaluate(**meetings)
    committed = committed_duration(
        plan=plan, limit=whole_process_limit(customer_class=customer_class)
    )
    return AcceptancePlan(
        template=template,
        start_date=start_date,
        meeting_weekday=meeting_weekday,
        plan=plan,
        committed_duration=committed,
        committed_finish_date=calendar.offset_to_date(start_date, max(0, committed - 1)),
        forecast_finish_date=calendar.offset_to_date(start_date, max(0, plan.duration - 1)),
    )


def acceptance_regions(user):
    """Return the service regions a person may accept new customers in."""
    if guards.is_supervisor(user):
        return Region.objects.order_by("code")
    profile = getattr(user, "account_manager", None)
    if profile is None:
        return Region.objects.none()
    return profile.regions.order_by("code")


@dataclass(frozen=True)
class AcceptancePreview:
    """What the acceptance page shows before saving: the customer the credit code names
    (or why it cannot be used), the plan and the one-time notice."""

    customer: Customer | None = None
    customer_message: str = ""
    is_new_customer: bool = False
    plan: AcceptancePlan | None = None
    plan_message: str = ""
    checklist: list = field(default_factory=list)


def acceptance_preview(user, data, *, today: date | None = None) -> AcceptancePreview:
    """Read the credit code, business type, customer class and voltage of a half-filled
    acceptance form (``data``: a mapping) and say what acceptance today would give."""
    today = today or timezone.localdate()
    result = {}
    code = str(data.get("credit_code", "")).strip().upper()
    if code:
        try:
            validate_credit_code(code)
        except ValidationError as exc:
            result["customer_message"] = exc.messages[0]
        else:
            customer = visible_customers(user).filter(credit_code=code).first()
            if customer is not None:
                result["customer"] = customer
            elif not customer_exists(code):
                result["is_new_customer"] = True
            else:
                result["customer_message"] = _(
                    "This credit code belongs to a customer of a region you do not serve; "
                    "ask an account manager of that region or a supervisor."
                )
    business_type = data.get("business_type", "")
    customer_class = data.get("customer_class", "")
    voltage_class = data.get("voltage_class", "")
    if business_type and customer_class and voltage_class:
        template = schedule_selectors.template_for(
            business_type=business_type,
            customer_class=customer_class,
            voltage_class=voltage_class,
        )
        if template is None:
            result["plan_message"] = _(
                "No network template plans this business type for this customer class at "
                "this voltage."
            )
        else:
            result["plan"] = acceptance_plan(
                template=template,
                customer_class=customer_class,
                accepted_on=today,
                meeting_weekday=settings.REVIEW_MEETING_WEEKDAY,
            )
            result["checklist"] = [
                {
                    **item,
                    "label": DocumentKind(item["kind"]).label,
                    "stage_label": ApplicationState(item["stage"]).label,
                }
                for item in document_checklist(
                    business_type=business_type, customer_class=customer_class
                )
            ]
    return AcceptancePreview(**result)


def customer_exists(credit_code: str) -> bool:
    return Customer.objects.filter(credit_code=credit_code).exists()


def document_checklist(*, business_type: str, customer_class: str) -> list[dict]:
    """Return the one-time notice (一次性告知) of a new application: the documents it must
    hand in, in order, each with the stage it is needed by, as the application stores it."""
    return [
        {
            "kind": row.kind,
            "stage": row.stage,
            "required": row.is_required,
            "note": row.note,
        }
        for row in DocumentRequirement.objects.filter(is_active=True)
        if row.applies_to(business_type=business_type, customer_class=customer_class)
    ]


@dataclass(frozen=True)
class ChecklistRow:
    kind: str
    label: str
    stage: str
    stage_label: str
    required: bool
    note: str
    documents: list
    is_due: bool

    @property
    def is_in(self) -> bool:
        return bool(self.documents)


def checklist_rows(application: Application, documents) -> list[ChecklistRow]:
    """Return the application's one-time notice with what has been handed in against each
    line; a required line of the current or an earlier stage that is not in is due."""
    held = defaultdict(list)
    for document in documents:
        if not document.is_withdrawn:
            held[document.kind].append(document)
    order = {state: i for i, state in enumerate(STAGE_ORDER)}
    current = order.get(application.state, len(STAGE_ORDER))
    rows = []
    for item in application.document_checklist or []:
        kind, stage = item["kind"], item["stage"]
        rows.append(
            ChecklistRow(
                kind=kind,
                label=str(DocumentKind(kind).label),
                stage=stage,
                stage_label=str(ApplicationState(stage).label),
                required=bool(item.get("required")),
                note=item.get("note", ""),
                documents=held.get(kind, []),
                is_due=bool(item.get("required"))
                and not held.get(kind)
                and order.get(stage, 0) <= current,
            )
        )
    return rows


@dataclass(frozen=True)
class AcceptanceReceipt:
    application: Application
    checklist: list
    whole_process_limit: int | None


def acceptance_receipt(application_id: int) -> AcceptanceReceipt:
    """Return what the receipt of acceptance prints: the application, who accepted it and
    answers for it, the commitment and the one-time notice with what is already in."""
    application = (
        Application.objects.select_related(
            "customer", "region", "account_manager", "created_by", "template"
        )
        .prefetch_related("documents")
        .get(pk=application_id)
    )
    return AcceptanceReceipt(
        application=application,
        checklist=checklist_rows(application, application.documents.all()),
        whole_process_limit=whole_process_limit(customer_class=application.customer_class),
    )


# --- Filters shared by the workspace and the API ------------------------------------------


def open_deviations_of(severity: str):
    """Return the unresolved deviations of one severity of the outer query's application."""
    return Deviation.objects.filter(application=OuterRef("pk"), severity=severity).exclude(
        status=Deviation.Status.RESOLVED
    )


def with_open_deviation(queryset, severity: str):
    """Keep the applications with an unresolved deviation of ``severity``."""
    return queryset.filter(Exists(open_deviations_of(severity)))


def with_unfinished_work_of(queryset, department_id: int):
    """Keep the applications with unfinished work owned by the department."""
    return queryset.filter(
        Exists(
            Activity.objects.filter(
                application=OuterRef("pk"),
                department_id=department_id,
                is_dummy=False,
                actual_finish__isnull=True,
            )
        )
    )


# --- REST API reads -------------------------------------------------------------------------


# What the API joins to show an application: its risk forecast's chance and P80 too, the
# rest of it (the curve, the activities' figures) left unread.
API_JOINS = ("customer", "region", "account_manager", "risk")
API_UNREAD = ("risk__curve", "risk__activities")


def api_applications(user):
    """Return the applications ``user`` may read with what the API joins; the deviation
    flags are set by :func:`flag_open_deviations` on the rows shown (a page, one
    application).

    As EXISTS annotations of the list's query, PostgreSQL hashed every unresolved
    deviation of the province twice for each page (9 ms at 100,000 applications, growing
    with them)."""
    return visible_applications(user).select_related(*API_JOINS).defer(*API_UNREAD)


def flag_open_deviations(applications: list) -> list:
    """Set ``open_red_deviation`` and ``open_amber_deviation`` on these applications (a
    page): one query over their keys."""
    found = set(
        Deviation.objects.filter(
            application_id__in=[a.pk for a in applications],
            severity__in=[Severity.RED, Severity.AMBER],
        )
        .exclude(status=Deviation.Status.RESOLVED)
        .order_by()
        .values_list("application_id", "severity")
    )
    for application in applications:
        application.open_red_deviation = (application.pk, Severity.RED) in found
        application.open_amber_deviation = (application.pk, Severity.AMBER) in found
    return applications


def api_application(application_id: int):
    """Return one application with what the API joins, whoever may read it (or None)."""
    return (
        Application.objects.select_related(*API_JOINS)
        .defer(*API_UNREAD)
        .filter(pk=application_id)
        .first()
    )


# The fields of a customer only those who serve it read (see ``visible_customers``).
CUSTOMER_CONTACT_FIELDS = ("contact_name", "contact_phone")


def visible_customers(user):
    """Return the customers a user may read, each annotated ``shows_contact``: whether the
    user may also read its contact person and phone (``CUSTOMER_CONTACT_FIELDS``).

    Who reads a customer: those who may read one of its applications, and an account
    manager every customer of the regions they serve (they accept its next application).
    Who reads its contact details: those who serve it — supervisors and administrators,
    the account managers of its applications and of its region. Department staff read the
    customer for their work (name, credit code, industry, region and the supply address
    they survey, inspect and meter at) but not whom to call: the one-to-one service has
    the customer reached through its account manager. The API, the acceptance page and
    the service's scope check all read customers through this function.
    """
    qs = Customer.objects.select_related("region")
    if user.has_perm("accounts.supervise_applications"):
        return qs.annotate(shows_contact=Value(True, output_field=BooleanField()))
    scope = Exists(visible_applications(user).filter(customer=OuterRef("pk")))
    profile = getattr(user, "account_manager", None)
    if profile is not None and user.has_perm("accounts.handle_applications"):
        serves = Exists(
            Application.objects.filter(customer=OuterRef("pk"), account_manager=user)
        ) | Q(region__in=profile.regions.all())
        return qs.filter(scope | serves).annotate(
            shows_contact=ExpressionWrapper(serves, output_field=BooleanField())
        )
    return qs.filter(scope).annotate(shows_contact=Value(False, output_field=BooleanField()))


# --- Workspace: the applications a person answers for (the page at /) ----------------------

WORKSPACE_PAGE_SIZE = 25
# The state filter's value that shows every state (its default shows the active ones).
ALL_STATES = "all"


@dataclass
class WorkspaceRow:
    """One application as the workspace lists it."""

    application: Application
    stage_done: int
    stage_total: int
    time_limit: str
    deviations: dict[str, int]

    @property
    def stage_percent(self) -> int:
        return round(100 * self.stage_done / self.stage_total)


# What a row of a list of applications (the workspace, the dashboard's deviations) never
# shows: the JSON details (the crews' waits and holds, the document checklist), otherwise
# decoded for every row. (The risk forecast's curve and figures are a table of their own.)
APPLICATION_DETAILS = (
    "document_checklist",
    "capacity_waits",
    "capacity_holds",
)


def _open_deviation_counts():
    """Return annotations: the open (unresolved) deviations of each severity, per row."""
    annotations = {}
    for severity in Severity.values:
        counted = (
            open_deviations_of(severity)
            .order_by()
            .values("application")
            .annotate(n=Count("pk"))
            .values("n")
        )
        annotations[f"open_{severity}"] = Subquery(counted, output_field=IntegerField())
    return annotations


def workspace_applications(
    user,
    *,
    state: str = "",
    severity: str = "",
    time_limit: str = "",
    search: str = "",
    mine_only: bool | None = None,
):
    """Return the workspace's applications of ``user``, filtered, newest accepted first.

    An account manager sees the applications they hold; a supervisor every application;
    department staff those with work for their department (``visible_applications``).
    ``state``: a state, ``ALL_STATES``, or empty for the active ones; ``severity``: only
    those with an open deviation of it; ``time_limit``: only those whose worst clock is
    in that status (``time_limit_status``); ``search``: part of the number, the customer's
    name or its credit code. The open deviations of each severity are annotated
    (``open_red`` …) as subqueries, so a page of rows is one query.
    """
    if mine_only is None:
        mine_only = user.has_perm("accounts.handle_applications") and not user.has_perm(
            "accounts.supervise_applications"
        )
    if mine_only:
        # Visible by definition: without visible_applications' DISTINCT over the region.
        qs = Application.objects.filter(account_manager=user)
    else:
        qs = visible_applications(user)
    if state == ALL_STATES:
        pass
    elif state:
        qs = qs.filter(state=state)
    else:
        qs = qs.filter(state__in=ACTIVE_STATES)
    if severity:
        qs = with_open_deviation(qs, severity)
    qs = search_applications(qs, search)
    if time_limit:
        qs = qs.filter(time_limit_status=time_limit)
    return (
        qs.select_related("customer", "account_manager")
        .defer(*APPLICATION_DETAILS)
        .annotate(**_open_deviation_counts())
        .order_by("-accepted_at", "-id")
    )


def stage_progress(application: Application) -> tuple[int, int]:
    """Return (stages finished, stages in all) as the stepper draws them: of the eight
    steps of ``STAGE_ORDER``, the ones marked done (a closed application has all eight)."""
    steps = stage_steps(application)
    return sum(step.status == "done" for step in steps), len(steps)


def workspace_rows(applications) -> list[WorkspaceRow]:
    """Return the rows of one page of ``workspace_applications`` with their badges."""
    rows = []
    for application in applications:
        done, total = stage_progress(application)
        rows.append(
            WorkspaceRow(
                application=application,
                stage_done=done,
                stage_total=total,
                time_limit=application.time_limit_status,
                deviations={
                    severity: getattr(application, f"open_{severity}") or 0
                    for severity in Severity.values
                },
            )
        )
    return rows


# --- The application page ---------------------------------------------------------------------


@dataclass
class StageStep:
    code: str
    label: str
    status: str  # "done", "current" or "todo"


@dataclass
class ApplicationPage:
    """Everything the application page shows, read in a constant number of queries."""

    application: Application
    activities: list  # the real activities, each with ``may_record`` set for the reader
    stages: list[StageStep]
    transitions: list[TransitionSpec]
    deviations: list  # not resolved, each with ``may_answer`` and its ``proposals``
    documents: list
    checklist: list
    timeline: list[StageTransition]
    assignments: list  # the account-manager changes, oldest first
    review: object | None
    progress_open: bool
    may_accept_proposals: bool
    may_replan: bool
    baseline_version: int
    may_upload: bool
    may_review: bool
    # The drawings, made when first asked for: the page serves them from its cache under
    # ``plan_key``, a digest of all they are drawn from, and then never draws them.
    draw: Callable[[], PlanDrawings]
    plan_key: str
    today: date
    complaints: list = field(default_factory=list)
    may_complain: bool = False
    follow_ups: list = field(default_factory=list)
    network_view: str = "logic"
    zoom: str | None = None
    history: list = field(default_factory=list)
    # The resolved deviations, the archived ones too, the last resolved first: the
    # HISTORY_SHOWN last unless all were asked for; ``more_resolved`` when more wait.
    deviation_history: list = field(default_factory=list)
    more_resolved: bool = False
    all_resolved: bool = False
    # The risk forecast of the last analysis, while the work is in progress.
    risk: RiskCard | None = None

    @functools.cached_property
    def drawings(self) -> PlanDrawings:
        return self.draw()

    @property
    def gantt(self):
        return self.drawings.gantt

    @property
    def network(self):
        return self.drawings.network

    @property
    def network_error(self) -> str | None:
        return self.drawings.network_error


def risk_level(on_time: float | None) -> str:
    """How a probability of keeping the commitment reads: ``ok``, ``tight`` (at risk) or
    ``late`` (likely late); ``ok`` without a commitment."""
    if on_time is None or on_time >= settings.RISK_AT_RISK_BELOW:
        return "ok"
    return "tight" if on_time >= settings.RISK_LIKELY_LATE_BELOW else "late"


@dataclass(frozen=True)
class RiskCard:
    """The risk forecast an application page shows (from its stored analysis)."""

    as_of: date
    on_time: float | None
    level: str
    p50: date
    p80: date
    p95: date
    driver: Activity | None
    chart: charts.SCurve


def risk_card(application: Application, by_code: dict) -> RiskCard | None:
    """Return the page's risk card of ``application`` (its activities ``by_code``), or None
    when there is none to show: no analysis yet, or the work is over."""
    stored = schedule_selectors.risk_of(application)
    if stored is None or application.state not in WORK_STATES:
        return None
    points = [(date.fromisoformat(day).toordinal(), share) for day, share in stored.curve]
    committed = application.committed_finish_date
    marked = {stored.p50, stored.p95}
    marked.add(committed)
    return RiskCard(
        as_of=stored.as_of,
        on_time=stored.on_time,
        level=risk_level(stored.on_time),
        p50=stored.p50,
        p80=stored.p80,
        p95=stored.p95,
        driver=by_code.get(stored.driver),
        chart=charts.s_curve(
            points,
            committed=committed.toordinal() if committed else None,
            labels={day.toordinal(): f"{day.month}/{day.day}" for day in marked if day},
        ),
    )


@dataclass(frozen=True)
class HistoryRow:
    """One recorded change shown under 变更记录: what changed, by whom, before → after."""

    record: ChangeRecord
    subject: str
    fields: list


HISTORY_SHOWN = 30


def change_history(application: Application, activities) -> list[HistoryRow]:
    """Return the latest recorded changes of the application, its customer and its
    activities (one query), newest first."""
    by_id = {str(a.pk): a for a in activities}
    records = (
        ChangeRecord.objects.filter(
            Q(table_name=Application._meta.db_table, row_id=str(application.pk))
            | Q(table_name=Customer._meta.db_table, row_id=str(application.customer_id))
            | Q(table_name=Activity._meta.db_table, row_id__in=list(by_id))
        )
        .select_related("actor")
        .order_by("-at", "-id")[:HISTORY_SHOWN]
    )
    rows = []
    for record in records:
        if record.table_name == Application._meta.db_table:
            subject = _("Application")
        elif record.table_name == Customer._meta.db_table:
            subject = _("Customer")
        else:
            activity = by_id[record.row_id]
            subject = f"{activity.code} {activity.name}".strip()
        rows.append(HistoryRow(record=record, subject=subject, fields=audit.changed_fields(record)))
    return rows


def stage_steps(application: Application) -> list[StageStep]:
    """Return the eight steps of the stepper, each done, current or still to do."""
    current = application.state
    if current == ApplicationState.SUSPENDED:
        current = application.suspended_from
    elif current == ApplicationState.CANCELLED:
        current = None
    codes = [str(code) for code in STAGE_ORDER]
    position = codes.index(current) if current in codes else -1
    steps = []
    for i, code in enumerate(codes):
        if current == ApplicationState.CLOSED or i < position:
            status = "done"
        elif i == position:
            status = "current"
        else:
            status = "todo"
        steps.append(StageStep(code=code, label=str(ApplicationState(code).label), status=status))
    return steps


def _name(activity) -> str:
    """Return an activity's name in the reader's language."""
    if (get_language() or "").startswith("zh"):
        return activity.name
    return activity.name_en or activity.name


def _network_arcs(activities, calendar):
    """Return the arcs of the double-code diagram, the critical path marked."""
    real = [a for a in activities if not a.is_dummy]
    if all(a.tail is None for a in activities):
        return aon_arcs(
            {
                "code": a.code,
                "name": _name(a),
                "duration": a.duration,
                "predecessors": [p if isinstance(p, str) else p["id"] for p in a.predecessors],
                "critical": a.is_critical,
            }
            for a in real
        )
    # A dummy is critical when it joins a critical activity's finish to the start of a
    # critical activity that begins on the next working day.
    finish_into: dict[int, date] = {}
    start_out: dict[int, date] = {}
    for a in real:
        if a.is_critical and a.forecast_finish and a.forecast_start:
            finish_into[a.head] = max(finish_into.get(a.head, a.forecast_finish), a.forecast_finish)
            start_out[a.tail] = min(start_out.get(a.tail, a.forecast_start), a.forecast_start)
    # Drawn by Fulkerson's rule: every arrow from a lower event number to a higher one.
    numbers = fulkerson_numbers((a.tail, a.head) for a in activities)
    arcs = []
    for a in activities:
        if a.is_dummy:
            critical = (
                a.tail in finish_into
                and a.head in start_out
                and start_out[a.head] <= calendar.next_working_day(finish_into[a.tail])
            )
        else:
            critical = a.is_critical
        arcs.append(
            Arc(
                tail=numbers[a.tail],
                head=numbers[a.head],
                code=a.code,
                name=_name(a),
                duration=a.duration,
                dummy=a.is_dummy,
                critical=critical,
            )
        )
    return arcs


def _percent(activity, calendar, today: date) -> int:
    """Return an activity's percent complete: the working days since its actual start
    (today not counted) over those and the days it still needs (recorded, or up to its
    forecast finish)."""
    if activity.actual_finish or not activity.actual_start:
        return percent_complete(finished=activity.actual_finish is not None, elapsed=0, remaining=0)
    elapsed = calendar.working_days_in(activity.actual_start, today - timedelta(days=1))
    remaining = activity.remaining
    if remaining is None and activity.forecast_finish:
        remaining = calendar.working_days_in(today, activity.forecast_finish)
    return percent_complete(finished=False, elapsed=elapsed, remaining=remaining)


def _gantt(application: Application, activities, calendar, today: date, zoom: str | None = None):
    tasks = []
    for a in activities:
        float_finish = None
        if a.forecast_finish and a.forecast_tf and a.forecast_tf > 0 and not a.actual_finish:
            float_finish = calendar.add_working_days(a.forecast_finish, a.forecast_tf)
        tasks.append(
            GanttTask(
                key=str(a.pk),
                code=a.code,
                name=_name(a),
                baseline_start=a.baseline_start,
                baseline_finish=a.baseline_finish,
                forecast_start=a.actual_start or a.forecast_start,
                forecast_finish=a.actual_finish or a.forecast_finish,
                float_finish=float_finish,
                critical=a.is_critical and not a.actual_finish,
                finished=a.actual_finish is not None,
                customer=a.party == Party.CUSTOMER,
                milestone=a.duration == 0,
                percent=_percent(a, calendar, today),
                started=a.actual_start is not None,
            )
        )
    return gantt_layout(
        tasks,
        # A finished or cancelled application's chart ends with its work, not at today.
        today=today if application.is_active else None,
        commitment=application.committed_finish_date,
        is_working_day=calendar.is_working_day,
        zoom=zoom,
    )


@dataclass
class PlanDrawings:
    """The drawings of an application's plan: the Gantt chart and the network diagram,
    logic or time-scaled."""

    gantt: object
    network: object  # a NetworkDiagram or a TimeScaledDiagram (``network_view``)
    network_error: str | None
    network_view: str  # "logic" or "time"
    zoom: str | None  # "week", "month", or None for a chart that fits the page


NETWORK_VIEWS = ("logic", "time")
GANTT_ZOOMS = ("week", "month")


def drawing_choices(network_view: str, zoom: str | None) -> tuple[str, str | None]:
    """Return the view of the network and the Gantt chart's zoom asked for, or their
    defaults where the request named none known."""
    return (
        network_view if network_view in NETWORK_VIEWS else "logic",
        zoom if zoom in GANTT_ZOOMS else None,
    )


def plan_drawings(
    application: Application,
    all_activities: list,
    *,
    today: date,
    network_view: str = "logic",
    zoom: str | None = None,
) -> PlanDrawings:
    """Return the drawings of the plan of ``application`` (its activities, dummies with
    them, already read): no query beyond the working calendar."""
    network_view, zoom = drawing_choices(network_view, zoom)
    calendar = schedule_selectors.working_calendar()
    activities = [a for a in all_activities if not a.is_dummy]
    network_error = None
    try:
        arcs = _network_arcs(all_activities, calendar)
        if network_view == "time":
            day_zero = min(
                (a.baseline_start for a in activities if a.baseline_es == 0 and a.baseline_start),
                default=None,
            )
            network = time_scaled_layout(
                arcs,
                date_of=(lambda n: calendar.offset_to_date(day_zero, n)) if day_zero else None,
            )
        else:
            network = network_layout(arcs)
    except DiagramError as exc:
        network, network_error = None, str(exc)
    return PlanDrawings(
        gantt=_gantt(application, activities, calendar, today, zoom),
        network=network,
        network_error=network_error,
        network_view=network_view,
        zoom=zoom,
    )


def open_follow_ups(user, *, today: date | None = None) -> list:
    """Return the open follow-up items ``user`` sees, due first, each with ``overdue``:
    a supervisor all of them, a department head those owned in the department, anyone
    else their own. One query."""
    today = today or timezone.localdate()
    rows = FollowUp.objects.filter(status=FollowUp.Status.OPEN).select_related(
        "owner", "review__application"
    )
    if not user.has_perm("accounts.supervise_applications"):
        scope = Q(owner=user)
        if user.has_perm("accounts.lead_department") and user.department_id:
            scope |= Q(owner__department_id=user.department_id)
        rows = rows.filter(scope)
    items = list(rows.order_by("due_on", "id"))
    for item in items:
        item.overdue = item.due_on < today
    return items


def _note_meeting_waits(activities, by_code, compiled) -> None:
    """Set ``meeting_wait`` on each review meeting not yet started: the working days
    between its predecessors' (forecast) finish and the meeting day it is held on."""
    calendar = schedule_selectors.working_calendar()
    for activity in activities:
        if activity.kind != "meeting" or activity.actual_start or not activity.forecast_start:
            continue
        finishes = [
            by_code[p.id].actual_finish or by_code[p.id].forecast_finish
            for p in compiled.predecessors(activity.code)
            if p.id in by_code
        ]
        if finishes and all(finishes):
            ready = calendar.next_working_day(max(finishes))
            activity.meeting_wait = max(
                0, calendar.working_days_between(ready, activity.forecast_start)
            )


def application_page(
    number: str,
    user,
    *,
    today: date | None = None,
    network_view: str = "logic",
    zoom: str | None = None,
    all_resolved: bool = False,
) -> ApplicationPage | None:
    """Return the page of application ``number``, or None when ``user`` may not read it.

    ``network_view`` and ``zoom`` choose the drawings (``plan_drawings``); the page lists
    the ``HISTORY_SHOWN`` last resolved deviations, or all of them with ``all_resolved``
    (an application worked on for months gathers many)."""
    today = today or timezone.localdate()
    application = (
        visible_applications(user)
        .select_related("customer", "region", "account_manager", "template", "review", "risk")
        .prefetch_related(
            Prefetch("activities", queryset=schedule_selectors.activities_with_departments())
        )
        .annotate(
            baseline_version=Subquery(
                Baseline.objects.filter(application=OuterRef("pk"))
                .order_by("-version")
                .values("version")[:1]
            )
        )
        .filter(number=number)
        .first()
    )
    if application is None:
        return None
    all_activities = list(application.activities.all())
    # All the drawings are made from, taken before anything of the reader is set on the
    # rows: the application with its activities, the working days and the day.
    plan_key = fingerprint(
        application, all_activities, schedule_selectors.working_calendar_digest(), today
    )
    activities = [a for a in all_activities if not a.is_dummy]
    progress_open = application.state in WORK_STATES
    by_code = {a.code: a for a in activities}
    try:
        compiled = schedule_selectors.compiled_for(all_activities)
    except NetworkError:
        compiled = None
    for activity in activities:
        activity.may_record = progress_open and guards.may_record_progress(
            user, application, activity
        )
        # Offered for progress: work under way, or work whose predecessors have finished.
        ready = compiled is None or all(
            by_code[p.id].actual_finish for p in compiled.predecessors(activity.code)
        )
        activity.may_record_now = (
            activity.may_record
            and activity.actual_finish is None
            and (activity.actual_start is not None or ready)
        )
    if compiled is not None and application.plan_meeting_weekday is not None:
        _note_meeting_waits(activities, by_code, compiled)
    # The risk forecast's criticality index beside each activity (None before one).
    stored_risk = schedule_selectors.risk_of(application)
    figures = stored_risk.activities if stored_risk else {}
    for activity in activities:
        activity.criticality = (figures.get(activity.code) or [None])[0]
    deviations = list(
        Deviation.objects.filter(application=application)
        .exclude(status=Deviation.Status.RESOLVED)
        .select_related(
            "activity", "department", "acknowledged_by", "cause", "responsible_department"
        )
        .prefetch_related(
            Prefetch(
                "proposals",
                # Superseded ones are history (the API keeps them): the page lists what
                # can be decided now and what was decided.
                queryset=Proposal.objects.exclude(status=Proposal.Status.SUPERSEDED).select_related(
                    "decided_by"
                ),
                to_attr="proposal_list",
            )
        )
        .order_by("-detected_at", "-id")
    )
    for deviation in deviations:
        deviation.application = application
        deviation.may_answer = guards.may_answer_deviation(user, deviation)
        deviation.action_overdue = deviation.action_due is not None and deviation.action_due < today
        for proposal in deviation.proposal_list:
            proposal.text = explanations.proposal_text(proposal, by_code)
    # Read once: the page lists them and the stage guards check the one-time notice.
    prefetch_related_objects(
        [application],
        Prefetch(
            "documents",
            queryset=Document.objects.select_related("uploaded_by").order_by("-uploaded_at", "-id"),
        ),
    )
    documents = [d for d in application.documents.all() if not d.is_withdrawn]
    timeline = list(application.transitions.select_related("by").order_by("at", "id"))
    assignments = list(
        application.assignment_changes.select_related("from_manager", "to_manager", "by")
    )
    review = getattr(application, "review", None)
    complaints = list(
        application.complaints.select_related("handled_by", "department", "recorded_by")
    )
    follow_ups = (
        list(review.follow_ups.select_related("owner", "closed_by").order_by("due_on", "id"))
        if review is not None
        else []
    )
    for item in follow_ups:
        item.overdue = item.status == FollowUp.Status.OPEN and item.due_on < today
    network_view, zoom = drawing_choices(network_view, zoom)
    may_answer = guards.manager_or_supervisor(application, user)
    # One more than shown: whether more wait.
    resolved = schedule_selectors.deviation_history(
        [application.pk], limit=None if all_resolved else HISTORY_SHOWN + 1
    )
    return ApplicationPage(
        application=application,
        activities=activities,
        stages=stage_steps(application),
        transitions=application_transitions(application, user),
        deviations=deviations,
        documents=documents,
        checklist=checklist_rows(application, documents),
        timeline=timeline,
        assignments=assignments,
        review=review,
        progress_open=progress_open,
        may_accept_proposals=guards.is_supervisor(user),
        may_replan=progress_open and guards.is_supervisor(user),
        baseline_version=application.baseline_version,
        may_upload=may_answer or user.has_perm("accounts.record_department_progress"),
        may_review=(
            may_answer and application.state == ApplicationState.ENERGIZED and review is None
        ),
        draw=functools.partial(
            plan_drawings,
            application,
            all_activities,
            today=today,
            network_view=network_view,
            zoom=zoom,
        ),
        plan_key=plan_key,
        network_view=network_view,
        zoom=zoom,
        today=today,
        complaints=complaints,
        may_complain=may_answer,
        follow_ups=follow_ups,
        risk=risk_card(application, by_code),
        history=change_history(application, all_activities),
        deviation_history=resolved if all_resolved else resolved[:HISTORY_SHOWN],
        more_resolved=not all_resolved and len(resolved) > HISTORY_SHOWN,
        all_resolved=all_resolved,
    )


@dataclass
class PlanPrintPage:
    """The plan of an application as printed: its activities and both drawings."""

    application: Application
    activities: list  # the real activities, in the network's order
    drawings: PlanDrawings
    today: date


def application_plan(
    number: str,
    user,
    *,
    today: date | None = None,
    network_view: str = "logic",
    zoom: str | None = None,
) -> PlanPrintPage | None:
    """Return the plan of application ``number`` for printing, or None when ``user`` may
    not read it (the application page's rule)."""
    today = today or timezone.localdate()
    application = (
        visible_applications(user)
        .select_related("customer", "region", "account_manager")
        .prefetch_related(
            Prefetch(
                "activities",
                queryset=Activity.objects.select_related("department").order_by("sort_order", "id"),
            )
        )
        .filter(number=number)
        .first()
    )
    if application is None:
        return None
    all_activities = list(application.activities.all())
    return PlanPrintPage(
        application=application,
        activities=[a for a in all_activities if not a.is_dummy],
        drawings=plan_drawings(
            application, all_activities, today=today, network_view=network_view, zoom=zoom
        ),
        today=today,
    )


@dataclass
class ReplanPage:
    """What the re-plan form shows: the plan now, its version and the departments."""

    application: Application
    activities: list  # the real activities, in the network's order
    departments: list
    baseline: object | None  # the latest baseline


def replan_page(application_id: int) -> ReplanPage:
    """Return the application with its real activities and the latest baseline."""
    application = Application.objects.select_related("customer").get(pk=application_id)
    activities = list(
        schedule_selectors.activities_with_departments().filter(
            application=application, is_dummy=False
        )
    )
    return ReplanPage(
        application=application,
        activities=activities,
        departments=list(Department.objects.filter(is_active=True)),
        baseline=application.baselines.order_by("-version").first(),
    )


@dataclass
class PlanVersions:
    """An application's plan versions, and the comparison of two of them."""

    application: Application
    baselines: list  # each with ``finish``: the last working day of its Tc
    a: object | None
    b: object | None
    comparison: plandiff.PlanComparison | None


def plan_versions(
    application_id: int, *, a: int | None = None, b: int | None = None
) -> PlanVersions:
    """Return the plan versions of an application, and versions ``a`` and ``b`` compared
    (by default the one before the latest and the latest).

    Raise ``InvalidInput`` naming ``a`` or ``b`` for a version the application lacks.
    """
    application = Application.objects.select_related("customer").get(pk=application_id)
    baselines = list(application.baselines.select_related("approved_by").order_by("version"))
    calendar = schedule_selectors.working_calendar()
    day0 = calendar.project_day_zero(application.start_date)
    for row in baselines:
        row.finish = schedule_selectors.finish_date(calendar, day0, 0, row.duration)
    by_version = {row.version: row for row in baselines}
    errors = {}
    for name, version in (("a", a), ("b", b)):
        if version is not None and version not in by_version:
            errors[name] = [_("There is no plan version %(version)s.") % {"version": version}]
    if errors:
        raise InvalidInput(errors)
    latest = baselines[-1].version if baselines else None
    b_row = by_version.get(b if b is not None else latest)
    a_row = by_version.get(a if a is not None else (b_row.version - 1 if b_row else None))
    a_row = a_row or b_row  # a single version compares with itself: nothing moved
    comparison = None
    if a_row is not None and b_row is not None:
        comparison = plandiff.compare(a_row.network, a_row.schedule, b_row.network, b_row.schedule)
    return PlanVersions(
        application=application, baselines=baselines, a=a_row, b=b_row, comparison=comparison
    )
