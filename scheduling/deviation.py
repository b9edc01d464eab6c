"""Deviation analysis and corrective proposals (DESIGN.md §5), as pure functions.

For an activity late by Δ working days, with total float TF and free float FF of the
baseline (both measured against the planned duration Tp), the paper's four cases are:

1. ``critical``: the activity is critical, so the total duration slips by Δ;
2. ``beyond_total_float``: Δ > TF, so the total duration slips by Δ - TF and successors move;
3. ``beyond_free_float``: Δ > FF, so the early start of successors slips by Δ - FF only;
4. ``absorbed``: the free float absorbs the delay.

Severity: ``red`` when the planned date moves (case 2, and case 1 beyond the float the
commitment leaves), ``amber`` when the successors move (case 3, and case 1 within that
float), ``info`` for case 4. :func:`analyse_delay` answers "what if this activity
took Δ days longer" by re-evaluating the compiled network (the numbers are measured, not
derived); :func:`analyse_forecast` classifies every activity whose forecast finish is later
than its baseline finish, with the §5 formulas on the baseline floats. The results are
facts only: :mod:`scheduling.explanations` renders their sentences in the reader's language.

:func:`propose_corrections` proposes, and never applies, corrective measures. Each carries a
what-if recomputed on the compiled network (``new_finish``, ``days_recovered`` against
``finish_before``):

- ``shorten``: unstarted critical activities (after the deviating one, when given) cut to
  their ``shortest_duration``, one at a time and all together, most days recovered first;
- ``parallel``: two activities the template allows to run side by side. The permission is
  the activity field ``parallel_with`` (JSON key ``"parallel_with": ["M"]`` on either
  activity; the relation is symmetric). It applies when one directly precedes the other and
  the later one has not started: the what-if removes that link, the later activity waits for
  the earlier one's predecessors instead, and whatever followed the later one also waits for
  the earlier one (:meth:`CompiledNetwork.with_parallel`);
- ``meeting``: a ``kind="meeting"`` activity held only on one weekday (the activity's
  ``meeting_weekday``, else the ``meeting_weekday`` argument; 0 = Monday). ``weekday_of``
  maps a working-day offset to its weekday, for instance
  ``lambda k: calendar.offset_to_date(start, k).weekday()``. When the predecessors finish
  after this week's meeting day, the proposal says how many days earlier they must finish to
  catch it (``detail["finish_by"]``: each late predecessor's EF, the offset its work must
  end before); the what-if compares the meeting held at the next meeting day (waiting) with
  it held this week, which is the forecast once those predecessors finish by then. It is
  proposed only when every late predecessor, cut to its ``shortest_duration`` (or kept at
  its duration when it has none) from its current early start, can finish in time;
- ``escalate``: when the finish overruns the planned duration, to the supervisor and the
  owning departments; no what-if.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from scheduling.cpm import (
    CompiledNetwork,
    InvalidDurationError,
    Schedule,
    UnknownActivityError,
)

__all__ = [
    "AMBER",
    "CASE_ABSORBED",
    "CASE_BEYOND_FREE_FLOAT",
    "CASE_BEYOND_TOTAL_FLOAT",
    "CASE_CRITICAL",
    "INFO",
    "RED",
    "DelayAnalysis",
    "Deviation",
    "Proposal",
    "UnknownActivityError",
    "analyse_delay",
    "analyse_forecast",
    "classify_delay",
    "propose_corrections",
]

CASE_CRITICAL = "critical"
CASE_BEYOND_TOTAL_FLOAT = "beyond_total_float"
CASE_BEYOND_FREE_FLOAT = "beyond_free_float"
CASE_ABSORBED = "absorbed"

RED, AMBER, INFO = "red", "amber", "info"
SEVERITY_OF_CASE = {
    CASE_CRITICAL: RED,
    CASE_BEYOND_TOTAL_FLOAT: RED,
    CASE_BEYOND_FREE_FLOAT: AMBER,
    CASE_ABSORBED: INFO,
}
_SEVERITY_RANK = {RED: 0, AMBER: 1, INFO: 2}


def severity_of(case: str, delay: int, total_float: int) -> str:
    """Return red when the commitment moves, amber when successors move, else info.

    A critical activity of a network with a committed duration longer than its computed
    one has that margin as total float: a delay within it lengthens the schedule but keeps
    the commitment, so it is amber, not red.
    """
    if case == CASE_CRITICAL and delay <= total_float:
        return AMBER
    return SEVERITY_OF_CASE[case]


# A meeting weekday recurs within a few weeks even across the Spring Festival; searching
# further would only hide a calendar with no such weekday at all.
_MEETING_SEARCH_DAYS = 40


def classify_delay(delay: int, total_float: int, free_float: int, critical: bool) -> str:
    """Return the §5 case of a delay of ``delay`` working days."""
    if delay > 0 and critical:
        return CASE_CRITICAL
    if delay > total_float:
        return CASE_BEYOND_TOTAL_FLOAT
    if delay > free_float:
        return CASE_BEYOND_FREE_FLOAT
    return CASE_ABSORBED


# --- What-if delay ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DelayAnalysis:
    """The effect of one activity taking ``delay`` working days longer than planned."""

    activity: str
    delay: int
    total_float: int
    free_float: int
    critical: bool
    total_duration_delay: int
    successor_delay: int
    new_duration: int
    planned_duration: int
    commitment_overrun: int
    case: str
    severity: str
    affected: Mapping[str, int]
    department: str | None

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON output of ``analyse_delay`` (``examples/networks/README.md``)."""
        return {
            "activity": self.activity,
            "delay": self.delay,
            "total_float": self.total_float,
            "free_float": self.free_float,
            "critical": self.critical,
            "total_duration_delay": self.total_duration_delay,
            "successor_delay": self.successor_delay,
            "new_duration": self.new_duration,
            "planned_duration": self.planned_duration,
            "commitment_overrun": self.commitment_overrun,
        }

    def detail_dict(self) -> dict[str, Any]:
        """Return :meth:`as_dict` plus the case, severity, moved activities and department."""
        return {
            **self.as_dict(),
            "case": self.case,
            "severity": self.severity,
            "affected": dict(self.affected),
            "department": self.department,
        }


