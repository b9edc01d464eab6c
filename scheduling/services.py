"""Writes of the scheduling app."""

from __future__ import annotations

import hashlib
import json
import pickle
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department
from applications import guards
from yekuo import bulk
from yekuo.domain import CLOCKS, Clock
from yekuo.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from yekuo.lookups import any_of

from . import cpm, deviation, selectors
from .models import (
    Activity,
    Baseline,
    CalendarOverride,
    CalendarYear,
    Deviation,
    Proposal,
    Severity,
)
from .selectors import CALENDAR_VERSION_KEY


def calendar_changed() -> None:
    """Make every process rebuild its working-day calendar on next use."""
    try:
        cache.incr(CALENDAR_VERSION_KEY)
    except ValueError:
        cache.set(CALENDAR_VERSION_KEY, 1, timeout=None)


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

    The activities are saved by the caller (created in bulk or updated in bulk).
    """
    calendar = selectors.working_calendar()
    day0 = calendar.project_day_zero(application.start_date)
    compiled = cpm.load_network(selectors.network_data(activities))
    schedule = compiled.evaluate(planned_duration=planned_duration)
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


FORECAST_FIELDS = ["forecast_start", "forecast_finish", "forecast_tf", "forecast_ff", "is_critical"]


def _changed_forecasts(activities, forecast, calendar, day0):
    """Yield (activity, new forecast values) for each activity whose stored values differ."""
    times_of = forecast.activities
    # Every ES and EF lies within the forecast's finish.
    dates = calendar.dates_from(day0, forecast.finish + 1)
    for activity in activities:
        if activity.is_dummy:
            continue
        times = times_of[activity.code]
        values = (
            dates[times.es],
            dates[selectors.finish_offset(times.es, times.ef)],
            times.tf,
            times.ff,
            times.critical,
        )
        stored = (
            activity.forecast_start,
            activity.forecast_finish,
            activity.forecast_tf,
            activity.forecast_ff,
            activity.is_critical,
        )
        if values != stored:
            yield activity, values


def _apply_forecast(application, activities, forecast, calendar, day0) -> list[Activity]:
    """Set the forecast fields in memory; return the activities whose values changed."""
    changed = []
    for activity, values in _changed_forecasts(activities, forecast, calendar, day0):
        for field_name, value in zip(FORECAST_FIELDS, values, strict=True):
            setattr(activity, field_name, value)
        changed.append(activity)
    application.forecast_finish_date = selectors.finish_date(calendar, day0, 0, forecast.finish)
    application.total_float = forecast.min_total_float
    return changed


def schedule_reforecast(*, application, today: date) -> cpm.Schedule:
    """Recompute the forecast of an application from its progress; store it."""
    calendar = selectors.working_calendar()
    activities = list(application.activities.all())
    _baseline, schedule, day0 = selectors.application_forecast(
        application, activities, calendar, today
    )
    changed = _apply_forecast(application, activities, schedule, calendar, day0)
    Activity.objects.bulk_update(changed, FORECAST_FIELDS)
    type(application).objects.filter(pk=application.pk).update(
        forecast_finish_date=application.forecast_finish_date,
        total_float=application.total_float,
    )
    return schedule


# --- The deviation sweep (DESIGN §5, §7) ---------------------------------------------------


@dataclass
class SweepStats:
    """What one sweep (or one batch of it) did."""

    applications: int = 0
    unchanged: int = 0  # read, and skipped: nothing they depend on changed
    opened: Counter = field(default_factory=Counter)
    resolved: Counter = field(default_factory=Counter)
    updated: int = 0
    proposals: int = 0
    notifications: int = 0

    def add(self, other: SweepStats) -> None:
        self.applications += other.applications
        self.unchanged += other.unchanged
        self.opened.update(other.opened)
        self.resolved.update(other.resolved)
        self.updated += other.updated
        self.proposals += other.proposals
        self.notifications += other.notifications

    def as_dict(self) -> dict:
        return {
            "applications": self.applications,
            "unchanged": self.unchanged,
            "opened": dict(self.opened),
            "resolved": dict(self.resolved),
            "updated": self.updated,
            "proposals": self.proposals,
            "notifications": self.notifications,
        }


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
    "explanation_zh",
    "explanation_en",
    "department",
]


class _SweptActivity(NamedTuple):
    """The columns of an activity the sweep reads, under the model's attribute names.

    The sweep reads tuples rather than model instances: building some twenty instances
    per application was the largest single cost of a sweep. The first ``_LOGIC`` columns are
    the key of the compiled network: its logic (as in :func:`scheduling.selectors.compiled_for`)
    and the labels it carries into explanations and proposals. The JSON columns are read as
    their text, hashable and decoded only when a network is compiled.
    """

    code: str
    tail: int | None
    head: int | None
    is_dummy: bool
    predecessors: str
    parallel_with: str
    kind: str
    meeting_weekday: int | None
    party: str
    shortest_duration: int | None
    name: str
    department_id: int | None
    name_en: str
    stage: str
    department_name: str | None
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


_LOGIC = _SweptActivity._fields.index("id")
_JSON_COLUMNS = ("predecessors", "parallel_with")


def _swept_activities(application_ids: list[int]) -> dict[int, list[_SweptActivity]]:
    """Return the activities of these applications by application, in network order."""
    columns = [
        name if name not in _JSON_COLUMNS else f"{name}_text" for name in _SweptActivity._fields
    ]
    rows = (
        Activity.objects.filter(any_of("application_id", application_ids))
        .annotate(
            **{f"{name}_text": Cast(name, output_field=TextField()) for name in _JSON_COLUMNS},
            department_name=F("department__name"),
        )
        .order_by("application_id", "sort_order", "id")
        .values_list(*columns)
    )
    by_application: dict[int, list[_SweptActivity]] = defaultdict(list)
    # tuple.__new__ is what _make calls, less its check of the length (the columns are the
    # fields) and its Python frame: a sweep makes some 17 per application.
    make = partial(tuple.__new__, _SweptActivity)
    for activity in map(make, rows):
        by_application[activity.application_id].append(activity)
    return by_application


def _as_model(row: _SweptActivity) -> Activity:
    """Return an unsaved activity with what the engine reads of ``row`` (to compile it)."""
    values = row._asdict()
    department_name = values.pop("department_name")
    for name in _JSON_COLUMNS:
        values[name] = json.loads(values[name])
    activity = Activity(**values)
    if row.department_id is not None:
        activity.department = Department(pk=row.department_id, name=department_name)
    return activity


def _logic_key(rows: list[_SweptActivity]) -> tuple:
    """Return the key of an application's network: its activities' logic columns."""
    return (_SweptActivity, *(row[:_LOGIC] for row in rows))


def _compiled_rows(rows: list[_SweptActivity], key: tuple) -> cpm.CompiledNetwork:
    """Return the compiled network of an application's swept activities (key: _logic_key)."""
    return selectors.compiled_network(key, lambda: selectors.network_data(map(_as_model, rows)))


