"""Shared capacity: every application's remaining work scheduled against the crews and the
review meetings they share. Pure: the network engine (:mod:`scheduling.cpm`) and nothing of
Django.

Each application (a :class:`Project`) is planned as if it had the utility to itself; here
its activities that need a shared :class:`Resource` (a survey crew of a region, the weekly
review meeting) queue for it. The method is the serial schedule-generation scheme of
resource-constrained project scheduling, over all the projects at once:

1. Every project's unconstrained forecast is computed by the engine, with the same rules as
   the deterministic forecast (recorded dates are facts, started work runs on, nothing new
   starts before the as-of day, meetings are held on their weekday, lags).
2. The activities are placed one at a time. The next is, of those whose predecessors are all
   placed, the one first by the priority rule: important customers first where configured,
   then the least total float against the commitment (the unconstrained forecast's TF),
   then the earliest committed finish, then the project's and the network's own order.
3. An activity starts at the earliest day on which its predecessors allow it (their placed
   finishes and lags, the as-of day, the meeting day) and every resource it needs has room
   for it on each day it runs: the units it takes a day added to those already booked stay
   within the resource's capacity that day. Recorded work is not moved; running work books
   its crew from the as-of day on, room or not.

Days are *global* working-day indexes (the caller's count from some day of its calendar);
a project's offsets run from its own day 0 (``Project.day0``, a global index). A resource's
capacity on a day is its units per working day, nothing on its days off, an override for a
day (a crew lent to another region for a week: less; an extra crew day or an extra review
meeting: more), and for a meeting (``Resource.weekday``) nothing on other weekdays.

With every capacity unlimited the levelled schedule is the unconstrained forecast exactly.
"""

from __future__ import annotations

import copy
import heapq
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from .cpm import CompiledNetwork, Progress, Schedule

# How many working days past the day its predecessors allow an activity is searched for
# room; a resource that has none within it (no capacity at all, a crew away for good) is
# an error naming the resource, not a schedule stretching for ever.
MAX_WAIT_DAYS = 500


