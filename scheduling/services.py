"""Every write of the scheduling app: the calendar, an application's plan (activities,
their progress and forecast, baselines) and the rows of its analysis (deviations,
proposals).

These functions write rows and check what the plan itself requires (a start after the
predecessors' finish, a working day); who may do it and the application's lock and
version are the caller's (``applications.services``). The sweep's writes take plain rows
(tuples of values) in bulk: a batch writes thousands.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime

from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from yekuo import archive, bulk, plausible
from yekuo.errors import InvalidInput
from yekuo.lookups import any_of

from . import cpm, learning, selectors, signals
from .models import (
    Activity,
    ActivityEvent,
    ActivityTemplate,
    ApplicationRisk,
    ArchivedDeviation,
    ArchivedProposal,
    Baseline,
    CalendarOverride,
    CalendarYear,
    Crew,
    CrewCapacityChange,
    CrewKind,
    Deviation,
    DeviationAnswer,
    DeviationCause,
    LearnedDuration,
    NetworkTemplate,
    Proposal,
)
from .selectors import CALENDAR_VERSION_KEY


def calendar_changed() -> None:
    """Make every process rebuild its working-day calendar on next use, and tell whoever
    listens (``scheduling.signals.calendar_changed``) that forecasts may have moved."""
    try:
        cache.incr(CALENDAR_VERSION_KEY)
    except ValueError:
        cache.set(CALENDAR_VERSION_KEY, 1, timeout=None)
    signals.calendar_changed.send(sender=CalendarOverride)


@transaction.atomic
def calendar_override_set(*, day: date, is_working: bool, note: str = "", by) -> CalendarOverride:
    """Declare one day working or off, whatever the holiday data says."""
    override, _created = CalendarOverride.objects.update_or_create(
        day=day, defaults={"is_working": is_working, "note": note, "created_by": by}
    )
    transaction.on_commit(calendar_changed)
    return override


@transaction.atomic
def calendar_year_confirm(*, year: int, source: str, by) -> CalendarYear:
    """Record that the overrides of ``year`` complete its official holiday notice."""
    confirmed, _created = CalendarYear.objects.update_or_create(
        year=year, defaults={"source": source, "confirmed_by": by}
    )
    transaction.on_commit(calendar_changed)
    return confirmed


def schedule_baseline_save(
    *,
    application,
    activities: list[Activity],
    planned_duration: int | None,
    version: int,
    reason: str = "",
    by=None,
) -> Baseline:
    """Compute the plan of ``activities``, store it on them and as a baseline version.

    Its review meetings are held on the application's ``plan_meeting_weekday``. The
    activities are saved by the caller (created in bulk or updated in bulk).
    """
    calendar = selectors.working_calendar()
    day0 = calendar.project_day_zero(application.start_date)
    compiled = cpm.load_network(selectors.network_data(activities))
    schedule = compiled.evaluate(
        planned_duration=planned_duration,
        **selectors.meeting_days(calendar, day0, application.plan_meeting_weekday),
    )
    for activity in activities:
        if activity.is_dummy:
            continue
        times = schedule.activities[activity.code]
        activity.baseline_es, activity.baseline_ef = times.es, times.ef
        activity.baseline_tf, activity.baseline_ff = times.tf, times.ff
        activity.baseline_start = calendar.offset_to_date(day0, times.es)
        activity.baseline_finish = selectors.finish_date(calendar, day0, times.es, times.ef)
        activity.forecast_start, activity.forecast_finish = (
            activity.baseline_start,
            activity.baseline_finish,
        )
        activity.forecast_tf, activity.forecast_ff = times.tf, times.ff
        activity.is_critical = times.critical
    finished = {a.code for a in activities if a.actual_finish is not None}
    for activity in activities:
        if not activity.is_dummy:
            activity.is_ready = selectors.activity_is_ready(activity, finished, compiled)
    return Baseline.objects.create(
        application=application,
        version=version,
        duration=schedule.duration,
        planned_duration=schedule.planned_duration,
        network=selectors.network_data(activities),
        schedule=schedule.as_dict(),
        reason=reason,
        approved_by=by,
    )


# --- Network templates ------------------------------------------------------------------------


@transaction.atomic
def template_new_version(*, template_id: int) -> NetworkTemplate:
    """Copy a network template, with its activities, as the next version, inactive."""
    template = NetworkTemplate.objects.select_for_update().get(pk=template_id)
    latest = (
        NetworkTemplate.objects.filter(code=template.code)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    activities = list(template.activities.prefetch_related("joint_departments"))
    joint = [[d.pk for d in activity.joint_departments.all()] for activity in activities]
    template.pk = None
    template.version = latest + 1
    template.is_active = False
    template.save()
    for activity in activities:
        activity.pk = None
        activity.template = template
    ActivityTemplate.objects.bulk_create(activities)
    through = ActivityTemplate.joint_departments.through
    through.objects.bulk_create(
        through(activitytemplate_id=activity.pk, department_id=department_id)
        for activity, departments in zip(activities, joint, strict=True)
        for department_id in departments
    )
    return template


# --- Progress on an activity ------------------------------------------------------------------


def activity_start(*, activity: Activity, on: date, note: str, by) -> None:
    """Store the day ``activity`` started, with its event."""
    activity.actual_start = on
    activity.save(update_fields=["actual_start", "updated_at"])
    ActivityEvent.objects.create(
        activity=activity, kind=ActivityEvent.Kind.STARTED, day=on, note=note, by=by
    )


def activity_finish(*, activity: Activity, on: date, note: str, by) -> None:
    """Store the last working day of ``activity``, with its event."""
    activity.actual_finish = on
    activity.remaining = None
    activity.save(update_fields=["actual_finish", "remaining", "updated_at"])
    ActivityEvent.objects.create(
        activity=activity, kind=ActivityEvent.Kind.FINISHED, day=on, note=note, by=by
    )


def activity_inspection_failed(*, activity: Activity, on: date, note: str, by) -> None:
    """Log a failed inspection: the activity stays open until one passes."""
    ActivityEvent.objects.create(
        activity=activity, kind=ActivityEvent.Kind.INSPECTION_FAILED, day=on, note=note, by=by
    )


def activity_remaining_set(*, activity: Activity, remaining: int, note: str, by) -> None:
    """Store how many working days a started activity still needs, with its event."""
    activity.remaining = remaining
    activity.save(update_fields=["remaining", "updated_at"])
    ActivityEvent.objects.create(
        activity=activity, kind=ActivityEvent.Kind.REMAINING, days=remaining, note=note, by=by
    )


def activities_reopen(*, activities: list[Activity], note: str, by) -> None:
    """Open finished activities again for rework: the work is to be done once more."""
    for activity in activities:
        if activity.actual_finish is None:
            continue
        ActivityEvent.objects.create(
            activity=activity,
            kind=ActivityEvent.Kind.REOPENED,
            day=activity.actual_finish,
            note=note,
            by=by,
        )
        activity.actual_finish = None
        activity.remaining = activity.duration
        activity.save(update_fields=["actual_finish", "remaining", "updated_at"])


# --- Plans: acceptance and re-plans -----------------------------------------------------------


def activities_create(
    *, activities: list[Activity], joint_departments: dict[str, list[int]] | None = None
) -> None:
    """Insert the activities of a new plan (their baseline set by schedule_baseline_save),
    with the departments that staff some of them jointly (by code: department ids)."""
    Activity.objects.bulk_create(activities)
    if joint_departments:
        activities_join(
            joint={
                a.pk: joint_departments[a.code] for a in activities if a.code in joint_departments
            }
        )


def activities_join(*, joint: dict[int, list[int]]) -> None:
    """Set the joint departments of activities (by activity id: department ids)."""
    through = Activity.joint_departments.through
    through.objects.filter(activity_id__in=list(joint)).delete()
    through.objects.bulk_create(
        through(activity_id=activity_id, department_id=department_id)
        for activity_id, departments in joint.items()
        for department_id in departments
    )


PLAN_FIELDS = [
    "duration",
    "shortest_duration",
    "tail",
    "head",
    "lead",
    "predecessors",
    "department",
    "baseline_es",
    "baseline_ef",
    "baseline_tf",
    "baseline_ff",
    "baseline_start",
    "baseline_finish",
]


def activities_replan(
    *, activities: list[Activity], changed_codes: set[str], reason: str, by
) -> None:
    """Store a re-planned network: the new durations, logic, departments and baseline of
    every activity, and a re-plan event on each activity that changed. An activity with a
    ``joint`` attribute (department ids) gets those joint departments."""
    Activity.objects.bulk_update(activities, PLAN_FIELDS)
    joint = {a.pk: a.joint for a in activities if hasattr(a, "joint")}
    if joint:
        activities_join(joint=joint)
    ActivityEvent.objects.bulk_create(
        ActivityEvent(
            activity=a, kind=ActivityEvent.Kind.REPLANNED, days=a.duration, note=reason, by=by
        )
        for a in activities
        if not a.is_dummy and a.code in changed_codes
    )


def activities_number_events(*, activities: list) -> None:
    """Number the events of an AOA plan by Fulkerson's rule (every tail below its head).

    ``activities`` are the rows of one network about to be stored (a copy of a template, a
    re-plan that added a dummy); their ``tail``/``head`` are renumbered in place only when
    some arc runs backwards, and the caller's save stores them.
    """
    arcs = [a for a in activities if a.tail is not None and a.head is not None]
    numbers = cpm.fulkerson_numbers((a.tail, a.head) for a in arcs)
    for a in arcs:
        a.tail, a.head = numbers[a.tail], numbers[a.head]


def activity_dummy_add(*, application, after: list[Activity], tail: int, head: int) -> Activity:
    """Add a dummy arc from ``tail`` to ``head`` to an application's AOA network."""
    return Activity.objects.create(
        application=application,
        code="",
        is_dummy=True,
        duration=0,
        party="utility",
        kind="normal",
        sort_order=max(a.sort_order for a in after) + 1,
        tail=tail,
        head=head,
    )


