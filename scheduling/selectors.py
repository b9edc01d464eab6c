"""Reads of the scheduling app: templates as engine input, the working-day calendar."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from types import MappingProxyType
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import prefetch_related_objects

from yekuo.domain import Party
from yekuo.lookups import any_of

from . import cpm, explanations, learning, levelling, risk
from .attribution import CUSTOMER, delay_by_party
from .calendar import CN_COVERED_YEARS, WorkingCalendar
from .deviation import analyse_delay
from .models import (
    Activity,
    ActivityTemplate,
    ApplicationRisk,
    ArchivedDeviation,
    ArchivedProposal,
    CalendarOverride,
    CalendarYear,
    Crew,
    CrewKind,
    Deviation,
    DeviationCause,
    LearnedDuration,
    NetworkTemplate,
    Proposal,
    ResponsibleParty,
)

CALENDAR_VERSION_KEY = "scheduling:calendar-version"


def network_data(activities: Iterable[ActivityTemplate]) -> dict:
    """Return template activities as the network JSON the engine reads."""
    return {"activities": [activity.to_network_item() for activity in activities]}


def compile_activities(activities: Iterable[ActivityTemplate | Activity]) -> cpm.CompiledNetwork:
    """Return the network of these activities validated and ordered by the engine."""
    return cpm.load_network(network_data(activities))


def template_compile(template: NetworkTemplate) -> cpm.CompiledNetwork:
    """Return the template's network validated and ordered by the engine."""
    activities = template.activities.select_related("department").order_by("sort_order", "id")
    return cpm.load_network(network_data(activities))


def template_for(
    *, business_type: str, customer_class: str, voltage_class: str
) -> NetworkTemplate | None:
    """Return the newest active template that plans this kind of application."""
    candidates = NetworkTemplate.objects.filter(
        is_active=True, customer_class=customer_class
    ).order_by("-version", "code")
    for template in candidates:
        if template.matches(
            business_type=business_type,
            customer_class=customer_class,
            voltage_class=voltage_class,
        ):
            return template
    return None


def offered_plans() -> list[tuple[str, str, str]]:
    """Return the (business type, customer class, voltage class) combinations some active
    template plans: what acceptance can offer."""
    offered = set()
    for template in NetworkTemplate.objects.filter(is_active=True):
        for business_type in template.business_types:
            for voltage_class in template.voltage_classes:
                offered.add((business_type, template.customer_class, voltage_class))
    return sorted(offered)


_calendar: tuple[int, WorkingCalendar, str] | None = None


def working_calendar() -> WorkingCalendar:
    """Return the working-day calendar with the administrators' overrides.

    Built once per process and rebuilt when an override or a confirmed year changes (the
    change bumps a version number in the shared cache, so every process notices).
    """
    global _calendar
    version = cache.get(CALENDAR_VERSION_KEY, 0)
    if _calendar is None or _calendar[0] != version:
        overrides = dict(CalendarOverride.objects.values_list("day", "is_working"))
        confirmed = sorted(CalendarYear.objects.values_list("year", flat=True))
        digest = hashlib.blake2b(
            repr((sorted(overrides.items()), confirmed)).encode(), digest_size=8
        ).hexdigest()
        # Plans that hold review meetings on a weekday depend on the working days.
        _BASELINES.clear()
        _calendar = (
            version,
            WorkingCalendar(
                overrides=overrides,
                confirmed_years=confirmed,
                allow_uncovered=settings.CALENDAR_ALLOW_ESTIMATED_YEARS,
            ),
            digest,
        )
    return _calendar[1]


def working_calendar_digest() -> str:
    """Return a short digest of the calendar's overrides and confirmed years.

    It changes exactly when an administrator's change changes the working days.
    """
    working_calendar()
    return _calendar[2]


def calendar_estimated_years(*, today: date, horizon_years: int = 2) -> list[int]:
    """Return the years from ``today`` on that the calendar can only estimate.

    A year is estimated when the holiday data has no official notice for it and no
    administrator has confirmed it (by entering the notice as overrides).
    """
    confirmed = set(CalendarYear.objects.values_list("year", flat=True))
    return [
        year
        for year in range(today.year, today.year + horizon_years)
        if year not in CN_COVERED_YEARS and year not in confirmed
    ]


def activity_progress(
    activities: Iterable[Activity], *, calendar: WorkingCalendar, day0: date
) -> dict[str, cpm.Progress]:
    """Return the recorded progress as the engine's working-day offsets.

    A finish date is the activity's last working day, so its EF is the offset after it.
    """
    progress = {}
    for activity in activities:
        if activity.is_dummy or activity.actual_start is None:
            continue
        start = calendar.date_to_offset(day0, activity.actual_start)
        finish = (
            calendar.date_to_offset(day0, activity.actual_finish) + 1
            if activity.actual_finish
            else None
        )
        progress[activity.code] = cpm.Progress(
            actual_start=start, actual_finish=finish, remaining=activity.remaining
        )
    return progress