# The digests of the networks seen, by _logic_key: applications copied from one template
# share one, so a fingerprint pickles only what differs between them.
_LOGIC_DIGESTS: dict[tuple, bytes] = {}


def _logic_digest(key: tuple) -> bytes:
    digest = _LOGIC_DIGESTS.get(key)
    if digest is None:
        if len(_LOGIC_DIGESTS) > 4096:
            _LOGIC_DIGESTS.clear()
        digest = _LOGIC_DIGESTS[key] = hashlib.blake2b(_pickled(key[1:]), digest_size=16).digest()
    return digest


class _WorkingDays:
    """The working days of ``calendar`` from a batch's earliest start on, in one list.

    The forecast converts between dates and working-day offsets a few dozen times per
    application; from one list (day 0 + k is the entry k places after day 0), each is a
    lookup rather than a search of the calendar. It answers the calendar methods that the
    forecast, the progress and the time limits use, with the calendar's results. A date
    outside the list is left to the calendar, and the list grows only as far as an offset
    or a start asks, so it loads no year that the calendar would not have loaded.
    """

    def __init__(self, calendar, first: date) -> None:
        self._calendar = calendar
        first = calendar.project_day_zero(first)
        self._days = [first]
        self._index = {first: 0}

    def _grow(self, until: Callable[[list[date]], bool]) -> None:
        days, index, following = self._days, self._index, self._calendar.next_working_day
        while not until(days):
            day = following(days[-1])
            index[day] = len(days)
            days.append(day)

    def is_working_day(self, day: date) -> bool:
        if self._days[0] <= day <= self._days[-1]:
            return day in self._index
        return self._calendar.is_working_day(day)

    def dates_from(self, start: date, count: int) -> list[date]:
        zero = self._index.get(start)
        if zero is None or count <= 0:
            return self._calendar.dates_from(start, count)
        if zero + count > len(self._days):
            self._grow(lambda days: len(days) >= zero + count)
        return self._days[zero : zero + count]

    def working_days_in(self, first: date, last: date) -> int:
        days = self._days
        if not days[0] <= first <= last <= days[-1]:
            return self._calendar.working_days_in(first, last)
        return bisect_right(days, last) - bisect_left(days, first)

    def project_day_zero(self, start: date) -> date:
        if start in self._index:
            return start
        if start < self._days[0]:
            return self._calendar.project_day_zero(start)
        self._grow(lambda days: days[-1] >= start)
        return self._days[bisect_left(self._days, start)]

    def offset_to_date(self, start: date, offset: int) -> date:
        position = self._index.get(start)
        if position is None or offset < 0:
            return self._calendar.offset_to_date(start, offset)
        position += offset
        if position >= len(self._days):
            self._grow(lambda days: len(days) > position)
        return self._days[position]

    def date_to_offset(self, start: date, day: date) -> int:
        zero = self._index.get(start)
        if zero is None or not self._days[0] <= day <= self._days[-1]:
            return self._calendar.date_to_offset(start, day)
        position = self._index.get(day)
        if position is None:  # a day off: the offset of the next working day
            position = bisect_left(self._days, day)
        return position - zero