def activity_dummy_redirect(*, dummy: Activity, head: int) -> None:
    """Point a dummy arc of an AOA network at another head event (a re-plan's redraw)."""
    Activity.objects.filter(pk=dummy.pk, is_dummy=True).update(head=head)
    dummy.head = head


# --- The analysis: stored forecasts, deviations, proposals ----------------------------------

FORECAST_FIELDS = [
    "forecast_start",
    "forecast_finish",
    "forecast_tf",
    "forecast_ff",
    "is_critical",
    "is_ready",
]

DEVIATION_FIELDS = [
    "updated_at",
    "delay",
    "total_float",
    "free_float",
    "critical",
    "total_slip",
    "successor_slip",
    "commitment_overrun",
    "severity",
    "department",
]
NEW_DEVIATION_FIELDS = ["application", "activity", "detected_at", *DEVIATION_FIELDS]

PROPOSAL_FIELDS = [
    "application",
    "deviation",
    "kind",
    "measure",
    "activities",
    "new_finish",
    "days_recovered",
    "detail",
    "basis",
    "basis_finish",
    "status",
    "reason",
]


def activity_forecasts_store(rows: list[tuple]) -> None:
    """Store forecasts: ``rows`` are (activity id, *values of FORECAST_FIELDS)."""
    bulk.update_rows(Activity, FORECAST_FIELDS, rows)


