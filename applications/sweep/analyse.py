"""Analyse one application of a batch: its forecast, its deviations and its proposals,
compared with what is stored, into the batch's lists of changes (written by store.py)."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings

from scheduling import cpm, deviation, risk
from scheduling import selectors as schedule_selectors
from scheduling.models import Proposal, Severity

from .fingerprint import pickled
from .read import OpenDeviation, OpenProposal, SweptActivity, SweptApplication


class SweptDeviation:
    """A deviation the batch opens or changes, as its proposals and the red alerts refer to
    it: its key (for a new one, once stored), what the engine found and, for a new one,
    its row's values. (Not a model instance: a sweep handles thousands.)"""

    __slots__ = ("pk", "found", "values")

    def __init__(self, pk: int | None, found: deviation.Deviation, values: tuple = ()) -> None:
        self.pk = pk
        self.found = found
        self.values = values


@dataclass
class BatchChanges:
    """What a batch writes: only what differs from the stored rows."""

    # (activity id, *forecast values) of each activity whose forecast moved.
    forecasts: list[tuple] = field(default_factory=list)
    # (application id) -> (forecast finish, total float) of each application computed again.
    finishes: dict[int, tuple[date, int]] = field(default_factory=dict)
    # (application id) -> its Monte Carlo forecast: the values of
    # scheduling.services.RISK_FIELDS (NO_RISK with the forecast off).
    risks: dict[int, schedule_selectors.RiskValues] = field(default_factory=dict)
    # (application id, the forecast to run, its day 0): run together when the batch has
    # been analysed (forecast_risks).
    risk_cases: list[tuple[int, risk.Case, date]] = field(default_factory=list)
    new_deviations: list[SweptDeviation] = field(default_factory=list)
    # (deviation id, *the values of scheduling.services.DEVIATION_FIELDS).
    updated_deviations: list[tuple] = field(default_factory=list)
    resolved_deviations: list[OpenDeviation] = field(default_factory=list)
    # (deviation, application id, measure, the engine's proposal, its new finish as a
    # date, the digest and the finish of the forecast it comes from).
    new_proposals: list[tuple] = field(default_factory=list)
    superseded_proposals: list[int] = field(default_factory=list)
    red_alerts: list[tuple] = field(default_factory=list)
    # (event type, the deviation, its application, its activity's code) for other systems.
    told: list[tuple] = field(default_factory=list)
    opened: Counter = field(default_factory=Counter)
    resolved: Counter = field(default_factory=Counter)


# Where the facts of an open deviation start in its row as read.
OPEN_FACTS = OpenDeviation._fields.index("delay")
_SEVERITY_ORDER = {Severity.RED: 0, Severity.AMBER: 1, Severity.INFO: 2}


def late(baseline: cpm.Schedule, forecast: cpm.Schedule) -> bool:
    """Return whether any activity is forecast to finish after its baseline finish.

    Without one, :func:`deviation.analyse_forecast` finds nothing, and this says so for
    less.
    """
    now = forecast.activities
    return any(now[activity].ef > times.ef for activity, times in baseline.activities.items())


def forecast_digest(forecast: cpm.Schedule) -> str:
    """Return a digest of a forecast: what its proposals' what-ifs are computed from.

    Two analyses that give every activity the same times and floats from the same as-of
    point give the same proposals, whatever else changed (a document, a new version).
    """
    times = tuple((code, t.es, t.ef, t.tf, t.ff) for code, t in forecast.activities.items())
    return hashlib.blake2b(
        pickled((forecast.as_of, forecast.planned_duration, times)), digest_size=16
    ).hexdigest()


def changed_forecasts(activities, forecast, calendar, day0, compiled):
    """Yield (activity, new forecast values) for each activity whose stored values differ."""
    times_of = forecast.activities
    # Every ES and EF lies within the forecast's finish.
    dates = calendar.dates_from(day0, forecast.finish + 1)
    finished = {a.code for a in activities if a.actual_finish is not None}
    for activity in activities:
        if activity.is_dummy:
            continue
        times = times_of[activity.code]
        values = (
            dates[times.es],
            dates[schedule_selectors.finish_offset(times.es, times.ef)],
            times.tf,
            times.ff,
            times.critical,
            schedule_selectors.activity_is_ready(activity, finished, compiled),
        )
        stored = (
            activity.forecast_start,
            activity.forecast_finish,
            activity.forecast_tf,
            activity.forecast_ff,
            activity.is_critical,
            activity.is_ready,
        )
        if values != stored:
            yield activity, values