def _late(baseline: cpm.Schedule, forecast: cpm.Schedule) -> bool:
    """Return whether any activity is forecast to finish after its baseline finish.

    Without one, :func:`deviation.analyse_forecast` finds nothing, and this says so for
    less.
    """
    now = forecast.activities
    return any(now[activity].ef > times.ef for activity, times in baseline.activities.items())


class _SweptApplication(NamedTuple):
    """What the sweep reads of an application: its schedule inputs and stored results, and
    what its notifications name (the number, the customer, the account manager).

    A tuple rather than a model instance, as for the activities: the instances (with the
    customer and the manager joined, and the state machine's bookkeeping) cost as much as
    the activities' rows.
    """

    pk: int
    state: str
    number: str
    customer_class: str
    start_date: date
    committed_duration: int | None
    sweep_fingerprint: str
    version: int
    customer_name: str
    account_manager: _Recipient | None


class _Recipient(NamedTuple):
    """A person to notify, as notification_send_many reads one."""

    pk: int
    is_active: bool


_APPLICATION_COLUMNS = (
    "id",
    "state",
    "number",
    "customer_class",
    "start_date",
    "committed_duration",
    "sweep_fingerprint",
    "version",
    "customer__name",
    "account_manager_id",
    "account_manager__is_active",
)


def _swept_applications(application_ids: list[int]) -> list[_SweptApplication]:
    """Return the applications of a batch that are in a work state, in id order."""
    from applications.models import WORK_STATES, Application

    rows = (
        Application.objects.filter(any_of("pk", application_ids), state__in=WORK_STATES)
        .order_by("pk")
        .values_list(*_APPLICATION_COLUMNS)
    )
    return [
        _SweptApplication(*row[:-2], _Recipient(row[-2], row[-1]) if row[-2] is not None else None)
        for row in rows
    ]


