"""Every write of the applications app, and the changes to an application's plan.

Each service takes keyword arguments and the acting user (``by``), checks permission and
input before it changes anything, and does its work in one database transaction. Errors are
the domain errors of ``yekuo.errors``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import date, datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from django_fsm import ConcurrentTransition

from accounts.models import AccountManagerProfile, Department, Region, User
from accounts.selectors import department_staff, supervisors
from accounts.services import notification_send_many
from integration.models import EventType
from scheduling import deviation as corrective
from scheduling import explanations
from scheduling import selectors as schedule_selectors
from scheduling import services as schedule_services
from scheduling.cpm import NetworkError
from scheduling.messages import describe_network_error
from scheduling.models import (
    Activity,
    Baseline,
    Deviation,
    DeviationCause,
    Proposal,
    ResponsibleParty,
)
from yekuo import bulk, plausible
from yekuo.celery import enqueue_on_commit
from yekuo.dates import day_text
from yekuo.domain import BusinessType, CustomerClass, Milestone, VoltageClass
from yekuo.errors import (
    DomainError,
    InvalidInput,
    NotPermitted,
    StaleVersion,
    TransitionNotAllowed,
)

from . import assignment, capacity, customer_links, dashboard_counts, guards, outbound, selectors
from .dashboard_counts import counting, of_application, of_deviation
from .models import (
    TRANSITIONS,
    WORK_STATES,
    Application,
    ApplicationSequence,
    ApplicationState,
    AssignmentChange,
    CapacityMeasure,
    Complaint,
    Customer,
    Document,
    DocumentKind,
    FollowUp,
    PostCompletionReview,
    StageTransition,
    SupplyType,
)
from .sweep import application_reanalyse
from .tasks import assign_account_manager, reanalyse_application

logger = logging.getLogger(__name__)

# Voltage classes a customer class may be supplied at.
OFFERED_VOLTAGES = {
    CustomerClass.RESIDENTIAL: [VoltageClass.LV_0_4],
    CustomerClass.LV_NON_RESIDENTIAL: [VoltageClass.LV_0_4],
    CustomerClass.HV_SINGLE: [
        VoltageClass.KV_10,
        VoltageClass.KV_35,
        VoltageClass.KV_110,
        VoltageClass.KV_220,
    ],
    CustomerClass.HV_DUAL: [
        VoltageClass.KV_10,
        VoltageClass.KV_35,
        VoltageClass.KV_110,
        VoltageClass.KV_220,
    ],
}


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def _moment(now: datetime | None, today: date | None) -> datetime:
    """Return the moment a change is analysed at: ``now``, or noon of ``today`` when only
    the day is given (the analysis reads the day; the moment stamps its rows)."""
    if now is not None or today is None:
        return _now(now)
    return datetime.combine(today, time(12), tzinfo=timezone.get_current_timezone())


# --- Customers and applications -------------------------------------------------------------


def _existing_customer(customer: dict | Customer) -> Customer | None:
    """Return the stored customer the input names (itself, or by its credit code)."""
    if isinstance(customer, Customer):
        return customer
    code = str((customer or {}).get("credit_code", "")).strip().upper()
    return Customer.objects.filter(credit_code=code).first() if code else None


def _customer_region(data: dict):
    region = data.get("region")
    if isinstance(region, str):
        region = Region.objects.filter(code=region).first() or region
    if isinstance(region, int):
        region = Region.objects.filter(pk=region).first() or region
    return region


def _check_acceptance_scope(*, by: User, customer: dict | Customer, account_manager) -> None:
    """Refuse an acceptance outside the actor's scope, before anything is written.

    Only a supervisor (or an administrator) names another account manager: assigning work
    to someone else is theirs (``accounts.supervise_applications``). An account manager
    accepts only for a customer they serve (``selectors.visible_customers``: of the regions
    they serve or of their applications) or a new customer of a region they serve.
    """
    if guards.is_supervisor(by):
        return
    if account_manager is not None and account_manager.pk != by.pk:
        raise NotPermitted(
            _(
                "Only a supervisor assigns an application to another account manager; "
                "leave the account manager empty or name yourself."
            )
        )
    existing = _existing_customer(customer)
    if existing is not None:
        if not selectors.visible_customers(by).filter(pk=existing.pk).exists():
            raise NotPermitted(
                _(
                    "This credit code belongs to a customer of a region you do not serve; "
                    "ask an account manager of that region or a supervisor."
                )
            )
        return
    region = _customer_region(customer or {})
    if (
        isinstance(region, Region)
        and not selectors.acceptance_regions(by).filter(pk=region.pk).exists()
    ):
        raise NotPermitted(
            _(
                "You do not serve the region %(region)s; a customer of that region is "
                "accepted by its account managers or a supervisor."
            )
            % {"region": region}
        )


def _customer_from_input(data: dict) -> Customer:
    """Return the customer with this credit code, or a new one validated from ``data``.

    Two acceptances of one new customer at once both find no row; the second insert then
    fails on the unique credit code and takes the row the first one stored.
    """
    code = str(data.get("credit_code", "")).strip().upper()
    existing = Customer.objects.filter(credit_code=code).first() if code else None
    if existing is not None:
        return existing
    region = _customer_region(data)
    customer = Customer(
        name=str(data.get("name", "")).strip(),
        credit_code=code,
        industry=str(data.get("industry", "")).strip(),
        address=str(data.get("address", "")).strip(),
        contact_name=str(data.get("contact_name", "")).strip(),
        contact_phone=str(data.get("contact_phone", "")).strip(),
    )
    errors: dict[str, list[str]] = {}
    if isinstance(region, Region):
        customer.region = region
    else:
        errors["customer.region"] = [_("Choose an existing service region.")]
    try:
        customer.full_clean(exclude=["region"], validate_unique=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors[f"customer.{field}"] = messages
    if errors:
        raise InvalidInput(errors)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        existing = Customer.objects.filter(credit_code=code).first()
        if existing is None:
            raise
        return existing
    return customer


def _check_choice(errors, field, value, choices) -> None:
    if value not in choices.values:
        errors[field] = [
            _("“%(value)s” is not one of: %(choices)s.")
            % {"value": value, "choices": ", ".join(choices.values)}
        ]


def _next_number(year: int) -> str:
    """Return the next application number of the year, e.g. YK-2026-000123.

    The counter row is updated in place, which locks it until the transaction ends, so two
    applications created at once never get the same number.
    """
    ApplicationSequence.objects.get_or_create(year=year)
    ApplicationSequence.objects.filter(year=year).update(last_number=F("last_number") + 1)
    number = ApplicationSequence.objects.get(year=year).last_number
    return f"YK-{year}-{number:06d}"


def _not_offered(business_type: str, customer_class: str, voltage_class: str) -> tuple[str, str]:
    """Return the field to blame and a message naming what is offered for the business type."""
    offered: dict[str, list[str]] = {}
    for offered_type, offered_class, offered_voltage in schedule_selectors.offered_plans():
        if offered_type == business_type:
            offered.setdefault(offered_class, []).append(offered_voltage)
    refused = _("No active network template plans %(type)s for %(class)s at %(voltage)s.") % {
        "type": BusinessType(business_type).label,
        "class": CustomerClass(customer_class).label,
        "voltage": voltage_class,
    }
    if not offered:
        return "business_type", _("%(refused)s %(type)s is not offered at present.") % {
            "refused": refused,
            "type": BusinessType(business_type).label,
        }
    choices = _("; ").join(
        _("%(class)s (%(voltages)s)")
        % {
            "class": label,
            "voltages": "/".join(v for v in VoltageClass.values if v in offered[value]),
        }
        for value, label in CustomerClass.choices
        if value in offered
    )
    field = "voltage_class" if customer_class in offered else "customer_class"
    return field, _("%(refused)s %(type)s is offered for: %(offered)s.") % {
        "refused": refused,
        "type": BusinessType(business_type).label,
        "offered": choices,
    }


@transaction.atomic
def application_create(
    *,
    customer: dict | Customer,
    business_type: str,
    customer_class: str,
    voltage_class: str,
    requested_capacity_kva,
    supply_type: str | None = None,
    is_important: bool = False,
    account_manager: User | None = None,
    accepted_on: date | None = None,
    documents: Iterable[tuple[str, object]] = (),
    one_time_notice: bool = True,
    by: User | None,
    now: datetime | None = None,
) -> Application:
    """Accept an application: customer, plan from the matching template, baseline, log,
    its one-time notice of documents, and the ``documents`` (kind, file) handed in at the
    counter."""
    if by is not None and not (
        guards.is_supervisor(by) or by.has_perm("accounts.handle_applications")
    ):
        raise NotPermitted(_("Only account managers and supervisors create applications."))
    if by is not None:
        _check_acceptance_scope(by=by, customer=customer, account_manager=account_manager)
    now = _now(now)
    errors: dict[str, list[str]] = {}
    _check_choice(errors, "business_type", business_type, BusinessType)
    _check_choice(errors, "customer_class", customer_class, CustomerClass)
    _check_choice(errors, "voltage_class", voltage_class, VoltageClass)
    if "voltage_class" not in errors and customer_class in OFFERED_VOLTAGES:
        offered = OFFERED_VOLTAGES[customer_class]
        if voltage_class not in offered:
            errors["voltage_class"] = [
                _("%(voltage)s is not offered to %(class)s customers; choose from %(offered)s.")
                % {
                    "voltage": voltage_class,
                    "class": CustomerClass(customer_class).label,
                    "offered": ", ".join(offered),
                }
            ]
    if message := plausible.capacity_error(requested_capacity_kva):
        errors["requested_capacity_kva"] = [message]
    if accepted_on is not None:
        if not isinstance(accepted_on, date):
            errors["accepted_on"] = [_("Enter a date.")]
        elif message := plausible.date_error(accepted_on, timezone.localdate(now)):
            errors["accepted_on"] = [message]
    expected_supply = (
        SupplyType.DUAL if customer_class == CustomerClass.HV_DUAL else SupplyType.SINGLE
    )
    supply_type = supply_type or expected_supply
    if supply_type != expected_supply:
        errors["supply_type"] = [
            _("A %(class)s customer has %(supply)s supply.")
            % {"class": CustomerClass(customer_class).label, "supply": expected_supply.label}
            if customer_class in CustomerClass.values
            else _("Choose a valid supply type.")
        ]
    if (
        account_manager is not None
        and not AccountManagerProfile.objects.filter(user=account_manager, is_active=True).exists()
    ):
        errors["account_manager"] = [
            _("%(user)s is not an active account manager.") % {"user": account_manager}
        ]
    template = None
    if not errors:
        template = schedule_selectors.template_for(
            business_type=business_type, customer_class=customer_class, voltage_class=voltage_class
        )
        if template is None:
            field, message = _not_offered(business_type, customer_class, voltage_class)
            errors[field] = [message]
    if errors:
        raise InvalidInput(errors)
    if isinstance(customer, Customer):
        customer_row = customer
    else:
        customer_row = _customer_from_input(customer or {})

    accepted_on = accepted_on or timezone.localdate(now)
    planned = selectors.acceptance_plan(
        template=template,
        customer_class=customer_class,
        accepted_on=accepted_on,
        meeting_weekday=settings.REVIEW_MEETING_WEEKDAY,
    )
    template_activities = list(
        template.activities.select_related("department")
        .prefetch_related("joint_departments")
        .order_by("sort_order", "id")
    )
    committed = planned.committed_duration
    application = Application.objects.create(
        number=_next_number(accepted_on.year),
        customer=customer_row,
        region=customer_row.region,
        business_type=business_type,
        customer_class=customer_class,
        voltage_class=voltage_class,
        requested_capacity_kva=requested_capacity_kva,
        supply_type=supply_type,
        is_important=is_important,
        account_manager=account_manager,
        assigned_at=now if account_manager else None,
        template=template,
        start_date=planned.start_date,
        committed_duration=committed,
        committed_finish_date=planned.committed_finish_date,
        plan_meeting_weekday=planned.meeting_weekday,
        # The API has no documents yet: what it creates carries no notice to hold it.
        document_checklist=selectors.document_checklist(
            business_type=business_type, customer_class=customer_class
        )
        if one_time_notice
        else [],
        accepted_at=now,
        created_by=by,
    )
    activities = [
        Activity(
            application=application,
            **{field: getattr(t, field) for field in Activity.COPIED_FIELDS},
        )
        for t in template_activities
    ]
    schedule_services.activities_number_events(activities=activities)
    schedule_services.schedule_baseline_save(
        application=application,
        activities=activities,
        planned_duration=committed,
        version=1,
        reason=_("Plan at acceptance from %(template)s.") % {"template": template},
        by=by,
    )
    schedule_services.activities_create(
        activities=activities,
        joint_departments={
            t.code: [d.pk for d in t.joint_departments.all()]
            for t in template_activities
            if t.joint_departments.all()
        },
    )
    if account_manager is None:
        enqueue_on_commit(assign_account_manager, application.pk)
    StageTransition.objects.create(
        application=application,
        transition="create",
        from_state="",
        to_state=application.state,
        by=by,
        at=now,
        note=_("Accepted; planned with %(template)s.") % {"template": template},
    )
    # Its forecast is the plan until the first analysis (the next sweep, or the first
    # change): recorded progress is what moves a forecast away from it.
    application.forecast_finish_date = planned.forecast_finish_date
    application.total_float = committed - planned.plan.duration
    Application.objects.filter(pk=application.pk).update(
        forecast_finish_date=application.forecast_finish_date,
        total_float=application.total_float,
    )
    # What the customer hands in at the counter is part of the acceptance, not a change.
    for kind, file in documents:
        try:
            _document_store(application, kind=kind, file=file, by=by)
        except InvalidInput as exc:
            raise InvalidInput(
                {f"documents.{kind}": [m for ms in exc.errors.values() for m in ms]}
            ) from None
    dashboard_counts.created([application.pk])
    # The customer follows the application from the receipt's QR code.
    customer_links.link_new(application, by=by, days=settings.CUSTOMER_LINK_DAYS, now=now)
    outbound.application_created(application, now=now)
    return application


def _locked_application(application_id: int) -> Application:
    """Return the application locked for this transaction, with its activities and review."""
    try:
        return (
            Application.objects.select_for_update(of=("self",))
            .select_related("customer", "account_manager")
            .prefetch_related("activities")
            .get(pk=application_id)
        )
    except Application.DoesNotExist:
        raise InvalidInput(
            {"application": [_("There is no application %(id)s.") % {"id": application_id}]}
        ) from None


def _bump_version(application: Application) -> None:
    # updated_at too: integrators sync by it (``?updated_since=``), and update() skips
    # auto_now.
    Application.objects.filter(pk=application.pk).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    application.version += 1


def _check_version(application: Application, expected_version: int | None) -> None:
    if expected_version is not None and application.version != expected_version:
        raise StaleVersion(
            _(
                "The application changed since you read it (version %(current)s, you had "
                "%(yours)s): reload it and try again."
            )
            % {"current": application.version, "yours": expected_version}
        )


def application_transition(
    *,
    application_id: int,
    transition: str,
    by: User,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Application:
    """Apply a stage transition: permission, guards, the change, the log row, the schedule.

    Two people applying the same transition at once: the row lock serialises them and the
    second finds the state already changed, so it is refused; nothing is applied twice.
    """
    try:
        with transaction.atomic():
            return _application_transition(
                application_id=application_id,
                transition=transition,
                by=by,
                note=note,
                expected_version=expected_version,
                now=now,
            )
    except ConcurrentTransition as exc:
        raise StaleVersion(
            _("Someone else changed this application at the same moment: reload it.")
        ) from exc


@counting(of_application)
def _application_transition(*, application_id, transition, by, note, expected_version, now):
    now = _now(now)
    application = _locked_application(application_id)
    _check_version(application, expected_version)
    available = {t.name: t for t in application.get_all_state_transitions()}
    if transition not in available:
        raise InvalidInput(
            {"transition": [_("There is no transition “%(name)s”.") % {"name": transition}]}
        )
    spec = selectors.transition_spec(application, transition)
    if not spec.transition.has_perm(application, by):
        raise NotPermitted(
            _("You may not apply “%(transition)s” to %(number)s.")
            % {"transition": spec.label, "number": application.number}
        )
    if not spec.source_ok:
        raise TransitionNotAllowed(
            [
                _("“%(transition)s” is not possible from the state “%(state)s”.")
                % {"transition": spec.label, "state": application.get_state_display()}
            ]
        )
    if spec.refusals:
        raise TransitionNotAllowed(spec.refusals)
    note = (note or "").strip()
    if spec.reason_required and not note:
        raise InvalidInput(
            {"note": [_("Give the reason for “%(transition)s”.") % {"transition": spec.label}]}
        )
    from_state = application.state
    method = getattr(application, transition)
    if transition in {"energize", "close"}:
        method(at=now)
    elif transition == "cancel":
        method(at=now, reason=note)
    else:
        method()
    application.version += 1
    application.save()
    if transition == "energize":
        dashboard_counts.energized([application.pk])
    StageTransition.objects.create(
        application=application,
        transition=transition,
        from_state=from_state,
        to_state=application.state,
        by=by,
        at=now,
        note=note,
    )
    reopens = TRANSITIONS[transition].get("reopens")
    if reopens:
        schedule_services.activities_reopen(
            activities=[
                a
                for a in application.activities.all()
                if all(getattr(a, field) == value for field, value in reopens.items())
            ],
            note=note,
            by=by,
        )
    _reanalyse(application, now)
    outbound.application_transitioned(
        application, transition=transition, from_state=from_state, by=by, note=note, now=now
    )
    return application


def _reanalyse(application: Application, now: datetime | None) -> None:
    """Analyse ``application`` again in this transaction and read back what it stored.

    The analysis runs in a savepoint: should it fail (a plan the engine refuses, a
    database hiccup), the person's change is still stored, the failure is logged, and the
    analysis of this one application is sent to a worker on commit, which retries it with
    backoff (and the periodic sweep catches up in any case).
    """
    try:
        with transaction.atomic():
            application_reanalyse(application_id=application.pk, now=now)
    except Exception:  # noqa: BLE001 - any failure of the analysis: the change stands
        logger.exception("analysis of application %s failed; sent to a worker", application.pk)
        enqueue_on_commit(reanalyse_application, application.pk)
    fields = [
        "forecast_finish_date",
        "total_float",
        "time_limit_status",
        "time_limit_clock",
        "sweep_fingerprint",
    ]
    # Read back as plain values: django-fsm's refresh_from_db lifts the state field's
    # protection on the field itself, shared by every thread of the process, and another
    # thread's refresh ending meanwhile makes this one's fail.
    values = Application.objects.filter(pk=application.pk).values_list(*fields).get()
    for field, value in zip(fields, values, strict=True):
        setattr(application, field, value)


EDITABLE_FIELDS = {"is_important", "requested_capacity_kva"}


@transaction.atomic
@counting(of_application)
def application_update(
    *, application_id: int, changes: dict, by: User, expected_version: int | None = None
) -> Application:
    """Change the editable details of an application (not its stage, not its plan)."""
    application = _locked_application(application_id)
    if not guards.manager_or_supervisor(application, by):
        raise NotPermitted(_("You may not change %(number)s.") % {"number": application.number})
    _check_version(application, expected_version)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(
            {field: [_("This field cannot be changed here.")] for field in sorted(unknown)}
        )
    errors = {}
    if "is_important" in changes and not isinstance(changes["is_important"], bool):
        errors["is_important"] = [_("Answer true or false.")]
    if "requested_capacity_kva" in changes and (
        message := plausible.capacity_error(changes["requested_capacity_kva"])
    ):
        errors["requested_capacity_kva"] = [message]
    if errors:
        raise InvalidInput(errors)
    for field, value in changes.items():
        setattr(application, field, value)
    Application.objects.filter(pk=application.pk).update(
        **changes, version=F("version") + 1, updated_at=timezone.now()
    )
    application.version += 1
    outbound.told(
        EventType.APPLICATION_UPDATED,
        application,
        {"changes": changes, "by": by.username, "version": application.version},
    )
    return application


# --- Progress on activities -----------------------------------------------------------------


def _locked_activity(activity_id: int, application_id: int | None, by: User):
    try:
        activity = Activity.objects.select_related("department").get(pk=activity_id)
    except Activity.DoesNotExist:
        raise InvalidInput(
            {"activity": [_("There is no activity %(id)s.") % {"id": activity_id}]}
        ) from None
    if application_id is not None and activity.application_id != application_id:
        raise InvalidInput(
            {
                "activity": [
                    _("Activity %(code)s does not belong to this application.")
                    % {"code": activity.code}
                ]
            }
        )
    application = _locked_application(activity.application_id)
    activity = next(a for a in application.activities.all() if a.pk == activity.pk)
    if activity.is_dummy:
        raise InvalidInput({"activity": [_("A dummy has no progress to record.")]})
    if not guards.may_record_progress(by, application, activity):
        raise NotPermitted(
            _("You may not record progress on %(activity)s of %(number)s.")
            % {"activity": activity, "number": application.number}
        )
    if application.state not in WORK_STATES:
        raise TransitionNotAllowed(
            [
                _("Progress cannot be recorded while the application is “%(state)s”.")
                % {"state": application.get_state_display()}
            ]
        )
    return application, activity


def _check_day(field: str, day, *, application, today: date) -> date:
    if not isinstance(day, date):
        raise InvalidInput({field: [_("Enter a date.")]})
    if message := plausible.date_error(day, today):
        raise InvalidInput({field: [message]})
    if day > today:
        raise InvalidInput({field: [_("%(day)s is in the future.") % {"day": day_text(day)}]})
    if day < application.start_date:
        raise InvalidInput(
            {
                field: [
                    _("%(day)s is before the application's start date, %(start)s.")
                    % {"day": day_text(day), "start": day_text(application.start_date)}
                ]
            }
        )
    if not schedule_selectors.working_calendar().is_working_day(day):
        raise InvalidInput({field: [_("%(day)s is not a working day.") % {"day": day_text(day)}]})
    return day


def _direct_predecessors(application, activity) -> list[Activity]:
    """Return the activity-level predecessors (through dummies in the AOA form)."""
    activities = list(application.activities.all())
    by_code = {a.code: a for a in activities if a.code}
    compiled = schedule_selectors.compiled_for(activities)
    return [by_code[pred.id] for pred in compiled.predecessors(activity.code)]


@transaction.atomic
def activity_progress_record(
    *,
    activity_id: int,
    by: User,
    application_id: int | None = None,
    start: date | None = None,
    finish: date | None = None,
    passed: bool = True,
    remaining: int | None = None,
    note: str = "",
    expected_version: int | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> Activity:
    """Record progress on an activity: its start, its finish, or the working days it still
    needs; the page, the API and the administration all record it here.

    A start may come with a finish or with the days still needed; a finish and remaining
    days contradict each other and are refused together. For an inspection, ``passed=False``
    records a failed inspection (with what it found): the activity stays open until an
    inspection passes. Everything is checked before anything is written; then the
    application's version moves on and it is analysed again in the same transaction.
    """
    moment = _moment(now, today)
    today = today or timezone.localdate(moment)
    application, activity = _locked_activity(activity_id, application_id, by)
    _check_version(application, expected_version)
    if start is None and finish is None and remaining is None:
        raise InvalidInput(
            {"non_field_errors": [_("Send actual_start, actual_finish or remaining.")]}
        )
    if remaining is not None and finish is not None:
        raise InvalidInput(
            {
                "remaining": [
                    _(
                        "A finished activity has no remaining working days: send the finish "
                        "or the remaining days, not both."
                    )
                ]
            }
        )
    note = (note or "").strip()
    if start is not None:
        _check_start(application, activity, start, today=today)
    if finish is not None:
        _check_finish(
            application, activity, finish, started=start, passed=passed, note=note, today=today
        )
    if remaining is not None:
        _check_remaining(activity, remaining, started=start)
    if start is not None:
        schedule_services.activity_start(activity=activity, on=start, note=note, by=by)
    if finish is not None and passed:
        schedule_services.activity_finish(activity=activity, on=finish, note=note, by=by)
    elif finish is not None:
        schedule_services.activity_inspection_failed(activity=activity, on=finish, note=note, by=by)
    if remaining is not None:
        schedule_services.activity_remaining_set(
            activity=activity, remaining=remaining, note=note, by=by
        )
    _bump_version(application)
    _reanalyse(application, moment)
    outbound.activity_progressed(
        application,
        activity,
        start=start,
        finish=finish,
        passed=passed,
        remaining=remaining,
        note=note,
        by=by,
        now=moment,
    )
    return activity


PROGRESS_IMPORT_MAX = 500


@transaction.atomic
def activity_progress_import(
    *, entries: list[dict], by: User, today: date | None = None, now: datetime | None = None
) -> int:
    """Record many progress entries (a field system's daily sync), all or none.

    Each entry names the application by ``number`` and the activity by ``code`` and
    carries what :func:`activity_progress_record` takes (``start``, ``finish``,
    ``passed``, ``remaining``, ``note``), recorded in the order given. The first entry
    refused refuses the whole import: its error is under ``entries.<index>.<field>`` and
    names the row, and nothing is stored. Return how many were recorded.
    """
    if len(entries) > PROGRESS_IMPORT_MAX:
        raise InvalidInput(
            {"entries": [_("Send at most %(max)d entries at once.") % {"max": PROGRESS_IMPORT_MAX}]}
        )
    numbers = {entry["number"] for entry in entries}
    applications = dict(Application.objects.filter(number__in=numbers).values_list("number", "pk"))
    # The activities named, read at once: (application, code) -> activity.
    activities = {
        (application_id, code): pk
        for pk, application_id, code in Activity.objects.filter(
            application_id__in=applications.values(),
            code__in={entry["code"] for entry in entries},
            is_dummy=False,
        ).values_list("pk", "application_id", "code")
    }
    for index, entry in enumerate(entries):
        where = f"entries.{index}"
        row = {"row": index + 1, "number": entry["number"], "code": entry["code"]}
        application_id = applications.get(entry["number"])
        activity_id = activities.get((application_id, entry["code"]))
        if application_id is None:
            raise InvalidInput(
                {f"{where}.number": [_("Row %(row)d: there is no application %(number)s.") % row]}
            )
        if activity_id is None:
            raise InvalidInput(
                {f"{where}.code": [_("Row %(row)d: %(number)s has no activity %(code)s.") % row]}
            )
        try:
            activity_progress_record(
                activity_id=activity_id,
                application_id=application_id,
                start=entry.get("start"),
                finish=entry.get("finish"),
                passed=entry.get("passed", True),
                remaining=entry.get("remaining"),
                note=entry.get("note", ""),
                by=by,
                today=today,
                now=now,
            )
        except InvalidInput as exc:
            raise InvalidInput(
                {
                    f"{where}.{field}": [
                        _("Row %(row)d (%(number)s %(code)s): %(message)s")
                        % {**row, "message": message}
                        for message in messages
                    ]
                    for field, messages in exc.errors.items()
                }
            ) from None
        except DomainError as exc:
            # The same kind of refusal, saying which row.
            exc.message = _("Row %(row)d (%(number)s %(code)s): %(message)s") % {
                **row,
                "message": exc.message,
            }
            if isinstance(exc, TransitionNotAllowed):
                exc.reasons = [exc.message]
            raise
    return len(entries)


def _check_start(application, activity, on, *, today: date) -> None:
    _check_day("actual_start", on, application=application, today=today)
    if activity.actual_start is not None:
        raise InvalidInput(
            {
                "actual_start": [
                    _("%(activity)s started on %(day)s already.")
                    % {"activity": activity, "day": day_text(activity.actual_start)}
                ]
            }
        )
    predecessors = _direct_predecessors(application, activity)
    waiting = [a for a in predecessors if a.actual_finish is None]
    if waiting:
        raise InvalidInput(
            {
                "actual_start": [
                    _("%(activity)s cannot start before %(preds)s finish.")
                    % {"activity": activity, "preds": "、".join(str(a) for a in waiting)}
                ]
            }
        )
    later = [a for a in predecessors if a.actual_finish > on]
    if later:
        raise InvalidInput(
            {
                "actual_start": [
                    _("%(activity)s cannot start before %(pred)s finished (%(day)s).")
                    % {
                        "activity": activity,
                        "pred": later[0],
                        "day": day_text(later[0].actual_finish),
                    }
                ]
            }
        )


def _check_finish(application, activity, on, *, started, passed, note, today: date) -> None:
    _check_day("actual_finish", on, application=application, today=today)
    started = started or activity.actual_start
    if started is None:
        raise InvalidInput(
            {
                "actual_finish": [
                    _("Record the start of %(activity)s first.") % {"activity": activity}
                ]
            }
        )
    if activity.actual_finish is not None:
        raise InvalidInput(
            {
                "actual_finish": [
                    _("%(activity)s finished on %(day)s already.")
                    % {"activity": activity, "day": day_text(activity.actual_finish)}
                ]
            }
        )
    if on < started:
        raise InvalidInput(
            {
                "actual_finish": [
                    _("The finish %(finish)s is before the start %(start)s.")
                    % {"finish": day_text(on), "start": day_text(started)}
                ]
            }
        )
    if not passed:
        if activity.milestone != Milestone.COMPLETION_INSPECTION:
            raise InvalidInput({"passed": [_("Only an inspection can fail.")]})
        if not note:
            raise InvalidInput({"note": [_("Say what the inspection found.")]})


def _check_remaining(activity, remaining, *, started) -> None:
    if isinstance(remaining, bool) or not isinstance(remaining, int) or remaining < 0:
        raise InvalidInput({"remaining": [_("Enter whole working days, 0 or more.")]})
    if remaining > 1000:
        raise InvalidInput({"remaining": [_("More than 1000 working days is not a plan.")]})
    if (started or activity.actual_start) is None or activity.actual_finish is not None:
        raise InvalidInput(
            {"remaining": [_("Only a started, unfinished activity has a remaining duration.")]}
        )


# --- Assignment, re-plan, review, documents -------------------------------------------------


@transaction.atomic
@counting(of_application)
def application_reassign(
    *,
    application_id: int,
    manager: User,
    reason: str,
    by: User,
    override: bool = False,
    override_reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Application:
    """Give an application another accountable account manager (supervisors only).

    The manager must pass the checks automatic assignment applies (active, serves the
    region, qualified for the voltage class, room for the application): each failed one
    is reported under ``manager``. A supervisor (``accounts.supervise_applications``) may
    override them with ``override`` and a written ``override_reason``; the checks passed
    over are stored with the change and logged. Nothing changes unless all of it holds.
    """
    if not by.has_perm("accounts.assign_account_manager"):
        raise NotPermitted(_("Only supervisors reassign account managers."))
    application = _locked_application(application_id)
    _check_version(application, expected_version)
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = [_("Give the reason for the reassignment.")]
    profile = (
        AccountManagerProfile.objects.select_for_update(of=("self",))
        .select_related("user")
        .prefetch_related("regions")
        .filter(user=manager)
        .first()
    )
    load = assignment.manager_weighted_loads(user_ids=[manager.pk]).get(manager.pk, 0)
    failed = assignment.reassignment_checks_failed(application, profile, load=load)
    may_override = by.has_perm("accounts.supervise_applications")
    if assignment.CHECK_ACTIVE in failed:
        # Nobody can hold an application for a manager who is not there.
        errors["manager"] = list(failed.values())
    elif manager.pk == application.account_manager_id:
        errors["manager"] = [_("%(user)s already holds this application.") % {"user": manager}]
    elif failed and not override:
        errors["manager"] = list(failed.values())
        if may_override:
            errors["manager"].append(
                _("To give it to %(user)s anyway, override the checks and say why.")
                % {"user": manager}
            )
    elif failed and not may_override:
        errors["override"] = [_("Only supervisors may override the assignment checks.")]
    elif failed and not (override_reason or "").strip():
        errors["override_reason"] = [_("Say why the checks are overridden.")]
    if errors:
        raise InvalidInput(errors)
    now = _now(now)
    overridden = list(failed)
    AssignmentChange.objects.create(
        application=application,
        from_manager=application.account_manager,
        to_manager=manager,
        reason=reason.strip(),
        by=by,
        at=now,
        is_override=bool(overridden),
        override_reason=(override_reason or "").strip() if overridden else "",
        overridden_checks=overridden,
    )
    if overridden:
        logger.warning(
            "%s overrode the assignment checks %s to give %s to %s: %s",
            by.username,
            ",".join(overridden),
            application.number,
            manager.username,
            override_reason.strip(),
        )
    Application.objects.filter(pk=application.pk).update(
        account_manager=manager, assigned_at=now, version=F("version") + 1, updated_at=now
    )
    AccountManagerProfile.objects.filter(user=manager).update(last_assigned_at=now)
    application_reanalyse(application_id=application.pk, now=now)
    previous = application.account_manager
    application = Application.objects.select_related("customer", "account_manager").get(
        pk=application.pk
    )
    outbound.applications_assigned(
        [(application, manager, previous, reason.strip())], by=by, now=now
    )
    return application


REPLAN_MAX_DAYS = 1000
REPLAN_MAX_EVENT = 9999


def _whole_days(value, *, allow_none: bool = False) -> bool:
    if value is None:
        return allow_none
    return not isinstance(value, bool) and isinstance(value, int) and 0 <= value <= REPLAN_MAX_DAYS


def _pred_code(pred) -> str | None:
    if isinstance(pred, str):
        return pred
    if isinstance(pred, dict) and isinstance(pred.get("id"), str):
        return pred["id"]
    return None


def _clean_predecessors(code: str, value, by_code: dict) -> tuple[list, list[str]]:
    """Return the stored form of an AON predecessor list and the messages about it."""
    if not isinstance(value, list):
        return [], [_("Give the predecessors as a list of activity codes.")]
    preds, problems = [], []
    for item in value:
        other = _pred_code(item)
        lag = item.get("lag", 0) if isinstance(item, dict) else 0
        if other is None:
            problems.append(_("A predecessor is an activity code, optionally with a lag."))
        elif other == code:
            problems.append(_("%(code)s cannot follow itself.") % {"code": code})
        elif other not in by_code:
            problems.append(_("There is no activity %(code)s to follow.") % {"code": other})
        elif isinstance(lag, bool) or not isinstance(lag, int) or abs(lag) > REPLAN_MAX_DAYS:
            problems.append(
                _(
                    "The lag after %(code)s must be whole working days; a negative lag "
                    "overlaps the end of %(code)s."
                )
                % {"code": other}
            )
        else:
            preds.append(other if not lag else {"id": other, "lag": lag})
    return preds, problems


def _loose_events(activities: list[Activity]) -> tuple[set[int], set[int]]:
    """Return the AOA events with no arc in, and those with no arc out."""
    arcs = [(a.tail, a.head) for a in activities if a.tail is not None]
    tails = {t for t, _h in arcs}
    heads = {h for _t, h in arcs}
    return tails - heads, heads - tails


def _network_error_key(exc: NetworkError, changed: set[str]) -> str:
    """Name the field of the changed activity an engine error is about, else ``logic``."""
    named = []
    for attribute in ("activity", "activities"):
        value = getattr(exc, attribute, None)
        if isinstance(value, str):
            named.append(value)
        elif isinstance(value, list | tuple):
            named.extend(v for v in value if isinstance(v, str))
    for code in named:
        if code in changed:
            field = getattr(exc, "field", "")
            if isinstance(field, str) and field.startswith("shortest_duration"):
                return f"shortest_durations.{code}"
            if isinstance(field, str) and field.startswith("duration"):
                return f"durations.{code}"
            if field == "lead":
                return f"leads.{code}"
            return f"logic.{code}"
    return "logic"


def _replan_departments(departments, by_code, unknown, change_joint, errors, changed) -> None:
    """Check the departments of a re-plan: per activity code a department code, empty for
    the customer's own work (either keeps the joint departments), or a list of codes (the
    owning department, then exactly those that staff it jointly). Set what changes on the
    activities; put the messages in ``errors``."""

    def codes_of(value):
        if value is None or isinstance(value, str):
            return [value] if value else []
        if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
            return value
        return None

    wanted = {c for v in departments.values() for c in (codes_of(v) or [])}
    known = {d.code: d for d in Department.objects.filter(code__in=wanted, is_active=True)}
    for code, value in departments.items():
        if unknown("departments", code):
            continue
        codes = codes_of(value)
        key = f"departments.{code}"
        if codes is None:
            errors[key] = [_("Give a department code, or a list of them (the owner first).")]
            continue
        missing = [c for c in codes if c not in known]
        if missing:
            errors[key] = [
                _("There is no active department %(department)s.") % {"department": missing[0]}
            ]
            continue
        if len(set(codes)) != len(codes):
            errors[key] = [_("A department is listed twice.")]
            continue
        activity = by_code[code]
        if len(codes) > 1 and activity.party == "customer":
            errors[key] = [_("The customer's own work has no departments staffing it.")]
            continue
        owner = known[codes[0]] if codes else None
        if activity.department_id != (owner.pk if owner else None):
            activity.department = owner
            changed.add(code)
        if isinstance(value, list):
            change_joint(activity, [known[c].pk for c in codes[1:]])


@transaction.atomic
@counting(of_application)
def application_replan(
    *,
    application_id: int,
    durations: dict[str, int] | None = None,
    shortest_durations: dict[str, int | None] | None = None,
    logic: dict[str, dict] | None = None,
    leads: dict[str, int] | None = None,
    departments: dict[str, str | list[str] | None] | None = None,
    reason: str,
    by: User,
    expected_version: int | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> Baseline:
    """Approve a new plan: changed activities become baseline version n + 1.

    Per activity code: ``durations`` and ``shortest_durations`` in working days (a shortest
    duration of None clears it), ``logic`` new ``tail``/``head`` event numbers (activity on
    arrow) or ``predecessors`` (activity on node: codes or ``{"id": code, "lag": days}``),
    ``leads`` (activity on arrow) the working days an activity may start before its tail
    event is reached, overlapping the arcs into it (on node: a negative lag),
    ``departments`` the owning department's code (empty: the customer's own work) or a list
    of codes, the owner first and then the departments that staff it jointly. Every
    message is keyed by what it is about (``durations.K``, ``logic.P`` ...); nothing is
    stored unless all of it holds. The old baselines and the activities' progress are kept.
    """
    if not guards.is_supervisor(by):
        raise NotPermitted(_("Only a supervisor approves a re-plan."))
    application = _locked_application(application_id)
    _check_version(application, expected_version)
    if application.state not in WORK_STATES:
        raise TransitionNotAllowed([_("Only an application in progress can be re-planned.")])
    activities = list(application.activities.prefetch_related("joint_departments"))
    by_code = {a.code: a for a in activities if a.code and not a.is_dummy}
    aoa = any(a.tail is not None for a in activities)
    starts_before, ends_before = _loose_events(activities)
    errors: dict[str, list[str]] = {}
    if not (reason or "").strip():
        errors["reason"] = [_("Give the reason for the re-plan.")]
    changed: set[str] = set()

    def unknown(key: str, code: str) -> bool:
        if code in by_code:
            return False
        errors[f"{key}.{code}"] = [_("There is no activity %(code)s.") % {"code": code}]
        return True

    def change(activity: Activity, field: str, value) -> None:
        if getattr(activity, field) != value:
            setattr(activity, field, value)
            changed.add(activity.code)

    def change_joint(activity: Activity, department_ids: list[int]) -> None:
        if sorted(d.pk for d in activity.joint_departments.all()) != sorted(department_ids):
            activity.joint = department_ids
            changed.add(activity.code)

    for code, days in (durations or {}).items():
        if unknown("durations", code):
            continue
        if not _whole_days(days):
            errors[f"durations.{code}"] = [_("Enter whole working days, 0 to 1000.")]
            continue
        activity = by_code[code]
        change(activity, "duration", days)
        if activity.shortest_duration and activity.shortest_duration > days:
            activity.shortest_duration = days
    for code, days in (shortest_durations or {}).items():
        if unknown("shortest_durations", code):
            continue
        if not _whole_days(days, allow_none=True):
            errors[f"shortest_durations.{code}"] = [_("Enter whole working days, 0 to 1000.")]
        elif days is not None and days > by_code[code].duration:
            errors[f"shortest_durations.{code}"] = [
                _("The shortest duration cannot exceed the duration (%(days)s).")
                % {"days": by_code[code].duration}
            ]
        else:
            change(by_code[code], "shortest_duration", days)
    for code, days in (leads or {}).items():
        if unknown("leads", code):
            continue
        if not aoa:
            errors[f"leads.{code}"] = [
                _("This network is drawn on nodes: give a negative lag on the link instead.")
            ]
        elif not _whole_days(days):
            errors[f"leads.{code}"] = [_("Enter whole working days, 0 to 1000.")]
        else:
            change(by_code[code], "lead", days)
    for code, new in (logic or {}).items():
        if unknown("logic", code):
            continue
        key = f"logic.{code}"
        activity = by_code[code]
        if not isinstance(new, dict) or not set(new) <= {"tail", "head", "predecessors"}:
            errors[key] = [_("Give tail and head events, or predecessors.")]
        elif aoa and "predecessors" in new:
            errors[key] = [_("This network is drawn with events: give tail and head events.")]
        elif not aoa and ("tail" in new or "head" in new):
            errors[key] = [_("This network is drawn with predecessors: give predecessors.")]
        elif aoa:
            tail = new.get("tail", activity.tail)
            head = new.get("head", activity.head)
            if not all(
                not isinstance(n, bool) and isinstance(n, int) and 0 < n <= REPLAN_MAX_EVENT
                for n in (tail, head)
            ):
                errors[key] = [_("Event numbers are whole numbers from 1 to 9999.")]
            elif tail == head:
                errors[key] = [_("An activity runs from one event to another.")]
            else:
                change(activity, "tail", tail)
                change(activity, "head", head)
        else:
            preds, problems = _clean_predecessors(code, new.get("predecessors"), by_code)
            if problems:
                errors[key] = problems
            else:
                change(activity, "predecessors", preds)
    if departments:
        _replan_departments(departments, by_code, unknown, change_joint, errors, changed)
    if errors:
        raise InvalidInput(errors)
    if not changed:
        raise InvalidInput({"activities": [_("Nothing in the plan was changed.")]})
    if aoa:
        starts, ends = _loose_events(activities)
        if len(starts) > 1 or len(ends) > 1:
            loose = sorted((starts - starts_before) | (ends - ends_before)) or sorted(starts | ends)
            touching = sorted(c for c in changed if {by_code[c].tail, by_code[c].head} & set(loose))
            message = _(
                "Event %(events)s is left dangling: a network has one start event and one end "
                "event, and every other event has arcs in and out."
            ) % {"events": ", ".join(str(e) for e in loose)}
            raise InvalidInput({f"logic.{touching[0]}" if touching else "logic": [message]})
    # A dummy added for the new logic may run from a higher event number to a lower one.
    schedule_services.activities_number_events(activities=activities)
    try:
        schedule_selectors.compile_activities(activities)
    except NetworkError as exc:
        raise InvalidInput(
            {_network_error_key(exc, changed): [describe_network_error(exc)]}
        ) from exc
    version = application.baselines.count() + 1
    # The new baseline holds its review meetings on today's meeting weekday.
    if application.plan_meeting_weekday != settings.REVIEW_MEETING_WEEKDAY:
        application.plan_meeting_weekday = settings.REVIEW_MEETING_WEEKDAY
        Application.objects.filter(pk=application.pk).update(
            plan_meeting_weekday=application.plan_meeting_weekday
        )
    baseline = schedule_services.schedule_baseline_save(
        application=application,
        activities=activities,
        planned_duration=application.committed_duration,
        version=version,
        reason=reason.strip(),
        by=by,
    )
    schedule_services.activities_replan(
        activities=activities, changed_codes=changed, reason=reason.strip(), by=by
    )
    _bump_version(application)
    moment = _moment(now, today)
    _reanalyse(application, moment)
    outbound.baseline_replaced(
        application, baseline_version=version, by=by, reason=reason.strip(), now=moment
    )
    return baseline


@transaction.atomic
def application_record_review(
    *,
    application_id: int,
    quality,
    safety,
    efficiency,
    satisfaction,
    findings: str = "",
    by: User,
    expected_version: int | None = None,
) -> PostCompletionReview:
    """Record the post-completion review (问效) of an energized application."""
    application = _locked_application(application_id)
    _check_version(application, expected_version)
    if not guards.manager_or_supervisor(application, by):
        raise NotPermitted(_("Only the account manager or a supervisor records the review."))
    if application.state != ApplicationState.ENERGIZED:
        raise TransitionNotAllowed([_("The review is recorded once the supply is energized.")])
    if PostCompletionReview.objects.filter(application=application).exists():
        raise InvalidInput({"application": [_("The review has been recorded already.")]})
    review = PostCompletionReview(
        application=application,
        quality=quality,
        safety=safety,
        efficiency=efficiency,
        satisfaction=satisfaction,
        findings=findings,
        reviewed_by=by,
    )
    try:
        review.full_clean(exclude=["application", "reviewed_by"])
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from exc
    review.save()
    _bump_version(application)
    outbound.told(
        EventType.REVIEW_RECORDED,
        application,
        {
            "quality": review.quality,
            "safety": review.safety,
            "efficiency": review.efficiency,
            "satisfaction": review.satisfaction,
            "findings": review.findings,
            "by": by.username,
        },
    )
    return review


@transaction.atomic
def complaint_record(
    *,
    application_id: int,
    channel: str,
    category: str,
    text: str,
    received_on: date,
    substantiated: bool = False,
    handled_by: User | None = None,
    department=None,
    outcome: str = "",
    by: User,
    today: date | None = None,
) -> Complaint:
    """Record a customer complaint (客户投诉) about an application: who records it and when
    are kept; it counts in the assessment of the application's account manager and of the
    handling department for the period it was received in."""
    application = _locked_application(application_id)
    if not guards.manager_or_supervisor(application, by):
        raise NotPermitted(_("Only the account manager or a supervisor records a complaint."))
    errors: dict[str, list[str]] = {}
    if not (text or "").strip():
        errors["text"] = [_("Say what the customer complained about.")]
    if received_on is None:
        errors["received_on"] = [_("Give the day the complaint was received.")]
    elif received_on > _today(today):
        errors["received_on"] = [_("A complaint cannot be received in the future.")]
    if handled_by is not None and not handled_by.is_active:
        errors["handled_by"] = [_("Choose an active user to handle the complaint.")]
    if department is not None and not department.is_active:
        errors["department"] = [_("Choose an active department.")]
    complaint = Complaint(
        application=application,
        channel=channel,
        category=category,
        text=(text or "").strip(),
        received_on=received_on,
        substantiated=substantiated,
        handled_by=handled_by,
        department=department,
        outcome=(outcome or "").strip(),
        recorded_by=by,
    )
    try:
        complaint.full_clean(
            exclude=["application", "recorded_by", "handled_by", "department", *errors]
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise InvalidInput(errors)
    complaint.save()
    outbound.told(
        EventType.COMPLAINT_RECORDED,
        application,
        {
            "complaint": complaint.pk,
            "channel": complaint.channel,
            "category": complaint.category,
            "received_on": complaint.received_on.isoformat(),
            "substantiated": complaint.substantiated,
            "by": by.username,
        },
    )
    return complaint


@transaction.atomic
def follow_up_raise(
    *,
    application_id: int,
    owner: User | None,
    due_on: date | None,
    description: str,
    by: User,
    now: datetime | None = None,
) -> FollowUp:
    """Raise a follow-up item (问责) from the post-completion review of an application: an
    owner answers for it by the due date until it is closed."""
    application = _locked_application(application_id)
    if not guards.manager_or_supervisor(application, by):
        raise NotPermitted(_("Only the account manager or a supervisor raises a follow-up."))
    review = PostCompletionReview.objects.filter(application=application).first()
    if review is None:
        raise TransitionNotAllowed([_("A follow-up is raised from the post-completion review.")])
    now = _now(now)
    errors: dict[str, list[str]] = {}
    if owner is None:
        errors["owner"] = [_("Choose who answers for the follow-up.")]
    elif not owner.is_active:
        errors["owner"] = [_("Choose an active user.")]
    if due_on is None:
        errors["due_on"] = [_("Give the day it is due.")]
    elif due_on < timezone.localdate(now):
        errors["due_on"] = [_("The due date cannot be in the past.")]
    if not (description or "").strip():
        errors["description"] = [_("Say what is to be done.")]
    if errors:
        raise InvalidInput(errors)
    item = FollowUp.objects.create(
        review=review,
        owner=owner,
        due_on=due_on,
        description=description.strip(),
        raised_by=by,
        raised_at=now,
    )
    outbound.told(
        EventType.FOLLOW_UP_RAISED,
        application,
        {
            "follow_up": item.pk,
            "owner": owner.username,
            "due_on": due_on.isoformat(),
            "description": item.description,
            "by": by.username,
        },
        now=now,
    )
    return item


@transaction.atomic
def follow_up_close(
    *, follow_up_id: int, note: str, by: User, now: datetime | None = None
) -> FollowUp:
    """Close a follow-up item with a note: its owner or a supervisor."""
    item = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("review__application")
        .filter(pk=follow_up_id)
        .first()
    )
    if item is None:
        raise InvalidInput(
            {"follow_up": [_("There is no follow-up %(id)s.") % {"id": follow_up_id}]}
        )
    if not (item.owner_id == by.pk or guards.is_supervisor(by)):
        raise NotPermitted(_("Only its owner or a supervisor closes a follow-up."))
    if item.status != FollowUp.Status.OPEN:
        raise TransitionNotAllowed([_("The follow-up is closed already.")])
    if not (note or "").strip():
        raise InvalidInput({"note": [_("Say how the follow-up was settled.")]})
    item.status = FollowUp.Status.CLOSED
    item.closing_note = note.strip()
    item.closed_by = by
    item.closed_at = _now(now)
    item.save(update_fields=["status", "closing_note", "closed_by", "closed_at"])
    outbound.told(
        EventType.FOLLOW_UP_CLOSED,
        item.review.application,
        {"follow_up": item.pk, "note": item.closing_note, "by": by.username},
        now=item.closed_at,
    )
    return item


# --- Answering deviations and proposals ----------------------------------------------------


def _deviation_for_update(deviation_id: int) -> Deviation:
    try:
        return (
            Deviation.objects.select_for_update(of=("self",))
            .select_related("application", "activity")
            .get(pk=deviation_id)
        )
    except Deviation.DoesNotExist:
        raise InvalidInput(
            {"deviation": [_("There is no deviation %(id)s.") % {"id": deviation_id}]}
        ) from None


def _answer_errors(
    row: Deviation,
    *,
    cause: DeviationCause | None,
    responsible_party: str,
    department: Department | None,
    party_reason: str,
    planned_action: str,
    action_due: date | None,
    today: date,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if cause is None or not cause.is_active:
        errors["cause"] = [_("Choose one of the listed causes.")]
    if responsible_party not in ResponsibleParty.values:
        errors["responsible_party"] = [_("Choose who answers for the deviation.")]
    elif responsible_party == ResponsibleParty.DEPARTMENT and (
        department is None or not department.is_active
    ):
        errors["responsible_department"] = [_("Choose the department that answers for it.")]
    elif (
        responsible_party,
        department.pk if department else None,
    ) != schedule_selectors.default_responsibility(row) and not party_reason:
        errors["party_reason"] = [
            _("Say why someone else than the late activity's owner answers for it.")
        ]
    if not planned_action:
        errors["planned_action"] = [_("Say what will be done about it.")]
    if action_due is None:
        errors["action_due"] = [_("Give the day the action is due.")]
    elif action_due < today:
        errors["action_due"] = [_("The action cannot be due on a day that has passed.")]
    return errors


@transaction.atomic
@counting(of_deviation)
def deviation_acknowledge(
    *,
    deviation_id: int,
    cause: str,
    responsible_party: str = "",
    responsible_department: int | None = None,
    party_reason: str = "",
    planned_action: str,
    action_due: date | None,
    by: User,
    now: datetime | None = None,
    today: date | None = None,
) -> Deviation:
    """Answer a deviation: its cause, who answers for it (by default the late activity's
    owner; another needs a reason), the action planned and the day it is due.

    The first answer acknowledges an open deviation; later answers correct it. Every answer
    is kept with who gave it and when.
    """
    row = _deviation_for_update(deviation_id)
    if not guards.may_answer_deviation(by, row):
        raise NotPermitted(_("You may not answer this deviation."))
    if row.status == Deviation.Status.RESOLVED:
        raise TransitionNotAllowed([_("A resolved deviation is no longer answered.")])
    default_party, default_department = schedule_selectors.default_responsibility(row)
    responsible_party = responsible_party or default_party
    if responsible_party == ResponsibleParty.DEPARTMENT:
        department_id = responsible_department or (
            default_department if responsible_party == default_party else None
        )
        department = Department.objects.filter(pk=department_id).first() if department_id else None
    else:
        department = None
    chosen = DeviationCause.objects.filter(code=cause).first() if cause else None
    party_reason = (party_reason or "").strip()
    planned_action = (planned_action or "").strip()
    errors = _answer_errors(
        row,
        cause=chosen,
        responsible_party=responsible_party,
        department=department,
        party_reason=party_reason,
        planned_action=planned_action,
        action_due=action_due,
        today=_today(today),
    )
    if errors:
        raise InvalidInput(errors)
    schedule_services.deviation_answer_store(
        deviation=row,
        cause=chosen,
        responsible_party=responsible_party,
        responsible_department_id=department.pk if department else None,
        party_reason=party_reason,
        planned_action=planned_action,
        action_due=action_due,
        by=by,
        now=_now(now),
    )
    outbound.told(
        EventType.DEVIATION_ANSWERED,
        row.application,
        {
            "deviation": row.pk,
            "activity": row.activity.code,
            "status": row.status,
            "cause": chosen.code if chosen else None,
            "responsible_party": responsible_party,
            "planned_action": planned_action,
            "action_due": action_due.isoformat(),
            "by": by.username,
        },
        now=_now(now),
    )
    return row


def _proposal_for_update(proposal_id: int) -> Proposal:
    try:
        return (
            Proposal.objects.select_for_update(of=("self",))
            .select_related("deviation")
            .get(pk=proposal_id)
        )
    except Proposal.DoesNotExist:
        raise InvalidInput(
            {"proposal": [_("There is no proposal %(id)s.") % {"id": proposal_id}]}
        ) from None


def _check_open(proposal: Proposal) -> None:
    if proposal.status != Proposal.Status.PROPOSED:
        raise TransitionNotAllowed(
            [_("This proposal is %(status)s already.") % {"status": proposal.get_status_display()}]
        )


def _check_current(proposal: Proposal, application: Application) -> None:
    """Refuse a proposal computed from another forecast than the application's now, and a
    measure whose what-if would not finish earlier than that forecast."""
    if proposal.basis_finish != application.forecast_finish_date:
        raise TransitionNotAllowed(
            [
                _(
                    "This proposal was computed from an earlier forecast (finish %(then)s); "
                    "the forecast is now %(now)s. Reload the page for the proposals that hold "
                    "now."
                )
                % {"then": proposal.basis_finish, "now": application.forecast_finish_date}
            ]
        )
    if (
        proposal.kind in (corrective.SHORTEN, corrective.PARALLEL, corrective.MEETING)
        and proposal.new_finish is not None
        and proposal.new_finish >= application.forecast_finish_date
    ):
        raise TransitionNotAllowed(
            [
                _(
                    "This measure would finish on %(finish)s, no earlier than the forecast "
                    "%(forecast)s: it recovers nothing."
                )
                % {
                    "finish": day_text(proposal.new_finish),
                    "forecast": day_text(application.forecast_finish_date),
                }
            ]
        )


def _parallel_logic(activities: list[Activity], first: str, second: str) -> dict[str, dict]:
    """Return the logic change that runs two directly linked activities side by side.

    Activity on node: the later one takes the earlier one's predecessors instead of it.
    Activity on arrow (the earlier arc t→h, the later h→k): the later arc starts from the
    earlier arc's tail t, and a dummy h→k keeps what followed the later one waiting for
    both. When other arcs enter h as well, h is split so that the later arc still waits for
    them: they end at a new event h2 instead, with dummies h2→h (what else starts at h is
    unchanged) and h2→n, and the later arc starts at a new event n with a dummy t→n. The
    dummies to add are returned under ``"__dummies__"`` ((tail, head) pairs) and the dummy
    arcs to point at h2 under ``"__redirect__"``.
    """
    by_code = {a.code: a for a in activities if a.code}
    a, b = by_code[first], by_code[second]
    if a.tail is None:
        earlier, later = (
            (a, b)
            if first in [p if isinstance(p, str) else p["id"] for p in b.predecessors]
            else (b, a)
        )
        preds = [
            p for p in later.predecessors if (p if isinstance(p, str) else p["id"]) != earlier.code
        ]
        return {later.code: {"predecessors": preds + list(earlier.predecessors)}}
    earlier, later = (a, b) if a.head == b.tail else (b, a)
    t, h, k = earlier.tail, earlier.head, later.head
    others = [x for x in activities if x.head == h and x is not earlier]
    if not others:
        return {later.code: {"tail": t}, "__dummies__": [(h, k)], "__redirect__": []}
    last = max(n for x in activities for n in (x.tail, x.head) if n is not None)
    h2, n = last + 1, last + 2
    logic: dict = {x.code: {"head": h2} for x in others if not x.is_dummy}
    logic[later.code] = {"tail": n}
    logic["__dummies__"] = [(h2, h), (h2, n), (t, n), (h, k)]
    logic["__redirect__"] = [(x, h2) for x in others if x.is_dummy]
    return logic


def proposal_analyse_now(*, proposal_id: int, now: datetime | None = None) -> None:
    """Analyse the application of a proposal as of now, in a transaction of its own.

    A proposal computed from an older forecast (an earlier day, an earlier version) is then
    superseded, and the proposals of the forecast now are stored, even when accepting the
    old one is refused: a refusal rolls back its own transaction only.
    """
    application_id = (
        Proposal.objects.filter(pk=proposal_id).values_list("application_id", flat=True).first()
    )
    if application_id is not None:
        application_reanalyse(application_id=application_id, now=_now(now))


def proposal_accept(
    *, proposal_id: int, by: User, now: datetime | None = None, analysed: bool = False
) -> Proposal:
    """Accept a corrective proposal: a re-plan for shortening or running in parallel.

    Catching the meeting and escalating are instructions to people: accepting records the
    decision (and, for an escalation, tells the supervisors and the owning department).
    The application is first analysed as of now (``proposal_analyse_now``): a proposal
    computed from an earlier forecast than that is refused, since its what-if no longer
    says what accepting it would do (``analysed``: the caller has just called it). The
    application is analysed again before this returns.
    """
    if not guards.is_supervisor(by):
        raise NotPermitted(_("Only a supervisor accepts a corrective measure."))
    now = _now(now)
    if not analysed:
        proposal_analyse_now(proposal_id=proposal_id, now=now)
    return _proposal_accept(proposal_id=proposal_id, by=by, now=now)


@transaction.atomic
def _proposal_accept(*, proposal_id: int, by: User, now: datetime) -> Proposal:
    application_id = (
        Proposal.objects.filter(pk=proposal_id).values_list("application_id", flat=True).first()
    )
    if application_id is None:
        raise InvalidInput({"proposal": [_("There is no proposal %(id)s.") % {"id": proposal_id}]})
    # The application first, then the proposal: the order in which the sweep takes them.
    application = _locked_application(application_id)
    proposal = _proposal_for_update(proposal_id)
    if proposal.status == Proposal.Status.SUPERSEDED:
        raise TransitionNotAllowed(
            [
                _(
                    "The forecast changed since this proposal was computed: it no longer says "
                    "what accepting it would do. The proposals computed from the forecast now "
                    "are on the application's page."
                )
            ]
        )
    _check_open(proposal)
    _check_current(proposal, application)
    # Stored in the log and in notifications: in the site's first language.
    with override(explanations.STORED_LANGUAGE):
        reason = _("Corrective measure accepted: %(what)s") % {
            "what": schedule_selectors.proposal_text(proposal)
        }
    if proposal.kind == corrective.SHORTEN:
        durations = proposal.detail.get("durations") or {}
        application_replan(
            application_id=application.pk,
            durations={code: pair[1] for code, pair in durations.items()},
            reason=reason,
            by=by,
            now=now,
        )
    elif proposal.kind == corrective.PARALLEL:
        activities = list(application.activities.all())
        logic = _parallel_logic(activities, *proposal.activities[:2])
        for dummy, head in logic.pop("__redirect__", []):
            schedule_services.activity_dummy_redirect(dummy=dummy, head=head)
        for tail, head in logic.pop("__dummies__", []):
            activities.append(
                schedule_services.activity_dummy_add(
                    application=application, after=activities, tail=tail, head=head
                )
            )
        application_replan(
            application_id=application.pk, logic=logic, reason=reason, by=by, now=now
        )
    elif proposal.kind == corrective.ESCALATE:
        row = proposal.deviation
        staff = department_staff([row.department_id]).get(row.department_id, [])
        with override(explanations.STORED_LANGUAGE):
            text = _("Escalated: %(number)s — %(what)s") % {
                "number": application.number,
                "what": explanations.deviation_text(row),
            }
        notification_send_many(
            [
                (person, "escalation", application, text, f"escalate:{proposal.pk}", True)
                for person in [*supervisors(), *staff]
            ]
        )
    if proposal.kind != corrective.ESCALATE:
        _tell_departments_of_measure(application, proposal, reason)
    schedule_services.proposal_decide(
        proposal=proposal, status=Proposal.Status.ACCEPTED, by=by, now=now
    )
    outbound.proposal_accepted(application, proposal, by=by, reason=reason, now=now)
    return proposal


def _tell_departments_of_measure(application: Application, proposal: Proposal, reason: str):
    """Tell the staff of the departments whose work an accepted measure changes (owning
    or joint): the activities it shortens, runs in parallel, or must finish for a meeting."""
    if proposal.kind == corrective.MEETING:
        codes = proposal.activities[1:]
    elif proposal.kind == corrective.SHORTEN:
        codes = list(proposal.detail.get("durations") or proposal.activities)
    else:
        codes = proposal.activities
    owners = dict(
        Activity.objects.filter(application=application, code__in=codes).values_list(
            "id", "department_id"
        )
    )
    joint = schedule_selectors.joint_departments_of(owners)
    department_ids = {d for d in owners.values() if d} | {d for ids in joint.values() for d in ids}
    text = f"{application.number} {reason}"
    notification_send_many(
        [
            (person, "measure", application, text, f"measure:{proposal.pk}", False)
            for people in department_staff(department_ids).values()
            for person in people
        ]
    )


@transaction.atomic
def proposal_dismiss(
    *, proposal_id: int, reason: str, by: User, now: datetime | None = None
) -> Proposal:
    """Dismiss a corrective proposal, saying why."""
    proposal = _proposal_for_update(proposal_id)
    if not guards.may_answer_deviation(by, proposal.deviation):
        raise NotPermitted(_("You may not answer this deviation."))
    _check_open(proposal)
    if not (reason or "").strip():
        raise InvalidInput({"reason": [_("Say why the proposal is dismissed.")]})
    schedule_services.proposal_decide(
        proposal=proposal,
        status=Proposal.Status.DISMISSED,
        by=by,
        now=_now(now),
        reason=reason.strip(),
    )
    return proposal


# --- Measures that relieve a region's shared crews (applications.capacity) -------------------


def _capacity_measure_for_update(measure_id: int, by: User) -> CapacityMeasure:
    if not guards.is_supervisor(by):
        raise NotPermitted(_("Only supervisors decide on a region's crews."))
    measure = (
        CapacityMeasure.objects.select_for_update(of=("self",))
        .select_related("crew__department", "crew__region", "region", "lender__region")
        .get(pk=measure_id)
    )
    if measure.status != CapacityMeasure.Status.PROPOSED:
        raise TransitionNotAllowed(
            [_("This measure is %(status)s already.") % {"status": measure.get_status_display()}]
        )
    return measure


@transaction.atomic
def capacity_measure_accept(
    *, measure_id: int, by: User, now: datetime | None = None
) -> CapacityMeasure:
    """Take a measure the levelling proposed: record the crew's capacity on its days as the
    effect was computed with it, and for a loan the lending crew's (one change per run of
    days with the same capacity); the regions are levelled again once committed: with
    nothing else changed, each application's finish with shared crews is then the one the
    effect showed."""
    measure = _capacity_measure_for_update(measure_id, by)
    # Stored in the crew's log: in the site's first language.
    with override(explanations.STORED_LANGUAGE):
        reason = _("Capacity measure accepted: %(what)s") % {"what": capacity.measure_text(measure)}
    changes = [(measure.crew_id, measure.capacity)]
    if measure.lender_id is not None:
        changes.append((measure.lender_id, measure.lender_capacity))
    for crew_id, capacity_on in changes:
        runs: list[list] = []
        for day, units in sorted(capacity_on.items()):
            day = date.fromisoformat(day)
            if runs and runs[-1][2] == units and (day - runs[-1][1]).days == 1:
                runs[-1][1] = day
            else:
                runs.append([day, day, units])
        for first_day, last_day, units in runs:
            schedule_services.crew_capacity_change_add(
                crew_id=crew_id,
                first_day=first_day,
                last_day=last_day,
                capacity=units,
                reason=reason,
                by=by,
            )
    measure.status = CapacityMeasure.Status.ACCEPTED
    measure.decided_by = by
    measure.decided_at = _now(now)
    measure.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    # The capacity change levels the region again once committed (applications.apps).
    return measure


@transaction.atomic
def capacity_measure_dismiss(
    *, measure_id: int, by: User, now: datetime | None = None
) -> CapacityMeasure:
    """Decline a measure: no later levelling proposes it again (the same crew, kind and
    days)."""
    measure = _capacity_measure_for_update(measure_id, by)
    measure.status = CapacityMeasure.Status.DISMISSED
    measure.decided_by = by
    measure.decided_at = _now(now)
    measure.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return measure


ALLOWED_DOCUMENT_TYPES = {
    # extension: (content type, magic bytes at the start of the file)
    "pdf": ("application/pdf", [b"%PDF-"]),
    "png": ("image/png", [b"\x89PNG\r\n\x1a\n"]),
    "jpg": ("image/jpeg", [b"\xff\xd8\xff"]),
    "jpeg": ("image/jpeg", [b"\xff\xd8\xff"]),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        [b"PK\x03\x04"],
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        [b"PK\x03\x04"],
    ),
    "dwg": ("image/vnd.dwg", [b"AC10"]),
}


@transaction.atomic
def document_upload(*, application_id: int, kind: str, file, by: User) -> Document:
    """Store a document of an application, refusing what is too large or not a document."""
    application = _locked_application(application_id)
    if not (
        guards.manager_or_supervisor(application, by)
        or by.has_perm("accounts.record_department_progress")
    ):
        raise NotPermitted(
            _("You may not add documents to %(number)s.") % {"number": application.number}
        )
    document = _document_store(application, kind=kind, file=file, by=by)
    _bump_version(application)
    outbound.told(
        EventType.DOCUMENT_UPLOADED,
        application,
        {
            "document": document.pk,
            "kind": document.kind,
            "original_name": document.original_name,
            "size": document.size,
            "by": by.username,
        },
    )
    return document


def _document_store(application: Application, *, kind: str, file, by: User | None) -> Document:
    errors = {}
    if kind not in DocumentKind.values:
        errors["kind"] = [_("Choose a document kind.")]
    name = getattr(file, "name", "") or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    limit = settings.DOCUMENT_MAX_BYTES
    if file.size > limit:
        errors["file"] = [
            _("The file is %(size).1f MB; the limit is %(limit)d MB.")
            % {"size": file.size / 1024 / 1024, "limit": limit // 1024 // 1024}
        ]
    elif extension not in ALLOWED_DOCUMENT_TYPES:
        errors["file"] = [
            _("“.%(ext)s” files are not accepted; use %(allowed)s.")
            % {"ext": extension or "?", "allowed": ", ".join(sorted(ALLOWED_DOCUMENT_TYPES))}
        ]
    else:
        content_type, magics = ALLOWED_DOCUMENT_TYPES[extension]
        head = file.read(16)
        file.seek(0)
        if not any(head.startswith(magic) for magic in magics):
            errors["file"] = [_("The content is not a .%(ext)s file.") % {"ext": extension}]
    if errors:
        raise InvalidInput(errors)
    document = Document(
        application=application,
        kind=kind,
        original_name=name[:255],
        content_type=content_type,
        size=file.size,
        uploaded_by=by,
    )
    document.file.save(name, file, save=False)
    document.save()
    return document


# --- Bulk loads (the demo loader) ---------------------------------------------------------------


@transaction.atomic
def application_numbers_reserve(*, years: list[int]) -> list[str]:
    """Return the next application numbers, keeping each year's sequence ahead of them."""
    last = {}
    for year in sorted(set(years)):
        sequence, _created = ApplicationSequence.objects.select_for_update().get_or_create(
            year=year
        )
        last[year] = sequence.last_number
    numbers = []
    for year in years:
        last[year] += 1
        numbers.append(f"YK-{year}-{last[year]:06d}")
    for year, number in last.items():
        ApplicationSequence.objects.filter(year=year).update(last_number=number)
    return numbers