# The fields of an ApplicationRisk, as selectors.RiskValues orders them.
RISK_FIELDS = ["as_of", "on_time", "p50", "p80", "p95", "driver", "curve", "activities"]


def risk_forecasts_store(rows: list[tuple]) -> None:
    """Store the risk forecasts of analysed applications: ``rows`` are (application id,
    *values of RISK_FIELDS). A row without a forecast (``selectors.NO_RISK``: the forecast
    is off) clears the one stored, if any, and adds no row."""
    bulk.upsert_rows(ApplicationRisk, RISK_FIELDS, [row for row in rows if row[1] is not None])
    cleared = [row[0] for row in rows if row[1] is None]
    if cleared:
        empty = dict(zip(RISK_FIELDS, selectors.NO_RISK, strict=True))
        ApplicationRisk.objects.filter(any_of("pk", cleared), as_of__isnull=False).update(**empty)


def deviations_open(rows: list[tuple]) -> list[int]:
    """Insert new deviations (values of NEW_DEVIATION_FIELDS); return their keys in order."""
    if not rows:
        return []
    return bulk.insert_rows(Deviation, NEW_DEVIATION_FIELDS, rows, returning=True)


def deviations_update(rows: list[tuple]) -> None:
    """Store changed deviations: ``rows`` are (deviation id, *values of DEVIATION_FIELDS)."""
    bulk.update_rows(Deviation, DEVIATION_FIELDS, rows)