class LevellingInputError(ValueError):
    """Bad input to the levelling: ``field`` names what is wrong (``resources[3].capacity``,
    ``projects[YK-1].demands.B``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Resource:
    """A shared resource: ``capacity`` units a working day (activity-days of a crew, plans a
    meeting can review), None for unlimited. ``weekday`` makes it a meeting, held on that
    weekday only (0 = Monday); ``days_off`` are global days without it, ``capacity_on``
    overrides the capacity of single days (either way)."""

    key: str
    capacity: int | None
    weekday: int | None = None
    days_off: frozenset[int] = frozenset()
    capacity_on: Mapping[int, int] = field(default_factory=dict)

    def capacity_of(self, day: int, weekday_of: Callable[[int], int]) -> int | None:
        """The units available on global ``day`` (None: unlimited)."""
        if day in self.capacity_on:
            return self.capacity_on[day]
        if day in self.days_off:
            return 0
        if self.weekday is not None and weekday_of(day) != self.weekday:
            return 0
        return self.capacity


@dataclass(frozen=True)
class Project:
    """One application's network and progress, as :meth:`CompiledNetwork.forecast` takes
    them, placed at global day ``day0``; ``demands`` gives, per activity id, the units a day
    it needs of each resource (by key). ``committed`` is the committed finish (offset)."""

    key: Hashable
    compiled: CompiledNetwork
    day0: int
    as_of: int
    progress: Mapping[str, Progress] = field(default_factory=dict)
    durations: Mapping[str, int] | None = None
    planned_duration: int | None = None
    committed: int | None = None
    meeting_weekday: int | None = None
    important: bool = False
    demands: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Wait:
    """An activity that waited for a resource: ``days`` later than its predecessors (as
    placed) allowed, first held up by ``resource``."""

    activity: str
    resource: str
    days: int


@dataclass(frozen=True)
class LevelledProject:
    """A project's capacity-aware forecast beside its unconstrained one (offsets from its
    day 0): ``starts`` and ``finishes`` (EF) by activity, the ``finish``, the ``delay`` it
    suffers from waiting (levelled finish less unconstrained), and each wait."""

    key: Hashable
    unconstrained: Schedule
    starts: dict[str, int]
    finishes: dict[str, int]
    finish: int
    delay: int
    waits: tuple[Wait, ...]

    def waited_for(self) -> dict[str, int]:
        """The working days its activities waited, by resource."""
        found: dict[str, int] = {}
        for wait in self.waits:
            found[wait.resource] = found.get(wait.resource, 0) + wait.days
        return found


@dataclass
class Levelling:
    """What :func:`level` found: every project's levelled forecast, and per resource the
    units booked each global day (``load``) beside what the unconstrained forecasts would
    book (``demand``) and the capacity (``capacity``), from the first as-of day on."""

    projects: dict[Hashable, LevelledProject]
    load: dict[str, dict[int, int]]
    demand: dict[str, dict[int, int]]
    capacity: dict[str, dict[int, int | None]]
    # What :func:`relevel` reuses: the projects' states and the order they were placed in.
    _replay: _Replay | None = field(default=None, repr=False, compare=False)

    def over_capacity(self, resource: str) -> list[int]:
        """The days on which the unconstrained forecasts ask more of ``resource`` than it
        has: where the queue forms."""
        limits = self.capacity[resource]
        return sorted(
            day
            for day, units in self.demand[resource].items()
            if limits.get(day) is not None and units > limits[day]
        )


class _Booking:
    """A resource's capacity and bookings over global days from ``origin``."""

    __slots__ = ("resource", "origin", "weekday_of", "cap", "used")

    def __init__(self, resource: Resource, origin: int, weekday_of) -> None:
        self.resource = resource
        self.origin = origin
        self.weekday_of = weekday_of
        self.cap: list[int | None] = []
        self.used: list[int] = []

    def _reach(self, day: int) -> None:
        for d in range(self.origin + len(self.cap), day + 1):
            self.cap.append(self.resource.capacity_of(d, self.weekday_of))
            self.used.append(0)

    def blocked(self, start: int, end: int, units: int) -> int | None:
        """The first day of [start, end) without room for ``units`` more, or None."""
        self._reach(end - 1)
        cap, used, origin = self.cap, self.used, self.origin
        for day in range(max(start, origin), end):
            limit = cap[day - origin]
            if limit is not None and used[day - origin] + units > limit:
                return day
        return None

    def first_open(self, day: int) -> int:
        """The first day from ``day`` on that the resource is there at all (a meeting's next
        meeting day), or ``day`` when none comes within MAX_WAIT_DAYS."""
        for candidate in range(day, day + MAX_WAIT_DAYS):
            self._reach(candidate)
            if self.cap[candidate - self.origin] != 0:
                return candidate
        return day

    def book(self, start: int, end: int, units: int) -> None:
        self._reach(end - 1)
        origin = self.origin
        for day in range(max(start, origin), end):
            self.used[day - origin] += units


def _check(projects: Sequence[Project], resources: Sequence[Resource]) -> dict[str, Resource]:
    by_key = _check_resources(resources)
    for project in projects:
        for activity, needs in project.demands.items():
            where = f"projects[{project.key}].demands.{activity}"
            if activity not in project.compiled.index:
                raise LevellingInputError(where, f"no activity {activity!r} in the network")
            for key, units in needs.items():
                if key not in by_key:
                    raise LevellingInputError(
                        where, f"needs the resource {key!r}, which no resource provides"
                    )
                if isinstance(units, bool) or not isinstance(units, int) or units < 1:
                    raise LevellingInputError(
                        where, f"needs whole units ≥ 1 a day of {key!r}, got {units!r}"
                    )
    return by_key


def _check_resources(resources: Sequence[Resource]) -> dict[str, Resource]:
    by_key: dict[str, Resource] = {}
    for n, resource in enumerate(resources):
        where = f"resources[{n}]"
        if not isinstance(resource.key, str) or not resource.key:
            raise LevellingInputError(f"{where}.key", "a resource needs a key")
        if resource.key in by_key:
            raise LevellingInputError(f"{where}.key", f"{resource.key!r} is given twice")
        for label, value in (
            ("capacity", resource.capacity),
            *((f"capacity_on[{day}]", v) for day, v in resource.capacity_on.items()),
        ):
            if value is None and label == "capacity":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise LevellingInputError(
                    f"{where}.{label}", f"a capacity must be a whole number ≥ 0, got {value!r}"
                )
        if resource.weekday is not None and resource.weekday not in range(7):
            raise LevellingInputError(
                f"{where}.weekday", f"a weekday is 0 (Monday) to 6, got {resource.weekday!r}"
            )
        by_key[resource.key] = resource
    return by_key