# --- Forecasts: the sweep, re-planning, the pages and the API ---------------------------------


def activities_by_code(application_ids: Iterable[int]) -> dict[int, dict[str, Activity]]:
    """Return the named activities of these applications by code, with their departments:
    what :func:`scheduling.explanations.proposal_text` names, in one query."""
    found: dict[int, dict[str, Activity]] = {pk: {} for pk in application_ids}
    if found:
        rows = (
            Activity.objects.filter(application_id__in=list(found), is_dummy=False)
            .select_related("department")
            .only("application_id", "code", "name", "name_en", "party", "department")
        )
        for activity in rows:
            found[activity.application_id][activity.code] = activity
    return found


def proposal_text(proposal) -> str:
    """Return what one stored proposal says to do, in the reader's language."""
    activities = activities_by_code([proposal.application_id])[proposal.application_id]
    return explanations.proposal_text(proposal, activities)


def finish_offset(es: int, ef: int) -> int:
    """Return the offset of the last working day of work from ES to EF (ES when D = 0)."""
    return max(es, ef - 1)


def finish_date(calendar, day0: date, es: int, ef: int) -> date:
    """Return the last working day of an activity from ES to EF (its start when D = 0);
    with ES = 0 and EF the forecast's finish, that of the whole application."""
    return calendar.offset_to_date(day0, finish_offset(es, ef))


# Compiled networks by the logic of the activities, shared by the applications copied from
# one template; and their baseline schedules by durations and Tp, shared the same way.
_COMPILED: dict[tuple, cpm.CompiledNetwork] = {}
_BASELINES: dict[tuple, cpm.Schedule] = {}
_CACHE_SIZE = 256


def compiled_network(key: tuple, network: Callable[[], dict]) -> cpm.CompiledNetwork:
    """Return the compiled network cached under ``key``, compiling ``network()`` on a miss."""
    compiled = _COMPILED.get(key)
    if compiled is None:
        if len(_COMPILED) > _CACHE_SIZE:
            _COMPILED.clear()
            _BASELINES.clear()
        compiled = _COMPILED[key] = cpm.load_network(network())
    return compiled


def activity_is_ready(activity, finished: set[str], compiled: cpm.CompiledNetwork) -> bool:
    """Whether the work of ``activity`` can go on now: started and not finished, or not
    started with every predecessor (through dummies) in ``finished`` (codes)."""
    if activity.actual_finish is not None:
        return False
    if activity.actual_start is not None:
        return True
    return all(pred.id in finished for pred in compiled.predecessors(activity.code))


def compiled_for(activities: list[Activity]) -> cpm.CompiledNetwork:
    """Return the compiled network of these activities, shared by equal logic.

    Applications copied from one template share their logic, so a sweep compiles each
    template once; durations are passed to every evaluation separately.
    """
    key = tuple(
        (
            a.code,
            a.tail,
            a.head,
            a.is_dummy,
            repr(a.predecessors),
            tuple(a.parallel_with),
            a.kind,
            a.meeting_weekday,
            a.lead,
            a.party,
            a.shortest_duration,
            a.name,
            a.department_id,
        )
        for a in activities
    )
    return compiled_network(key, lambda: network_data(activities))


def activity_of_visible(activity_id: int, applications) -> Activity | None:
    """Return the activity if it belongs to one of ``applications`` (a queryset), with its
    application, or None."""
    return (
        Activity.objects.select_related("application")
        .filter(pk=activity_id, application__in=applications.values("pk"))
        .first()
    )


def joint_departments_of(activity_ids) -> dict[int, list[int]]:
    """Return the joint departments of these activities (by activity id: department ids),
    in one query; activities without any are left out."""
    joint: dict[int, list[int]] = {}
    rows = Activity.joint_departments.through.objects.filter(activity_id__in=list(activity_ids))
    for activity_id, department_id in rows.values_list("activity_id", "department_id"):
        joint.setdefault(activity_id, []).append(department_id)
    return joint


def meeting_days(calendar, day0: date, meeting_weekday: int | None) -> dict:
    """Return the engine's meeting arguments of a plan whose day 0 is ``day0``: its review
    meetings held on ``meeting_weekday`` (0 = Monday) of this working-day calendar, or no
    arguments (meetings held whenever they are ready) when it is None."""
    if meeting_weekday is None:
        return {}

    def weekday_of(offset: int) -> int:
        return calendar.offset_to_date(day0, offset).weekday()

    return {"weekday_of": weekday_of, "meeting_weekday": meeting_weekday}