def deviations_resolve(*, deviation_ids: list[int], now: datetime) -> None:
    """Resolve the deviations whose delay is gone."""
    bulk.update_rows(
        Deviation,
        ["status", "resolved_at", "updated_at"],
        [(pk, Deviation.Status.RESOLVED, now, now) for pk in deviation_ids],
    )


def proposals_supersede(*, proposal_ids: list[int]) -> None:
    """Mark open proposals superseded: the analysis no longer gives them as they are."""
    if proposal_ids:
        Proposal.objects.filter(any_of("pk", proposal_ids), status=Proposal.Status.PROPOSED).update(
            status=Proposal.Status.SUPERSEDED
        )


def proposals_add(rows: list[tuple]) -> None:
    """Insert open proposals (values of PROPOSAL_FIELDS)."""
    bulk.insert_rows(Proposal, PROPOSAL_FIELDS, rows)


def deviation_answer_store(
    *,
    deviation: Deviation,
    cause: DeviationCause,
    responsible_party: str,
    responsible_department_id: int | None,
    party_reason: str,
    planned_action: str,
    action_due: date,
    by,
    now: datetime,
) -> DeviationAnswer:
    """Record ``by``'s answer to the deviation (cause, who answers, the action and when it
    is due) and keep it in its history; the first answer acknowledges an open deviation."""
    answer = {
        "cause": cause,
        "responsible_party": responsible_party,
        "responsible_department_id": responsible_department_id,
        "party_reason": party_reason,
        "planned_action": planned_action,
        "action_due": action_due,
    }
    for field, value in answer.items():
        setattr(deviation, field, value)
    deviation.updated_at = now  # integrators sync by it (``?updated_since=``)
    fields = [*answer, "updated_at"]
    if deviation.status == Deviation.Status.OPEN:
        deviation.status = Deviation.Status.ACKNOWLEDGED
        deviation.acknowledged_by = by
        deviation.acknowledged_at = now
        fields += ["status", "acknowledged_by", "acknowledged_at"]
    deviation.save(update_fields=fields)
    return DeviationAnswer.objects.create(deviation=deviation, by=by, at=now, **answer)


def proposal_decide(
    *, proposal: Proposal, status: str, by, now: datetime, reason: str = ""
) -> None:
    """Record a person's decision on an open proposal (accepted or dismissed)."""
    proposal.status = status
    proposal.reason = reason
    proposal.decided_by = by
    proposal.decided_at = now
    proposal.save(update_fields=["status", "reason", "decided_by", "decided_at"])


# --- Bulk loads (the demo loader) ---------------------------------------------------------------


def activity_rows(fields: tuple[str, ...]) -> bulk.RowWriter:
    """Return a bulk writer of activities with these fields (a loader's)."""
    return bulk.RowWriter(Activity, fields)


def activity_event_rows(fields: tuple[str, ...]) -> bulk.RowWriter:
    """Return a bulk writer of progress records with these fields (a loader's)."""
    return bulk.RowWriter(ActivityEvent, fields)


def baseline_rows(fields: tuple[str, ...]) -> bulk.RowWriter:
    """Return a bulk writer of baselines with these fields (a loader's)."""
    return bulk.RowWriter(Baseline, fields)


# --- Archive (yekuo.archive) ----------------------------------------------------------------

# The proposals that are history: nothing can be decided on them any more.
DECIDED_PROPOSALS = (Proposal.Status.SUPERSEDED, Proposal.Status.DISMISSED)


def deviations_to_archive(*, before: datetime):
    """Return the deviations resolved before ``before`` that may leave the hot table.

    A deviation someone answered stays: its answers are an append-only record whose
    foreign key holds it, and they are few beside the deviations the sweep opened and
    closed on its own. One with an open proposal stays too (the analysis still reads it).
    """
    return (
        Deviation.objects.filter(status=Deviation.Status.RESOLVED, resolved_at__lt=before)
        .exclude(Exists(DeviationAnswer.objects.filter(deviation=OuterRef("pk"))))
        .exclude(
            Exists(
                Proposal.objects.filter(deviation=OuterRef("pk"), status=Proposal.Status.PROPOSED)
            )
        )
    )