# Part of every fingerprint: raise it when a change of the engine or of the sweep alters
# what the same inputs give, so that the next sweep recomputes every application.
SWEEP_REVISION = 1
# The columns of a swept activity that are inputs: all but the stored forecast.
_INPUTS = _SweptActivity._fields.index("forecast_start")


def _of_applications(ids: list[int]) -> Q:
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


def _pickled(value) -> bytes:
    """Return ``value`` (tuples, lists, strings, numbers, dates, None) as stable bytes.

    Pickle writes an object it met before in one value as a reference to it, so its bytes
    follow which values are one object. For the values a sweep reads that is the same every
    time: each is a new object, but for CPython's shared ones (the empty string, strings of
    one character, None, booleans), which are shared the same way every time. Were it ever
    otherwise, a fingerprint would differ and the application be computed again: a cost,
    not a wrong answer. With that memo it is twice as fast as without, and three times as
    fast as ``repr`` (some 10 µs for an application's inputs).
    """
    return pickle.dumps(value, protocol=5)


def _fingerprint(application, activities: list[_SweptActivity], context: bytes, key) -> str:
    """Return the digest of what a sweep computes an application from.

    ``context`` holds what the whole batch shares (the revision, the day, the calendar,
    the time limits), pickled once; ``key`` is the activities' logic (their _logic_key),
    digested once per network. The application's version changes with every transition,
    change and re-plan; its activities' logic and progress are read as they are now.
    """
    inputs = (
        application.customer_class,
        application.state,
        application.version,
        application.start_date,
        application.committed_duration,
        tuple(row[_LOGIC:_INPUTS] for row in activities),
    )
    return hashlib.blake2b(
        context + _logic_digest(key) + _pickled(inputs), digest_size=16
    ).hexdigest()