def baseline_schedule(
    compiled: cpm.CompiledNetwork,
    durations: dict[str, int],
    tp: int | None,
    *,
    calendar=None,
    day0: date | None = None,
    meeting_weekday: int | None = None,
) -> cpm.Schedule:
    """Return the plan of ``compiled`` with these durations and Tp, shared while cached.

    With a ``meeting_weekday`` its review meetings are held on that weekday of the
    ``calendar`` counted from ``day0``: the plan then depends on day 0 as well.
    """
    held = meeting_weekday is not None
    key = (compiled, tuple(durations.items()), tp, (day0, meeting_weekday) if held else None)
    schedule = _BASELINES.get(key)
    if schedule is None:
        if len(_BASELINES) > 4 * _CACHE_SIZE:
            _BASELINES.clear()
        schedule = _BASELINES[key] = compiled.evaluate(
            durations, planned_duration=tp, **meeting_days(calendar, day0, meeting_weekday)
        )
    return schedule


def application_forecast(application, activities, calendar, today: date, compiled=None):
    """Return (baseline, forecast, day 0) of an application as of the end of ``today``.

    The as-of point is the end of ``today``: what is recorded up to today is fact, work
    not yet started can start on the next working day at the earliest. Both hold the
    review meetings on the weekday the plan was made with (``plan_meeting_weekday``).
    """
    if compiled is None:
        compiled = compiled_for(activities)
    day0, progress, as_of, durations, baseline = forecast_inputs(
        application, activities, calendar, today, compiled
    )
    # The baseline's Tp is the committed duration, else its own Tc: what the forecast
    # measures its floats against either way, without computing the plan a second time.
    forecast = compiled.forecast(
        as_of,
        progress,
        durations=durations,
        planned_duration=baseline.planned_duration,
        **meeting_days(calendar, day0, application.plan_meeting_weekday),
    )
    return baseline, forecast, day0


def forecast_inputs(application, activities, calendar, today: date, compiled):
    """Return what a forecast of an application as of the end of ``today`` starts from:
    (day 0, the recorded progress, the as-of offset, the durations, the baseline)."""
    day0 = calendar.project_day_zero(application.start_date)
    progress = activity_progress(activities, calendar=calendar, day0=day0)
    # Progress recorded up to a day is fact through that day, even when ``today`` is earlier
    # (a clock that lags the records must not turn facts into errors).
    recorded = max(
        (max(p.actual_start + 1, p.actual_finish or 0) for p in progress.values()), default=0
    )
    # The end of today is the start of the next working day (Monday, when today is Sunday).
    end_of_today = (
        calendar.date_to_offset(day0, today) + (1 if calendar.is_working_day(today) else 0)
        if today >= day0
        else 0
    )
    durations = {a.code: a.duration for a in activities if not a.is_dummy}
    baseline = baseline_schedule(
        compiled,
        durations,
        application.committed_duration,
        calendar=calendar,
        day0=day0,
        meeting_weekday=application.plan_meeting_weekday,
    )
    return day0, progress, max(recorded, end_of_today), durations, baseline


# --- The probability of keeping the promise (scheduling.risk) --------------------------------