# From this many forecasts on, a batch runs them beside its writes (forecast_risks); fewer
# (a change's own analysis: one) are run at once, where a thread would only add its handover.
BESIDE_FROM = 50


class Forecasts:
    """The Monte Carlo forecasts of a batch, under way (:func:`forecast_risks`)."""

    def __init__(self, changes: BatchChanges, run, *, beside: bool) -> None:
        self._changes = changes
        self._stop = threading.Event()
        if beside:
            self._future = _forecaster().submit(run, self._stop)
        else:
            self._done = run(self._stop)
            self._future = None

    def wait(self) -> None:
        """Wait for them and put them into the batch's ``changes.risks``; raise here what
        they raised."""
        self._changes.risks.update(self._future.result() if self._future else self._done)

    def cancel(self) -> None:
        """Stop them (the batch failed): the rest of their chunks is not run, and the
        process's thread is free for the next batch."""
        self._stop.set()
        if self._future is not None:
            self._future.cancel()


def forecast_risks(changes: BatchChanges, *, calendar, today: date) -> Forecasts:
    """Start the Monte Carlo forecasts of the applications analysed, all at once (those of
    one network side by side: scheduling.risk.simulate_many).

    A batch's forecasts run in a thread of their own while the batch writes its other
    rows: the compiled passes release the interpreter's lock, and the rest runs while
    the writing thread waits for the database. They read only what the analysis made
    (the cases, the batch's working days), never the database; an error raised there is
    raised again by :meth:`Forecasts.wait`, in the batch's transaction. A batch that fails
    before waiting cancels them (:meth:`Forecasts.cancel`).
    """
    cases, changes.risk_cases = changes.risk_cases, []

    def run(stop: threading.Event) -> list[tuple[int, schedule_selectors.RiskValues]]:
        found = risk.simulate_many([case for _pk, case, _day0 in cases], stop=stop)
        return [
            # The figures of the real activities: those the case draws durations for.
            (
                pk,
                schedule_selectors.risk_values(
                    f, calendar, day0, as_of=today, codes=case.distributions
                ),
            )
            for (pk, case, day0), f in zip(cases, found, strict=True)
        ]

    return Forecasts(changes, run, beside=len(cases) >= BESIDE_FROM)


_FORECASTER: list[ThreadPoolExecutor] = []
_FORECASTER_LOCK = threading.Lock()


def _forecaster() -> ThreadPoolExecutor:
    """The process's thread for the forecasts (one: a batch waits for its own before the
    next is analysed), started on first use."""
    with _FORECASTER_LOCK:
        if not _FORECASTER:
            _FORECASTER.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="risk"))
        return _FORECASTER[0]


def _forget_forecaster() -> None:
    """In a process forked from one that had started the thread (a worker pool's
    children), which has none of it running: start its own when needed, under a lock of
    its own (the parent's may have been held at the fork)."""
    global _FORECASTER_LOCK
    _FORECASTER.clear()
    _FORECASTER_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_forecaster)