def analyse_delay(
    target: CompiledNetwork | Schedule, activity_id: str, delay: int
) -> DelayAnalysis:
    """Return what happens when ``activity_id`` takes ``delay`` working days longer.

    ``target`` is a compiled network (evaluated with its planned durations) or a schedule
    from :meth:`CompiledNetwork.evaluate`, whose durations and Tp are kept.
    """
    if isinstance(target, CompiledNetwork):
        schedule = target.evaluate()
    elif isinstance(target, Schedule):
        schedule = target
        if schedule.is_forecast:
            raise ValueError("analyse a forecast with analyse_forecast, not analyse_delay")
    else:
        raise TypeError(f"expected a CompiledNetwork or a Schedule, got {target!r}")
    compiled = schedule.compiled
    spec = compiled.spec(activity_id)
    if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
        raise InvalidDurationError(activity_id, delay, field="delay")
    before = schedule.activities[activity_id]
    durations = dict(schedule.durations)
    durations[activity_id] += delay
    after = compiled.evaluate(durations, schedule.planned_duration)
    affected = {
        other: after.activities[other].es - times.es
        for other, times in schedule.activities.items()
        if other != activity_id and after.activities[other].es != times.es
    }
    case = classify_delay(delay, before.tf, before.ff, before.critical)
    total_slip = after.duration - schedule.duration
    successor_slip = max(0, delay - before.ff)
    overrun = max(0, after.duration - schedule.planned_duration)
    return DelayAnalysis(
        activity=activity_id,
        delay=delay,
        total_float=before.tf,
        free_float=before.ff,
        critical=before.critical,
        total_duration_delay=total_slip,
        successor_delay=successor_slip,
        new_duration=after.duration,
        planned_duration=schedule.planned_duration,
        commitment_overrun=overrun,
        case=case,
        severity=severity_of(case, delay, before.tf),
        affected=MappingProxyType(affected),
        department=spec.department,
    )


# --- Forecast deviations ----------------------------------------------------------------------