@transaction.atomic
def deviation_sweep_batch(*, application_ids: list[int], now: datetime | None = None) -> SweepStats:
    """Forecast a batch of applications, upsert their deviations, check their time limits.

    The batch is read in a constant number of queries (applications, activities, open
    deviations, the suspension log) and written in bulk, so its cost grows with the rows,
    not with round trips. Only what changed is written. Running it twice gives the same
    rows and no second notification.
    """
    from applications.models import Application
    from applications.selectors import time_limits_by_class

    now = now or timezone.now()
    today = timezone.localdate(now)
    stats = SweepStats()
    applications = _swept_applications(application_ids)
    if not applications:
        return stats
    ids = [a.pk for a in applications]
    calendar = _WorkingDays(selectors.working_calendar(), min(a.start_date for a in applications))
    by_application = _swept_activities(ids)
    limits = time_limits_by_class()
    context = _pickled(
        (
            SWEEP_REVISION,
            today,
            selectors.working_calendar_digest(),
            sorted((k, sorted(v.items())) for k, v in limits.items()),
            settings.REVIEW_MEETING_WEEKDAY,
        )
    )
    fingerprints: list[tuple[int, str]] = []
    unchanged: set[int] = set()
    open_deviations = {
        d.activity_id: d
        for d in map(
            _OpenDeviation._make,
            # As the index deviation_open_by_application is defined.
            Deviation.objects.filter(_of_applications(ids))
            .exclude(status=Deviation.Status.RESOLVED)
            .order_by()
            .values_list(*_OpenDeviation._fields),
        )
    }
    changed_activities: list[tuple] = []
    # (pk, forecast finish, total float) of each application computed again.
    forecasts: dict[int, tuple[date, int]] = {}
    new_deviations: list[_SweptDeviation] = []
    # (pk, *the values of DEVIATION_FIELDS) of each open deviation that changed.
    updated_deviations: list[tuple] = []
    proposals_for: list[tuple[_SweptDeviation, list, tuple]] = []
    red_alerts: list[tuple] = []
    seen: set[int] = set()
    for application in applications:
        activities = by_application[application.pk]
        key = _logic_key(activities)
        fingerprint = _fingerprint(application, activities, context, key)
        if fingerprint == application.sweep_fingerprint:
            # Nothing it depends on changed since the last sweep: the same forecast, the
            # same deviations and the same time-limit readings would come out.
            unchanged.add(application.pk)
            continue
        fingerprints.append((application.pk, fingerprint))
        compiled = _compiled_rows(activities, key)
        baseline, forecast, day0 = selectors.application_forecast(
            application, activities, calendar, today, compiled
        )
        for activity, values in _changed_forecasts(activities, forecast, calendar, day0):
            changed_activities.append((activity.id, *values))
        finish = selectors.finish_date(calendar, day0, 0, forecast.finish)
        forecasts[application.pk] = (finish, forecast.min_total_float)
        if not _late(baseline, forecast):
            continue
        by_code = {a.code: a for a in activities if a.code}

        def weekday_of(offset, day0=day0):
            return calendar.offset_to_date(day0, offset).weekday()

        for found in deviation.analyse_forecast(baseline, forecast, causes_only=True):
            activity = by_code[found.activity]
            seen.add(activity.id)
            existing = open_deviations.get(activity.id)
            if existing is not None and (existing.delay, existing.severity) == (
                found.delay,
                found.severity,
            ):
                continue
            values = (
                now,
                found.delay,
                found.total_float,
                found.free_float,
                found.critical,
                found.total_duration_delay,
                found.successor_delay,
                found.commitment_overrun,
                found.severity,
                found.explanation_zh,
                found.explanation_en,
                activity.department_id,
            )
            if existing is None:
                row = _SweptDeviation(
                    None, found.explanation_zh, (application.pk, activity.id, now, *values)
                )
                new_deviations.append(row)
                stats.opened[found.severity] += 1
                if found.severity == Severity.RED:
                    red_alerts.append((row, application, activity))
            else:
                became_red = found.severity == Severity.RED and existing.severity != Severity.RED
                updated_deviations.append((existing.pk, *values))
                stats.updated += 1
                row = _SweptDeviation(existing.pk, found.explanation_zh)
                if became_red:
                    red_alerts.append((row, application, activity))
            if found.severity in (Severity.RED, Severity.AMBER):
                proposals_for.append(
                    (
                        row,
                        deviation.propose_corrections(
                            forecast,
                            deviating=found.activity,
                            meeting_weekday=settings.REVIEW_MEETING_WEEKDAY,
                            weekday_of=weekday_of,
                        ),
                        (calendar, day0),
                    )
                )
    gone = [
        d
        for activity_id, d in open_deviations.items()
        if activity_id not in seen and d.application_id not in unchanged
    ]
    for row in gone:
        stats.resolved[row.severity] += 1

    bulk.update_rows(Activity, FORECAST_FIELDS, changed_activities)
    _store_new_deviations(new_deviations)
    bulk.update_rows(Deviation, DEVIATION_FIELDS, updated_deviations)
    bulk.update_rows(
        Deviation,
        ["status", "resolved_at", "updated_at"],
        [(row.pk, Deviation.Status.RESOLVED, now, now) for row in gone],
    )
    stats.proposals = _store_proposals(proposals_for)
    stats.notifications = _notify_red(red_alerts)
    swept = [a for a in applications if a.pk not in unchanged]
    statuses: dict[int, str] = {}
    if swept:
        notified, statuses = _check_time_limits(swept, by_application, calendar, today, limits)
        stats.notifications += notified
    # One row per application computed again: its fingerprint, forecast and status. (Only
    # what changed was written before; an application's row is rewritten for its new
    # fingerprint anyway, and one statement costs less than three.)
    bulk.update_rows(
        Application,
        ["sweep_fingerprint", "forecast_finish_date", "total_float", "time_limit_status"],
        [(pk, fingerprint, *forecasts[pk], statuses[pk]) for pk, fingerprint in fingerprints],
    )
    stats.applications = len(applications)
    stats.unchanged = len(unchanged)
    return stats