class LearnedDurations:
    """The current learned durations of one template, answering for an activity with the
    narrowest group that has an estimate, else the template's prior (its planned duration,
    ``learning.PRIOR_SPREAD``). ``rows`` are the template's current rows; without them they
    are read, in one query (:meth:`of_templates` reads several templates' in one)."""

    def __init__(self, template_id: int | None, rows=None) -> None:
        if rows is None:
            rows = (
                LearnedDuration.objects.filter(template_id=template_id, is_current=True)
                if template_id is not None
                else LearnedDuration.objects.none()
            )
        self._by_group: dict[tuple, risk.Distribution] = {}
        # What each activity and group was answered: a sweep asks the same thousands of times.
        self._answers: dict[tuple, risk.Distribution] = {}
        self._plans: dict[tuple, Mapping[str, risk.Distribution]] = {}
        self._rows = {}
        latest = None
        for row in rows:
            group = learning.known_group(*(getattr(row, f) for f in row.GROUP_FIELDS))
            self._rows[(row.code, group)] = row
            latest = row.learned_at if latest is None else max(latest, row.learned_at)
        # What the forecast depends on of these rows (a refresh writes every current row).
        self.revision = (template_id, len(self._rows), latest)

    @classmethod
    def of_templates(cls, template_ids) -> dict[int | None, LearnedDurations]:
        """Return the learned durations of these templates (by id), read in one query."""
        ids = sorted({pk for pk in template_ids if pk is not None})
        rows: dict[int, list] = {pk: [] for pk in ids}
        for row in LearnedDuration.objects.filter(template_id__in=ids, is_current=True):
            rows[row.template_id].append(row)
        found = {pk: cls(pk, rows[pk]) for pk in ids}
        found[None] = cls(None, [])
        return found

    def distribution(
        self,
        code: str,
        *,
        duration: int,
        department: str,
        region: str,
        voltage: str,
        customer_class: str,
    ) -> risk.Distribution:
        """The duration to draw of the activity ``code`` (planned ``duration`` days, of
        the ``department`` with this code) in an application of this group."""
        asked = (code, duration, department, region, voltage, customer_class)
        found = self._answers.get(asked)
        if found is None:
            found = self._answers[asked] = self._distribution(
                code, duration, (department, region, voltage, customer_class)
            )
        return found

    def of_activities(
        self, activities, *, region: str, voltage: str, customer_class: str
    ) -> Mapping[str, risk.Distribution]:
        """The distribution of each real activity of ``activities`` (their ``code``,
        ``duration``, ``is_dummy`` and ``department_code``), by code, in an application of
        this group. Applications with the same activities and group get the same mapping
        (read-only): a sweep asks for it thousands of times, and the forecast reads a
        mapping it has seen once (scheduling.risk.simulate_many)."""
        plan = tuple(
            (a.code, a.duration, a.department_code or "") for a in activities if not a.is_dummy
        )
        key = (region, voltage, customer_class, plan)
        found = self._plans.get(key)
        if found is None:
            found = self._plans[key] = MappingProxyType(
                {
                    code: self.distribution(
                        code,
                        duration=duration,
                        department=department,
                        region=region,
                        voltage=voltage,
                        customer_class=customer_class,
                    )
                    for code, duration, department in plan
                }
            )
        return found

    def _distribution(self, code: str, duration: int, group: tuple) -> risk.Distribution:
        values = learning.known_group(*group)
        for depth in range(len(values), -1, -1):
            key = (code, values[:depth])
            row = self._rows.get(key)
            if row is not None:
                found = self._by_group.get(key)
                if found is None:
                    found = self._by_group[key] = _lognormal(
                        row.median, row.spread, 1 if duration else 0
                    )
                return found
        return _prior(duration)


@functools.lru_cache(maxsize=4096)
def _lognormal(median: float, spread: float, least: int) -> risk.Distribution:
    """A learned distribution, made once per process for the same figures (a sweep's
    batches read the same learned rows again and again)."""
    return risk.Distribution.lognormal(median, spread, least=least)


@functools.lru_cache(maxsize=256)
def _prior(duration: int) -> risk.Distribution:
    """What an activity takes before history says: its planned duration, spread."""
    if not duration:
        return risk.Distribution.fixed(0)
    return risk.Distribution.lognormal(duration, learning.PRIOR_SPREAD, least=1)


class RiskValues(NamedTuple):
    """A Monte Carlo forecast as an application stores it: dates rather than offsets."""

    as_of: date | None
    on_time: float | None
    p50: date | None
    p80: date | None
    p95: date | None
    driver: str
    # [[ISO date, share of the runs finished by it], ...]
    curve: list
    # Per activity code: [criticality, sensitivity], rounded as stored.
    activities: Mapping[str, list[float]]


# What is stored when the forecast is off (RISK_SAMPLES = 0): nothing.
NO_RISK = RiskValues(None, None, None, None, None, "", [], {})


def risk_case(
    application,
    activities,
    *,
    baseline: cpm.Schedule,
    forecast: cpm.Schedule,
    calendar,
    day0: date,
    learned: LearnedDurations,
    samples: int | None = None,
    seed: int | None = None,
) -> risk.Case:
    """Return the Monte Carlo forecast to run for an application from its deterministic
    ``baseline`` and ``forecast`` (those of :func:`application_forecast`): the same as-of
    point, progress, Tp and meeting days, with durations drawn from what history says.
    Cases are run together by :func:`scheduling.risk.simulate_many` (a sweep's batch at once).

    ``application`` needs ``pk``, ``region_code``, ``voltage_class``, ``customer_class``,
    ``committed_duration``, ``plan_meeting_weekday`` and ``capacity_holds`` (the activities
    a shared crew's queue holds back, with the day it takes them: the runs start them no
    earlier); ``activities`` their ``code``, ``duration``, ``is_dummy`` and
    ``department_code``. The seed defaults to the application's key: the same inputs give
    the same answer.
    """
    codes = forecast.compiled.index
    held = {code: date.fromisoformat(day) for code, day in application.capacity_holds.items()}
    not_before = {
        code: calendar.date_to_offset(day0, day)
        for code, day in held.items()
        if code in codes and day >= day0
    }
    distributions = learned.of_activities(
        activities,
        region=application.region_code or "",
        voltage=application.voltage_class or "",
        customer_class=application.customer_class or "",
    )
    meetings = meeting_days(calendar, day0, application.plan_meeting_weekday)
    return risk.Case(
        forecast.compiled,
        distributions,
        samples=samples or settings.RISK_SAMPLES,
        seed=application.pk if seed is None else seed,
        as_of=forecast.as_of,
        progress=forecast.progress,
        planned_duration=baseline.planned_duration,
        committed=application.committed_duration,
        weekdays=functools.partial(calendar.weekdays_from, day0) if meetings else None,
        not_before=not_before,
        **meetings,
    )


