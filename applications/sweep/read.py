"""Read a batch: its applications, activities, open deviations, open proposals and the
suspensions of its time-limit clocks, each in one query, as plain tuples.

The sweep reads tuples rather than model instances: building some twenty instances per
application (with the customer and the manager joined, and the state machine's
bookkeeping) was the largest single cost of a sweep.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime
from functools import partial
from typing import NamedTuple

from django.db.models import F, Q, TextField
from django.db.models.functions import Cast

from accounts.models import Department
from scheduling import cpm
from scheduling import selectors as schedule_selectors
from scheduling.models import Activity, Deviation, Proposal
from yekuo.lookups import any_of

from ..models import WORK_STATES, Application, StageTransition


class SweptActivity(NamedTuple):
    """The columns of an activity the sweep reads, under the model's attribute names.

    The first ``LOGIC`` columns are the key of the compiled network: its logic (as in
    :func:`scheduling.selectors.compiled_for`) and the labels it carries into explanations
    and proposals. The JSON columns are read as their text, hashable and decoded only when
    a network is compiled.
    """

    code: str
    tail: int | None
    head: int | None
    is_dummy: bool
    predecessors: str
    parallel_with: str
    kind: str
    meeting_weekday: int | None
    lead: int
    party: str
    shortest_duration: int | None
    name: str
    department_id: int | None
    name_en: str
    stage: str
    department_name: str | None
    department_code: str | None
    # The columns above are the network's logic and its labels, the same for every
    # application planned from one template; those below are the application's own.
    id: int
    application_id: int
    duration: int
    actual_start: date | None
    actual_finish: date | None
    remaining: int | None
    clock: str
    forecast_start: date | None
    forecast_finish: date | None
    forecast_tf: int | None
    forecast_ff: int | None
    is_critical: bool
    is_ready: bool


LOGIC = SweptActivity._fields.index("id")
# The columns of a swept activity that are inputs: all but the stored forecast.
INPUTS = SweptActivity._fields.index("forecast_start")
_JSON_COLUMNS = ("predecessors", "parallel_with")


def of_applications(ids: list[int]) -> Q:
    """Filter the rows of these applications (a batch's ids, not empty) by their index.

    The range repeats what the list says, for the planner: a first sweep adds tens of
    thousands of deviations and notifications to tables that were empty when their
    statistics were taken, and without statistics the planner takes a list of a few hundred
    ids for most of the table and scans all of it, batch after batch. A range it takes for a
    small part, and reads the index; with statistics, both estimates are right anyway.
    """
    return Q(
        any_of("application_id", ids), application_id__gte=min(ids), application_id__lte=max(ids)
    )


def swept_activities(application_ids: list[int]) -> dict[int, list[SweptActivity]]:
    """Return the activities of these applications by application, in network order."""
    columns = [
        name if name not in _JSON_COLUMNS else f"{name}_text" for name in SweptActivity._fields
    ]
    rows = (
        Activity.objects.filter(any_of("application_id", application_ids))
        .annotate(
            **{f"{name}_text": Cast(name, output_field=TextField()) for name in _JSON_COLUMNS},
            department_name=F("department__name"),
            department_code=F("department__code"),
        )
        .order_by("application_id", "sort_order", "id")
        .values_list(*columns)
    )
    by_application: dict[int, list[SweptActivity]] = defaultdict(list)
    # tuple.__new__ is what _make calls, less its check of the length (the columns are the
    # fields) and its Python frame: a sweep makes some 17 per application.
    make = partial(tuple.__new__, SweptActivity)
    for activity in map(make, rows):
        by_application[activity.application_id].append(activity)
    return by_application


def _as_model(row: SweptActivity) -> Activity:
    """Return an unsaved activity with what the engine reads of ``row`` (to compile it)."""
    values = row._asdict()
    department_name = values.pop("department_name")
    values.pop("department_code")
    for name in _JSON_COLUMNS:
        values[name] = json.loads(values[name])
    activity = Activity(**values)
    if row.department_id is not None:
        activity.department = Department(pk=row.department_id, name=department_name)
    return activity


def logic_key(rows: list[SweptActivity]) -> tuple:
    """Return the key of an application's network: its activities' logic columns."""
    return (SweptActivity, *(row[:LOGIC] for row in rows))


def compiled_rows(rows: list[SweptActivity], key: tuple) -> cpm.CompiledNetwork:
    """Return the compiled network of an application's swept activities (key: logic_key)."""
    return schedule_selectors.compiled_network(
        key, lambda: schedule_selectors.network_data(map(_as_model, rows))
    )


class Recipient(NamedTuple):
    """A person to notify, as notification_send_many reads one."""

    pk: int
    is_active: bool


class SweptApplication(NamedTuple):
    """What the sweep reads of an application: its schedule inputs and stored results, and
    what its notifications name (the number, the customer, the account manager)."""

    pk: int
    state: str
    number: str
    customer_class: str
    start_date: date
    committed_duration: int | None
    plan_meeting_weekday: int | None
    sweep_fingerprint: str
    version: int
    # The activities a crew's queue holds back, and the day it takes them (capacity.py).
    capacity_holds: dict
    # What the learned durations are grouped by (scheduling.learning).
    template_id: int | None
    region_code: str | None
    voltage_class: str
    customer_name: str
    account_manager: Recipient | None


_APPLICATION_COLUMNS = (
    "id",
    "state",
    "number",
    "customer_class",
    "start_date",
    "committed_duration",
    "plan_meeting_weekday",
    "sweep_fingerprint",
    "version",
    "capacity_holds",
    "template_id",
    "region__code",
    "voltage_class",
    "customer__name",
    "account_manager_id",
    "account_manager__is_active",
)


def swept_applications(application_ids: list[int]) -> list[SweptApplication]:
    """Return the applications of a batch that are in a work state, in id order, locked.

    A change to an application (progress, a transition, a re-plan) analyses it in its own
    transaction while it holds the row: the batch skips those rows rather than wait, and
    so never writes an analysis older than the change's over it.
    """
    rows = (
        Application.objects.filter(any_of("pk", application_ids), state__in=WORK_STATES)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("pk")
        .values_list(*_APPLICATION_COLUMNS)
    )
    return [
        SweptApplication(*row[:-2], Recipient(row[-2], row[-1]) if row[-2] is not None else None)
        for row in rows
    ]


class OpenDeviation(NamedTuple):
    """What the batch reads of a deviation open before it ran."""

    pk: int
    application_id: int
    activity_id: int
    delay: int
    severity: str
    # The facts the explanation is rendered from: a change to any is stored.
    total_float: int
    free_float: int
    critical: bool
    total_slip: int
    successor_slip: int
    commitment_overrun: int
    department_id: int | None


def open_deviations(ids: list[int]) -> dict[int, OpenDeviation]:
    """Return the open deviations of these applications by activity id."""
    rows = (
        # As the index deviation_open_by_application is defined.
        Deviation.objects.filter(of_applications(ids))
        .exclude(status=Deviation.Status.RESOLVED)
        .order_by()
        .values_list(*OpenDeviation._fields)
    )
    return {d.activity_id: d for d in map(OpenDeviation._make, rows)}


class OpenProposal(NamedTuple):
    """What the batch reads of an open proposal: enough to tell whether it still holds."""

    pk: int
    application_id: int
    deviation_id: int
    measure: str
    basis: str
    basis_finish: date
    new_finish: date | None
    days_recovered: int | None


def open_proposals(ids: list[int]) -> dict[int, dict[str, OpenProposal]]:
    """Return the open proposals of these applications: by application, by measure."""
    rows = (
        # As the index of one_open_proposal_per_measure is defined.
        Proposal.objects.filter(of_applications(ids), status=Proposal.Status.PROPOSED)
        .order_by()
        .values_list(*OpenProposal._fields)
    )
    by_application: dict[int, dict[str, OpenProposal]] = defaultdict(dict)
    for row in map(OpenProposal._make, rows):
        by_application[row.application_id][row.measure] = row
    return by_application


class LogRow(NamedTuple):
    """A suspend, resume or cancel row of an application's log, as suspension_periods reads it."""

    transition: str
    at: datetime


def suspension_log(ids: list[int]) -> dict[int, list[LogRow]]:
    """Return the suspend, resume and cancel rows of these applications, oldest first."""
    log: dict[int, list[LogRow]] = defaultdict(list)
    for application_id, transition, at in (
        StageTransition.objects.filter(
            any_of("application_id", ids), transition__in=["suspend", "resume", "cancel"]
        )
        .order_by("at", "id")
        .values_list("application_id", "transition", "at")
    ):
        log[application_id].append(LogRow(transition, at))
    return log