_NEW_DEVIATION_FIELDS = ["application", "activity", "detected_at", *DEVIATION_FIELDS]


class _OpenDeviation(NamedTuple):
    """What the batch reads of a deviation open before it ran."""

    pk: int
    application_id: int
    activity_id: int
    delay: int
    severity: str


class _SweptDeviation:
    """A deviation the batch opens or changes, as its proposals and the red alerts refer to
    it: its key (for a new one, once stored), whether it existed, its explanation and, for a
    new one, its row's values. (Not a model instance: a sweep handles thousands.)"""

    __slots__ = ("pk", "existed", "explanation_zh", "values")

    def __init__(self, pk: int | None, explanation_zh: str, values: tuple = ()) -> None:
        self.pk = pk
        self.existed = pk is not None
        self.explanation_zh = explanation_zh
        self.values = values


def _store_new_deviations(rows: list[_SweptDeviation]) -> None:
    """Insert the new deviations and set their keys."""
    if not rows:
        return
    ids = bulk.insert_rows(
        Deviation, _NEW_DEVIATION_FIELDS, [row.values for row in rows], returning=True
    )
    for row, pk in zip(rows, ids, strict=True):
        row.pk = pk


_PROPOSAL_FIELDS = [
    "deviation",
    "kind",
    "activities",
    "description_zh",
    "description_en",
    "new_finish",
    "days_recovered",
    "detail",
    "status",
    "reason",
]


def _store_proposals(proposals_for) -> int:
    """Replace the open proposals of each deviation by the engine's current ones."""
    if not proposals_for:
        return 0
    # Only a deviation that was open before has proposals to replace.
    replaced = [row.pk for row, _p, _c in proposals_for if row.existed]
    if replaced:
        Proposal.objects.filter(
            any_of("deviation_id", replaced), status=Proposal.Status.PROPOSED
        ).update(status=Proposal.Status.SUPERSEDED)
    rows = []
    for row, proposals, (calendar, day0) in proposals_for:
        for item in proposals:
            rows.append(
                (
                    row.pk,
                    item.kind,
                    list(item.activities),
                    item.description_zh,
                    item.description_en,
                    (
                        calendar.offset_to_date(day0, max(0, item.new_finish - 1))
                        if item.new_finish is not None
                        else None
                    ),
                    item.days_recovered,
                    {**dict(item.detail), "departments": list(item.departments)},
                    Proposal.Status.PROPOSED,
                    "",
                )
            )
    bulk.insert_rows(Proposal, _PROPOSAL_FIELDS, rows)
    return len(rows)


def _notify_red(red_alerts) -> int:
    """Tell the manager, the owning department and the supervisors about red deviations."""
    if not red_alerts:
        return 0
    from accounts.selectors import department_staff, supervisors
    from accounts.services import notification_send_many

    bosses = list(supervisors())
    staff = department_staff({activity.department_id for _r, _a, activity in red_alerts})
    items = []
    for row, application, activity in red_alerts:
        recipients = [application.account_manager, *bosses, *staff.get(activity.department_id, [])]
        text = _("%(number)s %(customer)s: %(explanation)s") % {
            "number": application.number,
            "customer": application.customer_name,
            "explanation": row.explanation_zh,
        }
        for recipient in recipients:
            if recipient is not None:
                items.append((recipient, "deviation_red", application, text, f"red:{row.pk}"))
    return notification_send_many(items)


class _LogRow(NamedTuple):
    """A suspend, resume or cancel row of an application's log, as suspension_periods reads it."""

    transition: str
    at: datetime