@dataclass(frozen=True)
class Deviation:
    """An activity forecast to finish later than in the baseline.

    ``start_slip`` is how much of the delay it inherited from a late start; the floats,
    ``critical`` and the case come from the baseline. The three effects of the delay Δ are
    the paper's three steps, each for this activity alone: ``successor_delay`` = Δ − FF
    (the early start of its successors), ``total_duration_delay`` = Δ − (TF − (Tp − Tc))
    (the computed duration Tc: the float against Tc is TF less the margin the commitment
    leaves) and ``commitment_overrun`` = Δ − TF (the planned duration Tp), each at least
    0. So a deviation is red exactly when its ``commitment_overrun`` is positive. In a plan
    that holds its meetings on their weekday the three are measured by a forward pass with
    the delay (missing a meeting costs the wait for the next one, more than the formulas).
    """

    activity: str
    delay: int
    baseline_finish: int
    forecast_finish: int
    start_slip: int
    total_float: int
    free_float: int
    critical: bool
    case: str
    severity: str
    total_duration_delay: int
    successor_delay: int
    commitment_overrun: int
    department: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "activity": self.activity,
            "delay": self.delay,
            "baseline_finish": self.baseline_finish,
            "forecast_finish": self.forecast_finish,
            "start_slip": self.start_slip,
            "total_float": self.total_float,
            "free_float": self.free_float,
            "critical": self.critical,
            "case": self.case,
            "severity": self.severity,
            "total_duration_delay": self.total_duration_delay,
            "successor_delay": self.successor_delay,
            "commitment_overrun": self.commitment_overrun,
            "department": self.department,
        }


def analyse_forecast(
    baseline: Schedule, forecast: Schedule, *, causes_only: bool = False
) -> list[Deviation]:
    """Return every activity whose forecast finish is after its baseline finish.

    With ``causes_only``, an activity counts only for the delay it causes itself: the
    delay it merely inherits from late predecessors (its forecast predecessors let it start
    no earlier than that) is left to those predecessors, so one late activity gives one
    deviation, not one for every activity after it. A meeting that late predecessors made
    miss its meeting day inherits the wait for the next one as well.

    Red deviations come first, then amber, then info; within a severity, in baseline order.
    """
    compiled = forecast.compiled
    missing = set(baseline.activities) ^ set(forecast.activities)
    if missing:
        raise UnknownActivityError(sorted(missing)[0])
    # The float an activity has against Tc is its float against Tp less this margin.
    margin = baseline.planned_duration - baseline.duration
    deviations = []
    forecast_times = forecast.activities
    for activity, planned in baseline.activities.items():
        now = forecast_times[activity]
        delay = now.ef - planned.ef
        if delay <= 0:
            continue
        if causes_only:
            ready = max(
                (forecast_times[p.id].ef + p.lag for p in compiled.predecessors(activity)),
                default=0,
            )
            if now.wait and now.es - now.wait == ready:
                # Held for its meeting day after the predecessors: the week is theirs.
                ready = now.es
            delay -= min(delay, max(0, ready - planned.es))
            if delay <= 0:
                continue
        case = classify_delay(delay, planned.tf, planned.ff, planned.critical)
        severity = severity_of(case, delay, planned.tf)
        if baseline.holds_meetings:
            total_slip, successor_slip, overrun = _measured_effects(baseline, activity, delay)
        else:
            total_slip = max(0, delay - (planned.tf - margin))
            successor_slip = max(0, delay - planned.ff)
            overrun = max(0, delay - planned.tf)
        deviations.append(
            Deviation(
                activity=activity,
                delay=delay,
                baseline_finish=planned.ef,
                forecast_finish=now.ef,
                start_slip=min(delay, max(0, now.es - planned.es)),
                total_float=planned.tf,
                free_float=planned.ff,
                critical=planned.critical,
                case=case,
                severity=severity,
                total_duration_delay=total_slip,
                successor_delay=successor_slip,
                commitment_overrun=overrun,
                department=compiled.spec(activity).department,
            )
        )
    deviations.sort(
        key=lambda item: (
            _SEVERITY_RANK[item.severity],
            baseline.activities[item.activity].es,
            compiled.index[item.activity],
        )
    )
    return deviations


def _measured_effects(baseline: Schedule, activity: str, delay: int) -> tuple[int, int, int]:
    """Return the three effects of ``activity`` taking ``delay`` days longer in a plan that
    holds its meetings on their weekday: the Tc slip, the successors' slip and the overrun
    of Tp, measured by a forward pass rather than by the three formulas. The formulas stay
    true up to a meeting; past one, missing it costs the wait for the next meeting day."""
    compiled = baseline.compiled
    starts, finish = baseline.starts_if(durations={activity: baseline.durations[activity] + delay})
    planned = baseline.activities
    successor_slip = max(
        (starts[link.id] - planned[link.id].es for link in compiled.successors(activity)),
        default=0,
    )
    return (
        max(0, finish - baseline.duration),
        max(0, successor_slip),
        max(0, finish - baseline.planned_duration),
    )