def forecast_risk(application, activities, **arguments) -> risk.RiskForecast:
    """Return the Monte Carlo forecast of one application (:func:`risk_case`)."""
    return risk.simulate_many([risk_case(application, activities, **arguments)])[0]


def risk_values(
    found: risk.RiskForecast, calendar, day0: date, *, as_of: date, codes=None
) -> RiskValues:
    """Return ``found``, made ``as_of`` a day, as dates from ``day0`` (a finish offset is
    the end of the day before it), its shares rounded to what a page shows; the figures of
    the activities ``codes`` only (the real ones), when given."""

    # Every finish lies within the last run's: its dates read in one call.
    dates = calendar.dates_from(day0, max(1, found.last_finish))

    def finish(offset: int) -> date:
        return dates[max(0, offset - 1)]

    offsets, shares = found.rounded_curve(risk.DECIMALS)
    criticality, sensitivity = found.rounded_figures(risk.DECIMALS)
    return RiskValues(
        as_of=as_of,
        on_time=found.rounded_on_time(risk.DECIMALS),
        p50=finish(found.percentile(0.5)),
        p80=finish(found.percentile(0.8)),
        p95=finish(found.percentile(0.95)),
        driver=found.most_responsible() or "",
        # (Indexed inline: a curve has a few dozen points, and thousands are made a batch.)
        curve=[
            [_iso(dates[o - 1] if o > 0 else dates[0]), share]
            for o, share in zip(offsets, shares, strict=True)
        ],
        activities={
            code: [criticality[code], sensitivity[code]]
            for code in criticality
            if codes is None or code in codes
        },
    )


# A sweep writes the same few hundred dates thousands of times.
_iso = functools.lru_cache(maxsize=4096)(date.isoformat)


class _RiskApplication(NamedTuple):
    pk: int
    region_code: str
    voltage_class: str
    customer_class: str
    committed_duration: int | None
    plan_meeting_weekday: int | None
    capacity_holds: dict


class _RiskActivity(NamedTuple):
    code: str
    duration: int
    is_dummy: bool
    department_code: str


def application_risk(
    application,
    activities,
    calendar,
    today: date,
    *,
    learned: LearnedDurations | None = None,
    samples: int | None = None,
    seed: int | None = None,
) -> tuple[risk.RiskForecast, date]:
    """Return the Monte Carlo forecast of an application (a model instance, with its
    region) as of the end of ``today``, and its day 0 (:func:`forecast_risk`).
    ``activities`` are its Activity rows with their departments. (The back-test asks it of
    days past, whose crews' queues are not kept: no activity is held back.)"""
    baseline, forecast, day0 = application_forecast(application, activities, calendar, today)
    found = forecast_risk(
        _RiskApplication(
            application.pk,
            application.region.code if application.region_id else "",
            application.voltage_class,
            application.customer_class,
            application.committed_duration,
            application.plan_meeting_weekday,
            # The queues of a day in the past are not kept: none is assumed.
            {},
        ),
        [
            _RiskActivity(
                a.code, a.duration, a.is_dummy, a.department.code if a.department_id else ""
            )
            for a in activities
        ],
        baseline=baseline,
        forecast=forecast,
        calendar=calendar,
        day0=day0,
        learned=learned or LearnedDurations(application.template_id),
        samples=samples,
        seed=seed,
    )
    return found, day0


def application_delay_by_party(application, activities, calendar, today: date) -> dict:
    """Return the working days past the committed finish each party caused, as of the end
    of ``today`` (:mod:`scheduling.attribution`): keyed by the department id of
    utility-side activities (None for those without a department) and ``CUSTOMER`` for
    customer-side ones. ``application`` needs ``start_date``, ``committed_duration`` and
    ``plan_meeting_weekday``."""
    baseline, forecast, _day0 = application_forecast(application, activities, calendar, today)
    party_of = {
        a.code: CUSTOMER if a.party == Party.CUSTOMER else a.department_id for a in activities
    }
    return delay_by_party(baseline, forecast, party_of)