def _check_time_limits(
    applications, by_application, calendar, today, limits
) -> tuple[int, dict[int, str]]:
    """Read the time limits of a batch: warn at 80 % and alarm past 100 % of each limit,
    each once per application. Return how many were notified and each application's worst
    status, which the batch stores."""
    from accounts.models import Notification
    from accounts.selectors import supervisors
    from accounts.services import notification_send_many
    from applications.models import StageTransition
    from applications.selectors import clock_work, time_limit_readings

    from .timelimits import worst_status

    ids = [application.pk for application in applications]
    log = defaultdict(list)
    for application_id, transition, at in (
        StageTransition.objects.filter(
            any_of("application_id", ids), transition__in=["suspend", "resume", "cancel"]
        )
        .order_by("at", "id")
        .values_list("application_id", "transition", "at")
    ):
        log[application_id].append(_LogRow(transition, at))
    bosses = None
    sent: set[tuple[int, str]] = set()
    items = []
    statuses: dict[int, str] = {}
    for application in applications:
        readings = time_limit_readings(
            application,
            work=clock_work(by_application[application.pk]),
            log=log[application.pk],
            limits=limits,
            today=today,
            working_days=calendar.working_days_in,
        )
        statuses[application.pk] = worst_status(readings)
        for reading in readings.values():
            if reading.status not in ("warning", "exceeded"):
                continue
            if bosses is None:
                bosses = list(supervisors())
                # An application stays past a limit for weeks, so most of these were sent by
                # an earlier sweep; found by application, they are skipped before their
                # text is written (notification_send_many would skip them only after).
                sent = set(
                    Notification.objects.filter(
                        _of_applications(ids), kind__in=["limit_warning", "limit_exceeded"]
                    )
                    .order_by()
                    .values_list("recipient_id", "dedupe_key")
                )
            key = f"limit:{application.pk}:{reading.clock}:{reading.status}"
            if reading.status == "warning":
                text = _("%(number)s: %(clock)s has used %(used)d of %(limit)d working days.")
                recipients = [application.account_manager]
            else:
                text = _(
                    "%(number)s: %(clock)s is past its limit: %(used)d of %(limit)d working days."
                )
                recipients = [application.account_manager, *bosses]
            recipients = [r for r in recipients if r is not None and (r.pk, key) not in sent]
            if not recipients:
                continue
            label = Clock(reading.clock).label if reading.clock in CLOCKS else _("Whole process")
            text = text % {
                "number": application.number,
                "clock": label,
                "used": reading.used,
                "limit": reading.limit,
            }
            for recipient in recipients:
                items.append((recipient, f"limit_{reading.status}", application, text, key))
    return (notification_send_many(items) if items else 0), statuses