def level(
    projects: Sequence[Project],
    resources: Sequence[Resource],
    *,
    weekday_of: Callable[[int], int],
    important_first: bool = False,
) -> Levelling:
    """Schedule every project's remaining work against the shared ``resources`` (see the
    module); ``weekday_of`` gives the weekday of a global day (meetings, and each project's
    meeting weekday from its day 0)."""
    by_key = _check(projects, resources)
    keys = [project.key for project in projects]
    if len(set(keys)) != len(keys):
        raise LevellingInputError("projects", "two projects have the same key")
    origin = min((p.day0 + p.as_of for p in projects), default=0)
    bookings = {key: _Booking(resource, origin, weekday_of) for key, resource in by_key.items()}
    demand: dict[str, dict[int, int]] = {key: {} for key in by_key}

    # Per project: the unconstrained forecast and what the placing reads of it.
    states = []
    heap: list[tuple] = []
    for number, project in enumerate(projects):
        state = _ProjectState(project, weekday_of)
        states.append(state)
        for i in state.ready_now():
            heapq.heappush(heap, (*state.priority(i, important_first), number, i))
        for code, needs in project.demands.items():
            times = state.forecast.activities[code]
            i = project.compiled.index[code]
            begin = max(times.es, project.as_of) if i not in state.done else times.ef
            for key, units in needs.items():
                load = demand[key]
                for offset in range(begin, times.ef):
                    day = project.day0 + offset
                    load[day] = load.get(day, 0) + units
    order: list[tuple[int, int]] = []
    while heap:
        *_key, number, i = heapq.heappop(heap)
        state = states[number]
        state.place(i, bookings)
        if i not in state.done:
            order.append((number, i))
        for succ in state.placed_successor_ready(i):
            heapq.heappush(heap, (*state.priority(succ, important_first), number, succ))
    return _found(states, bookings, demand, _Replay(states, order, origin, weekday_of))


@dataclass(frozen=True)
class _Replay:
    states: list[_ProjectState]
    # (project's number, activity's position) in the order placed, finished work left out.
    order: list[tuple[int, int]]
    origin: int
    weekday_of: Callable[[int], int]


def relevel(before: Levelling, resources: Sequence[Resource]) -> Levelling:
    """Return what :func:`level` gives for the projects ``before`` levelled, with other
    capacities of the same resources (a measure's what-if), without computing again what
    capacities cannot change: each project's unconstrained forecast, the demand, and the
    order in which activities are placed (the priority rule and the network's logic decide
    it, not the room found). Only the placing is done again, in that order."""
    replay = before._replay
    if replay is None:
        raise LevellingInputError("before", "a levelling from level() is needed")
    by_key = _check_resources(resources)
    if set(by_key) != set(before.demand):
        raise LevellingInputError(
            "resources", "levelling again needs the same resources, with other capacities"
        )
    bookings = {
        key: _Booking(resource, replay.origin, replay.weekday_of)
        for key, resource in by_key.items()
    }
    states = [state.fresh() for state in replay.states]
    for number, i in replay.order:
        states[number].place(i, bookings)
    return _found(states, bookings, before.demand, replace(replay, states=states))


def _found(states, bookings, demand, replay: _Replay) -> Levelling:
    load = {
        key: {booking.origin + n: units for n, units in enumerate(booking.used) if units}
        for key, booking in bookings.items()
    }
    capacity = {
        key: {booking.origin + n: cap for n, cap in enumerate(booking.cap)}
        for key, booking in bookings.items()
    }
    return Levelling(
        projects={state.project.key: state.result() for state in states},
        load=load,
        demand=demand,
        capacity=capacity,
        _replay=replay,
    )