# --- What-if on a network JSON (commands and API) -------------------------------------------


def network_schedule(network_data) -> dict:
    """Return the CPM result of a network JSON: the output of ``compute_schedule``.

    Raise :class:`~scheduling.cpm.NetworkError` for a network the engine refuses.
    """
    return cpm.load_network(network_data).evaluate().as_dict()


def network_delay_analysis(network_data, *, activity, delay) -> dict:
    """Return what a delay of one activity does: the output of ``analyse_delay``."""
    return analyse_delay(cpm.load_network(network_data), activity, delay).as_dict()


# JavaScript reads JSON numbers as doubles: a count above this is sent as a string of digits.
MAX_SAFE_INTEGER = 2**53 - 1


def network_limits() -> cpm.NetworkLimits:
    """Return the bounds of a network a client sends (the NETWORK_MAX_* settings)."""
    return cpm.NetworkLimits(
        max_activities=settings.NETWORK_MAX_ACTIVITIES,
        max_links=settings.NETWORK_MAX_LINKS,
        max_days=settings.NETWORK_MAX_DAYS,
    )


def compute_budget() -> cpm.TimeBudget:
    return cpm.TimeBudget(settings.COMPUTE_TIME_BUDGET_SECONDS)


def _bounded_network(network_data, budget: cpm.TimeBudget) -> cpm.CompiledNetwork:
    return cpm.load_network(network_data, limits=network_limits(), budget=budget)


def client_network_schedule(network_data) -> dict:
    """Return the CPM result of a network a client sent, with bounded work.

    The network is refused beyond :func:`network_limits` and the computation beyond
    :func:`compute_budget`; the critical paths are counted (``critical_path_count``, a
    string of digits when above 2^53 − 1) and at most CRITICAL_PATHS_LISTED of them are
    listed, ``critical_paths_truncated`` saying whether some were left out. Otherwise the
    answer is the output of ``compute_schedule``.
    """
    budget = compute_budget()
    schedule = _bounded_network(network_data, budget).evaluate()
    budget.check("passes")
    listed = settings.CRITICAL_PATHS_LISTED
    count = schedule.critical.count
    result = schedule.as_dict(critical_paths=schedule.critical.first(listed))
    result["critical_path_count"] = count if count <= MAX_SAFE_INTEGER else str(count)
    result["critical_paths_truncated"] = count > listed
    budget.check("critical paths")
    return result


def client_network_delay_analysis(network_data, *, activity, delay) -> dict:
    """Return what a delay of one activity does in a network a client sent, with bounded
    work (see :func:`client_network_schedule`)."""
    budget = compute_budget()
    compiled = _bounded_network(network_data, budget)
    if delay > settings.NETWORK_MAX_DAYS:
        raise cpm.ValueOutOfBoundsError(activity, "delay", delay, settings.NETWORK_MAX_DAYS)
    result = analyse_delay(compiled, activity, delay).as_dict()
    budget.check("passes")
    return result


# --- REST API reads -------------------------------------------------------------------------


def _times(times, calendar, day0) -> dict:
    return {
        **times.as_dict(),
        "start": calendar.offset_to_date(day0, times.es),
        "finish": finish_date(calendar, day0, times.es, times.ef),
    }


def crew_needs(application_ids: list[int]) -> dict[int, dict[str, list[tuple]]]:
    """Return, by application and activity code, what each activity that queues for a
    shared crew needs: (crew kind, units a day, department id, department name) for its
    department and each joint department. Two queries, no model instances (a region's
    levelling reads tens of thousands of activities)."""
    rows = (
        Activity.objects.filter(
            any_of("application_id", application_ids),
            department__isnull=False,
            is_dummy=False,
        )
        .exclude(crew_kind="")
        .values_list(
            "id",
            "application_id",
            "code",
            "crew_kind",
            "crew_units",
            "department_id",
            "department__name",
        )
    )
    needs: dict[int, dict[str, list[tuple]]] = {}
    by_activity = {}
    for pk, application_id, code, kind, units, department_id, department_name in rows:
        line = [(kind, units, department_id, department_name)]
        needs.setdefault(application_id, {})[code] = line
        by_activity[pk] = line
    if by_activity:
        joint = (
            Activity.joint_departments.through.objects.filter(
                any_of("activity__application_id", application_ids)
            )
            .order_by("activity_id", "department_id")
            .values_list("activity_id", "department_id", "department__name")
        )
        for activity_id, department_id, department_name in joint:
            line = by_activity.get(activity_id)
            if line is not None:  # None: the activity queues for no crew
                line.append((line[0][0], line[0][1], department_id, department_name))
    return needs