def deviation_sweep(*, now: datetime | None = None, batch_size: int | None = None) -> SweepStats:
    """Run the whole sweep in this process, batch by batch (the command's way)."""
    from applications.models import WORK_STATES, Application

    batch_size = batch_size or settings.SWEEP_BATCH_SIZE
    ids = list(
        Application.objects.filter(state__in=WORK_STATES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    total = SweepStats()
    for start in range(0, len(ids), batch_size):
        total.add(deviation_sweep_batch(application_ids=ids[start : start + batch_size], now=now))
    return total


# --- Answering deviations -------------------------------------------------------------------


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


@transaction.atomic
def deviation_acknowledge(*, deviation_id: int, by, now: datetime | None = None) -> Deviation:
    """Record that the person answerable has seen the deviation and is on it."""
    row = _deviation_for_update(deviation_id)
    if not guards.may_answer_deviation(by, row):
        raise NotPermitted(_("You may not answer this deviation."))
    if row.status != Deviation.Status.OPEN:
        raise TransitionNotAllowed([_("Only an open deviation can be acknowledged.")])
    row.status = Deviation.Status.ACKNOWLEDGED
    row.acknowledged_by = by
    row.acknowledged_at = now or timezone.now()
    row.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
    return row


def _proposal_for_update(proposal_id: int) -> Proposal:
    try:
        return (
            Proposal.objects.select_for_update(of=("self",))
            .select_related("deviation", "deviation__application")
            .get(pk=proposal_id)
        )
    except Proposal.DoesNotExist:
        raise InvalidInput(
            {"proposal": [_("There is no proposal %(id)s.") % {"id": proposal_id}]}
        ) from None


def _parallel_logic(activities: list[Activity], first: str, second: str) -> dict[str, dict]:
    """Return the logic change that runs two directly linked activities side by side.

    Activity on node: the later one takes the earlier one's predecessors instead of it.
    Activity on arrow: the later arc starts from the earlier arc's tail, and a dummy from
    the earlier arc's head keeps what followed the later one waiting for both — possible
    only when the earlier arc is the only way into that event.
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
    into = [x for x in activities if x.head == earlier.head]
    if len(into) != 1:
        raise InvalidInput(
            {
                "proposal": [
                    _(
                        "Running %(a)s and %(b)s in parallel needs the network redrawn: "
                        "re-plan it in the administration."
                    )
                    % {"a": earlier, "b": later}
                ]
            }
        )
    return {
        later.code: {"tail": earlier.tail},
        "__dummy__": {"tail": earlier.head, "head": later.head},
    }


@transaction.atomic
def proposal_accept(*, proposal_id: int, by, now: datetime | None = None):
    """Accept a corrective proposal: a re-plan for shortening or running in parallel.

    Catching the meeting and escalating are instructions to people: accepting records the
    decision (and, for an escalation, tells the supervisors and the owning department).
    """
    from applications import services as application_services

    proposal = _proposal_for_update(proposal_id)
    application = proposal.deviation.application
    if not guards.is_supervisor(by):
        raise NotPermitted(_("Only a supervisor accepts a corrective measure."))
    if proposal.status != Proposal.Status.PROPOSED:
        raise TransitionNotAllowed(
            [_("This proposal is %(status)s already.") % {"status": proposal.get_status_display()}]
        )
    reason = _("Corrective measure accepted: %(what)s") % {"what": proposal.description_zh}
    if proposal.kind == deviation.SHORTEN:
        durations = proposal.detail.get("durations") or {}
        application_services.application_replan(
            application_id=application.pk,
            durations={code: pair[1] for code, pair in durations.items()},
            reason=reason,
            by=by,
        )
    elif proposal.kind == deviation.PARALLEL:
        activities = list(application.activities.all())
        logic = _parallel_logic(activities, *proposal.activities[:2])
        dummy = logic.pop("__dummy__", None)
        if dummy is not None:
            Activity.objects.create(
                application=application,
                code="",
                is_dummy=True,
                duration=0,
                party="utility",
                kind="normal",
                sort_order=max(a.sort_order for a in activities) + 1,
                **dummy,
            )
        application_services.application_replan(
            application_id=application.pk, logic=logic, reason=reason, by=by
        )
    elif proposal.kind == deviation.ESCALATE:
        from accounts.selectors import department_staff, supervisors
        from accounts.services import notification_send_many

        row = proposal.deviation
        staff = department_staff([row.department_id]).get(row.department_id, [])
        text = _("Escalated: %(number)s — %(what)s") % {
            "number": application.number,
            "what": row.explanation_zh,
        }
        notification_send_many(
            [
                (person, "escalation", application, text, f"escalate:{proposal.pk}")
                for person in [*supervisors(), *staff]
            ]
        )
    proposal.status = Proposal.Status.ACCEPTED
    proposal.decided_by = by
    proposal.decided_at = now or timezone.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    return proposal


@transaction.atomic
def proposal_dismiss(*, proposal_id: int, reason: str, by, now: datetime | None = None):
    """Dismiss a corrective proposal, saying why."""
    proposal = _proposal_for_update(proposal_id)
    if not guards.may_answer_deviation(by, proposal.deviation):
        raise NotPermitted(_("You may not answer this deviation."))
    if proposal.status != Proposal.Status.PROPOSED:
        raise TransitionNotAllowed(
            [_("This proposal is %(status)s already.") % {"status": proposal.get_status_display()}]
        )
    if not (reason or "").strip():
        raise InvalidInput({"reason": [_("Say why the proposal is dismissed.")]})
    proposal.status = Proposal.Status.DISMISSED
    proposal.reason = reason.strip()
    proposal.decided_by = by
    proposal.decided_at = now or timezone.now()
    proposal.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    return proposal