def analyse_application(
    changes: BatchChanges,
    *,
    application: SweptApplication,
    activities: list[SweptActivity],
    compiled: cpm.CompiledNetwork,
    calendar,
    today: date,
    now: datetime,
    open_deviations: dict[int, OpenDeviation],
    open_proposals: dict[str, OpenProposal],
    learned: schedule_selectors.LearnedDurations,
) -> None:
    """Compare what the engine says of ``application`` now with its stored rows; add the
    differences to ``changes``."""
    baseline, forecast, day0 = schedule_selectors.application_forecast(
        application, activities, calendar, today, compiled
    )
    if settings.RISK_SAMPLES:
        case = schedule_selectors.risk_case(
            application,
            activities,
            baseline=baseline,
            forecast=forecast,
            calendar=calendar,
            day0=day0,
            learned=learned,
        )
        changes.risk_cases.append((application.pk, case, day0))
    else:
        changes.risks[application.pk] = schedule_selectors.NO_RISK
    for activity, values in changed_forecasts(activities, forecast, calendar, day0, compiled):
        changes.forecasts.append((activity.id, *values))
    finish = schedule_selectors.finish_date(calendar, day0, 0, forecast.finish)
    changes.finishes[application.pk] = (finish, forecast.min_total_float)
    found_list = (
        deviation.analyse_forecast(baseline, forecast, causes_only=True)
        if late(baseline, forecast)
        else []
    )
    by_code = {a.code: a for a in activities if a.code}
    own_open = {a.id: open_deviations[a.id] for a in activities if a.id in open_deviations}
    codes = {a.id: a.code for a in activities}
    seen: set[int] = set()
    deviation_changed = False
    # Red and amber deviations by severity, then the longest delay: the most severe that
    # calls for a measure lists it.
    answerable: list[tuple[tuple, SweptDeviation, object]] = []
    for found in found_list:
        activity = by_code[found.activity]
        seen.add(activity.id)
        existing = own_open.get(activity.id)
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
            activity.department_id,
        )
        if existing is None:
            row = SweptDeviation(None, found, (application.pk, activity.id, now, *values))
            changes.new_deviations.append(row)
            changes.told.append(("deviation.opened", row, application, activity.code))
            changes.opened[found.severity] += 1
            deviation_changed = True
            if found.severity == Severity.RED:
                changes.red_alerts.append((row, application, activity))
        elif existing[OPEN_FACTS:] != (
            found.delay,
            found.severity,
            found.total_float,
            found.free_float,
            found.critical,
            found.total_duration_delay,
            found.successor_delay,
            found.commitment_overrun,
            activity.department_id,
        ):
            changes.updated_deviations.append((existing.pk, *values))
            row = SweptDeviation(existing.pk, found)
            changes.told.append(("deviation.updated", row, application, activity.code))
            deviation_changed = True
            if found.severity == Severity.RED and existing.severity != Severity.RED:
                changes.red_alerts.append((row, application, activity))
        else:
            row = SweptDeviation(existing.pk, found)
        if found.severity in (Severity.RED, Severity.AMBER):
            rank = (_SEVERITY_ORDER[found.severity], -found.delay, activity.code)
            answerable.append((rank, row, found))
    for activity_id, row in own_open.items():
        if activity_id not in seen:
            changes.resolved_deviations.append(row)
            changes.told.append(("deviation.resolved", row, application, codes.get(activity_id)))
            changes.resolved[row.severity] += 1
            deviation_changed = True
    # The proposals still hold when no deviation changed and they were computed from this
    # very forecast: the engine would give them again, so it is not asked.
    basis = forecast_digest(forecast)
    if (
        not deviation_changed
        and all(p.basis == basis for p in open_proposals.values())
        and (open_proposals or not answerable)
    ):
        return
    _reconcile_proposals(
        changes,
        application=application,
        answerable=sorted(answerable, key=lambda item: item[0]),
        forecast=forecast,
        basis=basis,
        finish=finish,
        calendar=calendar,
        day0=day0,
        open_proposals=open_proposals,
    )


def _reconcile_proposals(
    changes, *, application, answerable, forecast, basis, finish, calendar, day0, open_proposals
) -> None:
    """Propose each measure once, under the most severe deviation that calls for it; keep
    the open proposals that say the same, supersede the others."""

    # Catching a meeting is proposed for plans that hold their meetings on the weekday.
    meetings = schedule_selectors.meeting_days(calendar, day0, application.plan_meeting_weekday)
    wanted: dict[str, tuple] = {}
    for _rank, row, found in answerable:
        for item in deviation.propose_corrections(
            forecast,
            deviating=found.activity,
            **meetings,
        ):
            if item.kind == deviation.ESCALATE and found.commitment_overrun <= 0:
                # Escalating is the answer to a commitment that moves, not to this delay.
                continue
            measure = Proposal.measure_of(item.kind, item.activities)
            if measure in wanted:
                continue
            new_finish = (
                calendar.offset_to_date(day0, max(0, item.new_finish - 1))
                if item.new_finish is not None
                else None
            )
            wanted[measure] = (row, item, new_finish)
    for measure, stored in open_proposals.items():
        kept = wanted.get(measure)
        if kept is not None and (
            kept[0].pk == stored.deviation_id
            and stored.basis == basis
            and (stored.new_finish, stored.days_recovered) == (kept[2], kept[1].days_recovered)
        ):
            del wanted[measure]
        else:
            changes.superseded_proposals.append(stored.pk)
    for measure, (row, item, new_finish) in wanted.items():
        changes.new_proposals.append(
            (row, application.pk, measure, item, new_finish, basis, finish)
        )