def activities_with_departments():
    """The activities, in network order, with their owning and joint departments (what the
    pages, the schedule and the levelling show or read of each)."""
    return (
        Activity.objects.select_related("department")
        .prefetch_related("joint_departments")
        .order_by("sort_order", "id")
    )


def application_schedule(application, *, today: date) -> dict:
    """Return the baseline, the progress and the forecast of an application as of ``today``.

    The forecast is computed by the engine from the recorded progress (nothing is stored);
    the baseline is the latest approved baseline version. Offsets are working days from
    day 0; every offset comes with its calendar date.
    """
    calendar = working_calendar()
    activities = list(activities_with_departments().filter(application=application))
    baseline_row = application.baselines.order_by("-version").first()
    stored = risk_of(application)
    figures = stored.activities if stored else {}
    _plan, forecast, day0 = application_forecast(application, activities, calendar, today)
    planned = baseline_row.schedule["activities"] if baseline_row else {}
    rows = []
    for activity in activities:
        if activity.is_dummy:
            continue
        base = planned.get(activity.code)
        times = forecast.activities[activity.code]
        rows.append(
            {
                "code": activity.code,
                "name": activity.name,
                "name_en": activity.name_en,
                "stage": activity.stage,
                "department": activity.department,
                "joint_departments": list(activity.joint_departments.all()),
                "party": activity.party,
                "duration": activity.duration,
                "remaining": activity.remaining,
                "status": activity.status,
                "milestone": activity.milestone,
                "baseline": (
                    {
                        **base,
                        "start": calendar.offset_to_date(day0, base["es"]),
                        "finish": calendar.offset_to_date(day0, max(base["es"], base["ef"] - 1)),
                    }
                    if base
                    else None
                ),
                "actual": {"start": activity.actual_start, "finish": activity.actual_finish},
                "forecast": _times(times, calendar, day0),
                **dict(
                    zip(
                        ("criticality", "sensitivity"),
                        figures.get(activity.code, (None, None)),
                        strict=True,
                    )
                ),
            }
        )

    def finish(offset: int) -> date:
        return calendar.offset_to_date(day0, max(0, offset - 1))

    return {
        "application": application.pk,
        "number": application.number,
        "version": application.version,
        "day0": day0,
        "as_of": today,
        "baseline": {
            "version": baseline_row.version if baseline_row else None,
            "computed_duration": baseline_row.duration if baseline_row else None,
            "computed_finish_date": finish(baseline_row.duration) if baseline_row else None,
            "planned_duration": application.committed_duration,
            "committed_finish_date": application.committed_finish_date,
            "critical_paths": baseline_row.schedule["critical_paths"] if baseline_row else [],
        },
        "forecast": {
            "as_of_offset": forecast.as_of,
            "duration": forecast.duration,
            "finish_date": finish(forecast.duration),
            "planned_duration": forecast.planned_duration,
            "total_float": forecast.min_total_float,
            "critical_paths": [list(path) for path in forecast.critical_paths],
        },
        "risk": stored_risk(stored),
        "activities": rows,
    }


def risk_of(application) -> ApplicationRisk | None:
    """Return the risk forecast stored by ``application``'s last analysis, or None before
    the first (or with the forecast off). One query, unless read with
    ``select_related("risk")``."""
    try:
        stored = application.risk
    except ObjectDoesNotExist:
        return None
    return stored if stored.as_of is not None else None


def stored_risk(stored: ApplicationRisk | None) -> dict | None:
    """Return a stored risk forecast (:func:`risk_of`) as the API shows it, or None."""
    if stored is None:
        return None
    return {
        "as_of": stored.as_of,
        "on_time_probability": stored.on_time,
        "p50_finish_date": stored.p50,
        "p80_finish_date": stored.p80,
        "p95_finish_date": stored.p95,
        "driver": stored.driver or None,
        "curve": [{"date": date.fromisoformat(day), "share": share} for day, share in stored.curve],
    }


def deviation_causes() -> list[DeviationCause]:
    """The causes a deviation may be put down to now (the active ones, in their order)."""
    return list(DeviationCause.objects.filter(is_active=True))


def default_responsibility(deviation) -> tuple[str, int | None]:
    """Who answers for a deviation unless someone says otherwise: the owner of the late
    activity, its department for the utility's work, the customer for the customer's."""
    if deviation.activity.party == Party.CUSTOMER:
        return ResponsibleParty.CUSTOMER, None
    return ResponsibleParty.DEPARTMENT, deviation.activity.department_id