def customer_rows_insert(*, fields: tuple[str, ...], rows: list[tuple]) -> list[int]:
    """Store customers a loader has built and checked, each a tuple of the values of
    ``fields``; return their keys in the order of ``rows``."""
    return bulk.insert_rows(Customer, list(fields), rows, returning=True)


@contextmanager
def application_rows_loading():
    """Yield ``insert(fields=, rows=, energized=)``, which stores applications a loader has
    built with their plan, forecast and log, each a tuple of the values of ``fields``
    (``energized``: whether each one is), and returns their keys in the order of ``rows``.
    Their activities, baselines and log rows go in through the *_rows writers.

    The dashboard's counts of what was stored are added when the block ends, last in its
    transaction: two loaders writing at once then each hold the counts' rows only for their
    commit, instead of one waiting for the other's whole block.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("application_rows_loading needs a transaction around it")
    stored: list[int] = []
    done: list[int] = []

    def insert(*, fields: tuple[str, ...], rows: list[tuple], energized: list[bool]) -> list[int]:
        pks = bulk.insert_rows(Application, list(fields), rows, returning=True)
        stored.extend(pks)
        done.extend(pk for pk, flag in zip(pks, energized, strict=True) if flag)
        return pks

    yield insert
    dashboard_counts.created(stored)
    dashboard_counts.energized(done)


def stage_transition_rows(fields: tuple[str, ...]) -> bulk.RowWriter:
    """Return a bulk writer of log rows with these fields (a loader's)."""
    return bulk.RowWriter(StageTransition, fields)


def review_rows(fields: tuple[str, ...]) -> bulk.RowWriter:
    """Return a bulk writer of post-completion reviews with these fields (a loader's)."""
    return bulk.RowWriter(PostCompletionReview, fields)