class _ProjectState:
    """One project while it is placed."""

    def __init__(self, project: Project, weekday_of) -> None:
        compiled = project.compiled
        self.project = project
        day0 = project.day0

        def project_weekday(offset: int) -> int:
            return weekday_of(day0 + offset)

        self.forecast = compiled.forecast(
            project.as_of,
            project.progress,
            project.durations,
            project.planned_duration,
            weekday_of=project_weekday if project.meeting_weekday is not None else None,
            meeting_weekday=project.meeting_weekday,
        )
        self.done, self.started = compiled._progress(project.progress, project.as_of)
        meets = compiled._meeting_days(
            project_weekday if project.meeting_weekday is not None else None,
            project.meeting_weekday,
        )
        self.meets = meets
        self.held = meets.weekdays if meets is not None else {}
        self.duration = compiled._durations(project.durations)
        n = len(compiled.ids)
        self.waiting = [len(compiled._preds[i]) for i in range(n)]
        self.es = [0] * n
        self.ef = [0] * n
        self.waits: list[Wait] = []
        self.needs = {
            compiled.index[code]: tuple(sorted(needs.items()))
            for code, needs in project.demands.items()
        }
        committed = project.committed if project.committed is not None else 10**9
        self.committed = day0 + committed
        self.rank = {i: n for n, i in enumerate(compiled._order)}

    def fresh(self) -> _ProjectState:
        """This project's state before anything but its finished work is placed (the
        forecast and what is read of it shared): finished work is where it was recorded."""
        state = copy.copy(self)
        n = len(self.es)
        state.es, state.ef, state.waits = [0] * n, [0] * n, []
        for i, (es, ef) in self.done.items():
            state.es[i], state.ef[i] = es, ef
        return state

    def ready_now(self) -> list[int]:
        return [i for i, count in enumerate(self.waiting) if count == 0]

    def priority(self, i: int, important_first: bool) -> tuple:
        # Recorded work first: it is not moved, and its crews are booked before the rest.
        recorded = 0 if (i in self.done or i in self.started) else 1
        important = 0 if (important_first and self.project.important) else 1
        tf = self.forecast.activities[self.project.compiled.ids[i]].tf
        return (recorded, important, tf, self.committed, self.rank[i])

    def placed_successor_ready(self, i: int):
        for succ, _lag in self.project.compiled._succs[i]:
            self.waiting[succ] -= 1
            if self.waiting[succ] == 0:
                yield succ

    def place(self, i: int, bookings: dict[str, _Booking]) -> None:
        project = self.project
        compiled = project.compiled
        day0, floor = project.day0, project.as_of
        if i in self.done:
            self.es[i], self.ef[i] = self.done[i]
            return
        start = 0
        for pred, lag in compiled._preds[i]:
            start = max(start, self.ef[pred] + lag)
        needs = self.needs.get(i, ())
        if i in self.started:
            began, rest = self.started[i]
            if rest is None:
                rest = max(0, self.duration[i] - (floor - began))
            self.es[i] = began
            self.ef[i] = max(start, floor) + rest
            for key, units in needs:
                bookings[key].book(day0 + max(start, floor), day0 + self.ef[i], units)
            return
        start = max(start, floor)
        # A meeting that needs a meeting resource is held on the days that resource meets
        # (its weekday, and any extra meeting); otherwise on the plan's meeting weekday.
        meetings = (
            [bookings[key] for key, _ in needs if bookings[key].resource.weekday is not None]
            if needs
            else ()
        )
        held = i in self.held and not meetings
        if held:
            start = self.meets.on_or_after(i, start)
        for meeting in meetings:
            # Waiting for the meeting day itself is the plan's, not the queue's.
            start = meeting.first_open(day0 + start) - day0
        duration = self.duration[i]
        allowed, blocker = start, None
        while needs and duration:
            late = None
            for key, units in needs:
                late = bookings[key].blocked(day0 + start, day0 + start + duration, units)
                if late is not None:
                    blocker = blocker or key
                    break
            if late is None:
                break
            start = late - day0 + 1
            if held:
                start = self.meets.on_or_after(i, start)
            if start - allowed > MAX_WAIT_DAYS:
                raise LevellingInputError(
                    f"resources.{blocker}",
                    f"no room for activity {compiled.ids[i]} of {project.key} within "
                    f"{MAX_WAIT_DAYS} working days",
                )
        for key, units in needs:
            bookings[key].book(day0 + start, day0 + start + duration, units)
        self.es[i], self.ef[i] = start, start + duration
        if start > allowed:
            self.waits.append(Wait(compiled.ids[i], blocker, start - allowed))

    def result(self) -> LevelledProject:
        compiled = self.project.compiled
        finish = max(self.ef, default=0)
        return LevelledProject(
            key=self.project.key,
            unconstrained=self.forecast,
            starts=dict(zip(compiled.ids, self.es, strict=True)),
            finishes=dict(zip(compiled.ids, self.ef, strict=True)),
            finish=finish,
            delay=finish - self.forecast.duration,
            waits=tuple(self.waits),
        )