# --- History: the hot tables and their archive (yekuo.archive) ------------------------------

HISTORY_RELATED = ("activity", "department", "acknowledged_by", "cause", "responsible_department")


def deviation_history(application_ids: Iterable[int], *, limit: int | None = None) -> list:
    """Return the resolved deviations of these applications, from the hot table and the
    archive alike, the last resolved first; each has ``is_archived``. With ``limit``, only
    that many of the last resolved (each table reads no more).

    Two queries, and one per related table of a table that has rows. Joined in the two
    queries, the five related tables cost Django's compiler and PostgreSQL's planner
    5 ms on every application page, most of which have no resolved deviation at all."""
    ids = list(application_ids)
    order = ("-resolved_at", "-detected_at", "-pk")
    hot = Deviation.objects.filter(application_id__in=ids, status=Deviation.Status.RESOLVED)
    archived = ArchivedDeviation.objects.filter(application_id__in=ids)
    if limit is not None:
        hot, archived = hot.order_by(*order)[:limit], archived.order_by(*order)[:limit]
    hot, archived = list(hot), list(archived)
    for found in (hot, archived):
        if found:
            prefetch_related_objects(found, *HISTORY_RELATED)
    rows = [*hot, *archived]
    rows.sort(key=lambda row: (row.resolved_at, row.detected_at, row.pk), reverse=True)
    return rows if limit is None else rows[:limit]


def deviation_of_history(deviation_id: int, *, application_ids):
    """Return the deviation ``deviation_id`` of the applications ``application_ids`` (a
    queryset of keys) from the hot table or, once moved, the archive; None when neither."""
    for model in (Deviation, ArchivedDeviation):
        row = (
            model.objects.filter(pk=deviation_id, application_id__in=application_ids)
            .select_related("application", *HISTORY_RELATED)
            .first()
        )
        if row is not None:
            return row
    return None


def proposal_history(deviation) -> list:
    """Return every proposal of ``deviation`` (hot or archived), in the order of
    ``Proposal.Meta.ordering``: most days recovered first. Two queries."""
    rows = [
        *Proposal.objects.filter(deviation_id=deviation.pk).select_related("decided_by"),
        *ArchivedProposal.objects.filter(deviation_id=deviation.pk).select_related("decided_by"),
    ]
    rows.sort(key=lambda p: (p.days_recovered is None, -(p.days_recovered or 0), p.pk))
    return rows


# --- Shared capacity (scheduling.levelling) --------------------------------------------------


def crew_key(kind: str, department_id: int) -> str:
    """The key a crew of a region goes by in a levelling: its kind and department."""
    return f"{kind}:{department_id}"


def region_crews(region_id: int) -> list[Crew]:
    """The active crews of a region with their capacity changes, in two queries."""
    return list(
        Crew.objects.filter(region_id=region_id, is_active=True)
        .select_related("department")
        .prefetch_related("capacity_changes")
        .order_by("kind", "department_id")
    )


def lending_crews(*, kind: str, department_id: int, besides_region_id: int) -> list[Crew]:
    """The active crews of this kind and department in the other regions whose load a
    levelling has kept (what could lend a hand), in one query."""
    return list(
        Crew.objects.filter(kind=kind, department_id=department_id, is_active=True)
        .exclude(region_id=besides_region_id)
        .exclude(load={})
        .select_related("region", "department")
        .order_by("region__code", "id")
    )


def crew_resources(crews: Iterable[Crew], calendar, origin: date) -> list[levelling.Resource]:
    """The crews as the levelling reads them: global days are working-day offsets from
    ``origin``; a capacity change covers its working days; a review meeting meets on its
    weekday (else the configured one; every day when none is configured)."""
    resources = []
    for crew in crews:
        changes: dict[int, int] = {}
        for change in sorted(crew.capacity_changes.all(), key=lambda c: (c.first_day, c.pk)):
            day = max(change.first_day, origin)
            while day <= change.last_day:
                if calendar.is_working_day(day):
                    changes[calendar.date_to_offset(origin, day)] = change.capacity
                day += timedelta(days=1)
        weekday = None
        if crew.kind == CrewKind.REVIEW_MEETING:
            weekday = (
                crew.meeting_weekday
                if crew.meeting_weekday is not None
                else settings.REVIEW_MEETING_WEEKDAY
            )
        resources.append(
            levelling.Resource(
                crew_key(crew.kind, crew.department_id),
                crew.capacity,
                weekday=weekday,
                capacity_on=changes,
            )
        )
    return resources