def proposals_to_archive(*, before: datetime):
    """Return the superseded and dismissed proposals decided before ``before``.

    A superseded proposal carries no date of its own: its deviation's last update (the
    analysis that superseded it updated the deviation too) stands for it.
    """
    return (
        Proposal.objects.filter(status__in=DECIDED_PROPOSALS)
        .alias(finished=Coalesce("decided_at", "deviation__updated_at"))
        .filter(finished__lt=before)
    )


def archive_deviations(*, before: datetime, batch_size: int) -> dict[str, int]:
    """Move the deviations resolved before ``before`` (with all their proposals), then the
    decided proposals of the deviations that stay, into the archive tables."""
    proposals = 0

    def with_proposals(deviation_ids: list[int]) -> None:
        nonlocal proposals
        proposals += archive.move_children(
            Proposal, ArchivedProposal, "deviation_id", deviation_ids
        )

    deviations = archive.move_in_batches(
        Deviation,
        ArchivedDeviation,
        lambda: deviations_to_archive(before=before),
        batch_size=batch_size,
        along=with_proposals,
    )
    proposals += archive.move_in_batches(
        Proposal,
        ArchivedProposal,
        lambda: proposals_to_archive(before=before),
        batch_size=batch_size,
    )
    return {"deviations": deviations, "proposals": proposals}


# Durations learned from history (scheduling.learning).


@dataclass(frozen=True)
class LearnSummary:
    """What a learning run read and stored."""

    durations: int  # finished activities used
    estimates: int  # groups stored (the activities as a whole included)
    ignored: dict[str, int]  # records left out, by reason
    seconds: float


LEARN_READ_CHUNK = 5000