# --- Corrective proposals ---------------------------------------------------------------------

SHORTEN, PARALLEL, MEETING, ESCALATE = "shorten", "parallel", "meeting", "escalate"


@dataclass(frozen=True)
class Proposal:
    """A corrective measure for a person to accept or reject; never applied by the engine.

    ``new_finish`` and ``days_recovered`` are the what-if against ``finish_before``; all
    three are None for an escalation. ``detail`` holds the kind's own numbers.
    """

    kind: str
    activities: tuple[str, ...]
    new_finish: int | None
    days_recovered: int | None
    finish_before: int | None
    departments: tuple[str, ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "activities": list(self.activities),
            "new_finish": self.new_finish,
            "days_recovered": self.days_recovered,
            "finish_before": self.finish_before,
            "departments": list(self.departments),
            "detail": dict(self.detail),
        }


def propose_corrections(
    schedule: Schedule,
    *,
    deviating: str | None = None,
    meeting_weekday: int | None = None,
    weekday_of: Callable[[int], int] | None = None,
) -> list[Proposal]:
    """Return corrective proposals for ``schedule`` (a forecast or an evaluation).

    ``deviating`` names the late activity: only activities after it are shortened, and the
    escalation names its department. The proposals with a what-if come first, most days
    recovered first; the escalation, when the finish overruns Tp, comes last.
    """
    compiled = schedule.compiled
    if deviating is not None:
        compiled.spec(deviating)
    proposals = [
        *_shorten_proposals(schedule, deviating),
        *_parallel_proposals(schedule),
        *_meeting_proposals(schedule, meeting_weekday, weekday_of),
    ]
    order = {SHORTEN: 0, PARALLEL: 1, MEETING: 2}
    proposals.sort(key=lambda item: (-item.days_recovered, order[item.kind]))
    escalation = _escalation(schedule, deviating)
    if escalation is not None:
        proposals.append(escalation)
    return proposals


def _not_started(schedule: Schedule, activity: str) -> bool:
    record = schedule.progress.get(activity)
    return record is None or (record.actual_start is None and record.actual_finish is None)


def _shorten_proposals(schedule: Schedule, deviating: str | None) -> list[Proposal]:
    compiled = schedule.compiled
    later = compiled.descendants(deviating) if deviating is not None else None
    times, durations = schedule.activities, schedule.durations
    candidates = [
        spec.id
        for spec in compiled.specs
        if spec.shortest_duration is not None
        and times[spec.id].critical
        and (later is None or spec.id in later)
        and spec.shortest_duration < durations[spec.id]
        and _not_started(schedule, spec.id)
    ]
    proposals = []
    best = 0
    for activity in candidates:
        shortest = compiled.spec(activity).shortest_duration
        current = schedule.durations[activity]
        after = schedule.finish_if(durations={activity: shortest})
        recovered = schedule.finish - after
        best = max(best, recovered)
        if recovered <= 0:
            continue
        proposals.append(
            Proposal(
                kind=SHORTEN,
                activities=(activity,),
                new_finish=after,
                days_recovered=recovered,
                finish_before=schedule.finish,
                departments=_departments(compiled, [activity]),
                detail=MappingProxyType({"durations": {activity: [current, shortest]}}),
            )
        )
    if len(candidates) > 1:
        # Parallel critical paths: cutting one alone may recover nothing.
        shortened = {a: compiled.spec(a).shortest_duration for a in candidates}
        after = schedule.finish_if(durations=shortened)
        recovered = schedule.finish - after
        if recovered > best:
            proposals.append(
                Proposal(
                    kind=SHORTEN,
                    activities=tuple(candidates),
                    new_finish=after,
                    days_recovered=recovered,
                    finish_before=schedule.finish,
                    departments=_departments(compiled, candidates),
                    detail=MappingProxyType(
                        {
                            "durations": {
                                a: [schedule.durations[a], shortest]
                                for a, shortest in shortened.items()
                            }
                        }
                    ),
                )
            )
    return proposals


def _parallel_proposals(schedule: Schedule) -> list[Proposal]:
    compiled = schedule.compiled
    proposals = []
    # Pairs not linked directly are left out: nothing the template permission changes.
    for first, second, later in compiled.linked_parallel_pairs:
        if not _not_started(schedule, later):
            continue
        after = schedule.finish_if(compiled=compiled.with_parallel(first, second))
        recovered = schedule.finish - after
        if recovered <= 0:
            continue
        proposals.append(
            Proposal(
                kind=PARALLEL,
                activities=(first, second),
                new_finish=after,
                days_recovered=recovered,
                finish_before=schedule.finish,
                departments=_departments(compiled, [first, second]),
            )
        )
    return proposals


def _meeting_proposals(
    schedule: Schedule,
    meeting_weekday: int | None,
    weekday_of: Callable[[int], int] | None,
) -> list[Proposal]:
    if weekday_of is None:
        return []
    compiled = schedule.compiled
    earliest = schedule.as_of or 0
    proposals = []
    for spec in compiled.meetings:
        meeting = spec.id
        weekday = spec.meeting_weekday if spec.meeting_weekday is not None else meeting_weekday
        if weekday is None or not _not_started(schedule, meeting):
            continue
        # The day its predecessors let it start: a forecast that holds the meeting at its
        # day already waits for it (``wait``), one that does not starts it then.
        ready = schedule.activities[meeting].es - schedule.activities[meeting].wait
        next_day = next(
            (k for k in range(ready, ready + _MEETING_SEARCH_DAYS) if weekday_of(k) == weekday),
            None,
        )
        if next_day is None or next_day == ready:
            continue
        this_week = next(
            (
                k
                for k in range(ready - 1, max(earliest, ready - _MEETING_SEARCH_DAYS) - 1, -1)
                if weekday_of(k) == weekday
            ),
            None,
        )
        if this_week is None:
            continue
        waiting = schedule.finish_if(start_no_earlier={meeting: next_day})
        caught = schedule.finish_if(fixed_start={meeting: this_week})
        recovered = waiting - caught
        if recovered <= 0:
            continue
        late = [
            link.id
            for link in compiled.predecessors(meeting)
            if schedule.activities[link.id].ef + link.lag > this_week
        ]
        if any(
            _earliest_finish(schedule, link.id) + link.lag > this_week
            for link in compiled.predecessors(meeting)
            if link.id in late
        ):
            continue  # Even cut to their shortest, the predecessors cannot be done in time.
        advance = ready - this_week
        wait = next_day - ready
        proposals.append(
            Proposal(
                kind=MEETING,
                activities=(meeting, *late),
                new_finish=caught,
                days_recovered=recovered,
                finish_before=waiting,
                departments=_departments(compiled, late),
                detail=MappingProxyType(
                    {
                        "advance_days": advance,
                        "meeting_day": this_week,
                        "next_meeting_day": next_day,
                        "wait_days": wait,
                        # What must be done by when: each late predecessor's EF (the
                        # working-day offset its work must end before) to make the meeting.
                        "finish_by": {
                            link.id: this_week - link.lag
                            for link in compiled.predecessors(meeting)
                            if link.id in late
                        },
                    }
                ),
            )
        )
    return proposals


def _earliest_finish(schedule: Schedule, activity: str) -> int:
    """Return the earliest finish of an activity cut to its shortest duration (if it has one)."""
    spec = schedule.compiled.spec(activity)
    shortest = spec.shortest_duration
    if shortest is None:
        shortest = schedule.durations[activity]
    return max(schedule.activities[activity].es + shortest, schedule.as_of or 0)


def _escalation(schedule: Schedule, deviating: str | None) -> Proposal | None:
    overrun = schedule.finish - schedule.planned_duration
    if overrun <= 0:
        return None
    compiled = schedule.compiled
    if deviating is not None:
        holders = [deviating]
    else:
        holders = [
            activity
            for activity in compiled.ids
            if schedule.activities[activity].critical
            and (
                schedule.progress.get(activity) is None
                or schedule.progress[activity].actual_finish is None
            )
        ]
    departments = _departments(compiled, holders)
    return Proposal(
        kind=ESCALATE,
        activities=tuple(holders),
        new_finish=None,
        days_recovered=None,
        finish_before=None,
        departments=departments,
        detail=MappingProxyType({"overrun": overrun}),
    )


def _departments(compiled: CompiledNetwork, activities: list[str]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for activity in activities:
        department = compiled.spec(activity).department
        if department:
            found[department] = None
    return tuple(found)