def durations_learn(*, now: datetime | None = None) -> LearnSummary:
    """Learn every template activity's duration from the finished activities of all
    applications, by department, region, voltage and customer class, and store the
    estimates; a group not found this time is kept, marked not current.

    One pass over the finished activities (read in chunks, memory per group), one upsert
    and one update: safe to run twice.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    calendar = selectors.working_calendar()
    rows = (
        Activity.objects.filter(
            is_dummy=False, actual_start__isnull=False, actual_finish__isnull=False
        )
        .order_by()
        .values_list(
            "application__template_id",
            "code",
            "duration",
            "actual_start",
            "actual_finish",
            "department__code",
            "application__region__code",
            "application__voltage_class",
            "application__customer_class",
        )
        .iterator(chunk_size=LEARN_READ_CHUNK)
    )

    def finished():
        for template, code, planned, start, finish, department, region, voltage, klass in rows:
            if template is None:
                continue
            actual = calendar.working_days_between(start, finish) + 1 if finish >= start else None
            yield learning.FinishedActivity(
                (template, code),
                planned,
                actual,
                department or "",
                region or "",
                voltage or "",
                klass or "",
            )

    learned = learning.learn(finished())
    groups = LearnedDuration.GROUP_FIELDS
    stored = []
    for ((template, code), group), estimate in learned.estimates.items():
        values = dict.fromkeys(groups, "") | dict(zip(groups, group, strict=False))
        stored.append(
            LearnedDuration(
                template_id=template,
                code=code,
                **values,
                median=estimate.median,
                p80=estimate.p80,
                spread=estimate.spread,
                count=estimate.count,
                is_current=True,
                learned_at=now,
            )
        )
    LearnedDuration.objects.bulk_create(
        stored,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["template", "code", *groups],
        update_fields=["median", "p80", "spread", "count", "is_current", "learned_at"],
    )
    LearnedDuration.objects.filter(learned_at__lt=now, is_current=True).update(is_current=False)
    used = sum(e.count for (_code, group), e in learned.estimates.items() if not group)
    return LearnSummary(
        durations=used,
        estimates=len(learned.estimates),
        ignored=dict(learned.ignored),
        seconds=time.perf_counter() - started,
    )


# --- Shared crews and review meetings (issue 20: scheduling.levelling) -----------------------

CREW_FIELDS = ("kind", "department", "region", "capacity", "meeting_weekday", "is_active")
# A PositiveSmallIntegerField holds this much.
CAPACITY_MAX = 32767


def _capacity_errors(value, field: str) -> dict[str, list[str]]:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= CAPACITY_MAX:
        return {
            field: [
                _("A capacity is a whole number from 0 to %(most)s, got %(value)s.")
                % {"most": CAPACITY_MAX, "value": value}
            ]
        }
    return {}


def _crew_errors(values: dict, *, crew_id: int | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if values["kind"] not in CrewKind.values:
        errors["kind"] = [_("Choose from: %(choices)s.") % {"choices": ", ".join(CrewKind.values)}]
    errors.update(_capacity_errors(values["capacity"], "capacity"))
    weekday = values.get("meeting_weekday")
    if weekday is not None:
        if values["kind"] != CrewKind.REVIEW_MEETING:
            errors["meeting_weekday"] = [_("Only a review meeting is held on a weekday.")]
        elif isinstance(weekday, bool) or weekday not in range(7):
            errors["meeting_weekday"] = [_("A weekday is 0 (Monday) to 6 (Sunday).")]
    if not errors:
        same = Crew.objects.filter(
            kind=values["kind"], department=values["department"], region=values["region"]
        ).exclude(pk=crew_id)
        if same.exists():
            errors["kind"] = [
                _("%(region)s already has a %(kind)s of %(department)s: change that one.")
                % {
                    "region": values["region"],
                    "kind": CrewKind(values["kind"]).label,
                    "department": values["department"],
                }
            ]
    return errors


@transaction.atomic
def crew_create(
    *,
    kind: str,
    department,
    region,
    capacity: int,
    meeting_weekday: int | None = None,
    is_active: bool = True,
    by,
) -> Crew:
    """Add a shared crew (or a region's review meeting) with its daily capacity."""
    values = {
        "kind": kind,
        "department": department,
        "region": region,
        "capacity": capacity,
        "meeting_weekday": meeting_weekday,
        "is_active": is_active,
    }
    if errors := _crew_errors(values, crew_id=None):
        raise InvalidInput(errors)
    return Crew.objects.create(**values)


@transaction.atomic
def crew_update(*, crew_id: int, changes: dict, by) -> Crew:
    """Change a crew's capacity, meeting weekday or active flag (or what it is)."""
    crew = Crew.objects.select_for_update().get(pk=crew_id)
    unknown = set(changes) - set(CREW_FIELDS)
    if unknown:
        raise InvalidInput({f: [_("This field cannot be changed.")] for f in sorted(unknown)})
    values = {field: changes.get(field, getattr(crew, field)) for field in CREW_FIELDS}
    if errors := _crew_errors(values, crew_id=crew.pk):
        raise InvalidInput(errors)
    for field, value in values.items():
        setattr(crew, field, value)
    crew.save()
    return crew


def crew_loads_store(rows: list[tuple]) -> None:
    """Store what a levelling asked of each crew and booked: ``rows`` are (crew id, load,
    days over capacity)."""
    bulk.update_rows(Crew, ["load", "over_capacity_days"], rows)


@transaction.atomic
def crew_capacity_change_add(
    *, crew_id: int, first_day: date, last_day: date, capacity: int, reason: str, by
) -> CrewCapacityChange:
    """Record the crew's capacity over some days (away, lent, an extra day or meeting)."""
    crew = Crew.objects.select_for_update().get(pk=crew_id)
    errors = _capacity_errors(capacity, "capacity")
    for field, day in (("first_day", first_day), ("last_day", last_day)):
        if message := plausible.date_error(day):
            errors[field] = [message]
    if "last_day" not in errors and "first_day" not in errors and last_day < first_day:
        errors["last_day"] = [_("The last day cannot be before the first.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Say why: the people planning read it.")]
    if errors:
        raise InvalidInput(errors)
    return CrewCapacityChange.objects.create(
        crew=crew,
        first_day=first_day,
        last_day=last_day,
        capacity=capacity,
        reason=reason.strip(),
        created_by=by,
    )
