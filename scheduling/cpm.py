"""Critical path method (CPM) for service-connection networks, compiled once and evaluated many.

A network is read from its JSON form (``examples/networks/README.md``) by :func:`parse_network`
into frozen dataclasses, and compiled once by :func:`compile_network`: the structure is
validated, an activity-on-arrow (AOA, 双代号) network is reduced to activity-level precedence
(the successors of arc i-j are the real activities leaving j, reached through any chain of
dummies) and the activities are put into one topological order with networkx. Every later
:meth:`CompiledNetwork.evaluate` or :meth:`CompiledNetwork.forecast` is then only the two
classic CPM passes in plain Python over that precomputed order:

- forward pass: ES = max(EF(pred) + lag) (0 for start activities), EF = ES + D, Tc = max EF;
- backward pass from Tp (the committed duration, else Tc): LF = min(LS(succ) - lag)
  (Tp for end activities), LS = LF - D;
- TF = LS - ES; FF = min(ES(succ) - lag) - EF (Tp - EF for end activities); floats are
  reported as computed, never clamped, so they are negative when Tp < Tc;
- a negative lag is a lead: the successor overlaps the predecessor's last -lag days
  (start-to-start with lag D(pred) + lag). A lead is at most the predecessor's shortest
  duration (its duration when it has none), so no what-if starts a successor before its
  predecessor; on a lead's link LS(succ) - lag and ES(succ) - lag are taken at most Tp,
  so that a predecessor ending after its overlapping successor gets no float it lacks;
- a recorded start before a predecessor's EF + lag (a finish on day k is EF = k + 1, a start
  on day k is ES = k, so a hand-over within one day overlaps by a day) counts from the
  hand-over: on that link the successor stands for ES' = EF(pred) + lag and the work it has
  left after it, so LF(pred) = LF(succ) - max(0, EF(succ) - ES') - lag and
  FF(pred) = ES' - lag - EF(pred) = 0 on it. Without such an overlap ES' = ES and these are
  the formulas above; with it the overlap is fact, not negative float;
- critical: TF equals the minimum TF of the network; critical paths are the maximal chains
  of critical activities in which every link has no gap (ES(next) = EF(prev) + lag). In an
  evaluation without progress these are exactly the start-to-end chains of DESIGN.md §4;
- AOA event times: ET(j) = max over arcs into j of ET(i) + D, LT(i) = min over arcs out of
  i of LT(j) - D, dummies included with D = 0 and LT = Tp at the end events.

Meetings: given ``weekday_of`` (the weekday of a working-day offset; the engine knows no
calendar) an activity of ``kind="meeting"`` not yet started is held at its recurring meeting
day (its ``meeting_weekday``, else the one passed), on every pass alike (plan, forecast,
what-ifs):

- forward: ready = the ES above; ES = the first meeting day ≥ ready; EF = ES + D; the wait
  ES - ready is reported as the activity's ``wait`` (working days);
- backward: LS = the last meeting day ≤ LF' - D, where LF' = min(LS(succ) - lag) (Tp at the
  end) is the finish its successors allow, and LF = LS + D: it cannot start between meeting
  days, so its latest finish is that of its latest meeting. TF = LS - ES = LF - EF stays a
  whole number of weeks' meeting days (0 when critical); a predecessor gets the wait as
  free float, FF = ES(meeting) - lag - EF(pred). When LF' - D < 0 (a late forecast) the
  meeting is not moved: LS = LF' - D, LF = LF';
- without ``weekday_of`` (or without a weekday) nothing is held and the passes are the
  classic ones above. Since every LS is a meeting day ≥ ES when Tp ≥ Tc, floats stay ≥ 0.

Lags exist only in the AON (单代号) form; they are whole, non-negative working days
(finish-to-start with a wait). Time is counted in working days from day 0, the project start.

The forecast (:meth:`CompiledNetwork.forecast`) follows Primavera P6's retained logic:
finished activities keep their actual dates, started ones finish at max(as-of, predecessors'
finish) + remaining duration, unstarted ones cannot start before the as-of day.

This module imports nothing from Django: selectors build the dataclasses, this module
computes, services persist. Bad input raises a :class:`NetworkError` subclass with a stable
``code`` and the offending data as attributes, never a KeyError or TypeError.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from itertools import islice
from types import MappingProxyType
from typing import Any, NamedTuple

import networkx as nx

__all__ = [
    "ActivitySpec",
    "ActivityTimes",
    "CompiledNetwork",
    "CriticalPaths",
    "CycleError",
    "DuplicateActivityError",
    "DuplicateArcError",
    "EmptyNetworkError",
    "EventTimes",
    "InvalidDurationError",
    "InvalidLagError",
    "InvalidProgressError",
    "MalformedNetworkError",
    "MixedFormError",
    "Network",
    "NetworkError",
    "NetworkLimits",
    "NetworkTooLargeError",
    "Predecessor",
    "Progress",
    "Schedule",
    "TimeBudget",
    "TimeBudgetExceededError",
    "UnknownActivityError",
    "ValueOutOfBoundsError",
    "UnknownPredecessorError",
    "compile_network",
    "fulkerson_numbers",
    "load_network",
    "parse_network",
]

ACTIVITY_KINDS = ("normal", "meeting")
_INFINITY = float("inf")


# --- Errors -----------------------------------------------------------------------------------


class NetworkError(Exception):
    """Base of every error about the content of a network or of its inputs."""

    code = "network_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedNetworkError(NetworkError):
    """Raise for wrong types, missing keys and values the format does not allow."""

    code = "malformed_network"

    def __init__(self, message: str, *, location: str | None = None) -> None:
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class EmptyNetworkError(NetworkError):
    """Raise when a network has no real activity."""

    code = "empty_network"

    def __init__(self) -> None:
        super().__init__("the network has no activities")


class DuplicateActivityError(NetworkError):
    code = "duplicate_activity"

    def __init__(self, activity: str) -> None:
        self.activity = activity
        super().__init__(f"activity id {activity!r} is used more than once")


class UnknownPredecessorError(NetworkError):
    code = "unknown_predecessor"

    def __init__(self, activity: str, predecessor: str) -> None:
        self.activity = activity
        self.predecessor = predecessor
        super().__init__(f"activity {activity!r} has an unknown predecessor {predecessor!r}")


class UnknownActivityError(NetworkError):
    """Raise when an id given with a request (or in ``parallel_with``) is not in the network."""

    code = "unknown_activity"

    def __init__(self, activity: str, *, referenced_by: str | None = None) -> None:
        self.activity = activity
        self.referenced_by = referenced_by
        where = f" (referenced by {referenced_by!r})" if referenced_by else ""
        super().__init__(f"there is no activity {activity!r} in the network{where}")


class InvalidDurationError(NetworkError):
    """Raise for a duration that is missing, negative, fractional or not a number.

    ``field`` names which duration is wrong: ``duration``, ``shortest_duration``,
    ``planned_duration`` or ``delay``; ``activity`` is None for the network's planned duration.
    """

    code = "invalid_duration"

    def __init__(self, activity: str | None, value: Any, *, field: str = "duration") -> None:
        self.activity = activity
        self.value = value
        self.field = field
        owner = f"activity {activity!r}" if activity is not None else "the network"
        if value is None:
            message = f"{owner} has no {field}"
        else:
            message = (
                f"{owner}: {field} must be a whole, non-negative number of working days, "
                f"got {value!r}"
            )
        super().__init__(message)


class InvalidLagError(NetworkError):
    code = "invalid_lag"

    def __init__(self, activity: str, predecessor: str, value: Any, field: str = "lag") -> None:
        self.activity = activity
        self.predecessor = predecessor
        self.value = value
        self.field = field
        super().__init__(
            f"activity {activity!r}: the lag after {predecessor!r} must be a whole number of "
            f"working days, a lead (negative) at most {predecessor!r}'s shortest duration, "
            f"got {value!r}"
        )


class CycleError(NetworkError):
    """Raise when the logic loops; ``activities`` lists the cycle in order.

    In the AOA form a dummy on the cycle is named ``"dummy i-j"`` and ``events`` lists the
    event numbers of the cycle in order.
    """

    code = "cycle"

    def __init__(self, activities: Iterable[str], *, events: Iterable[int] | None = None) -> None:
        self.activities = tuple(activities)
        self.events = tuple(events) if events is not None else None
        chain = " → ".join((*self.activities, self.activities[0]))
        super().__init__(f"the network has a cycle: {chain}")


class DuplicateArcError(NetworkError):
    """Raise for two AOA arcs with the same tail and head (one of them needs a dummy)."""

    code = "duplicate_arc"

    def __init__(self, tail: int, head: int, activities: tuple[str, str]) -> None:
        self.tail = tail
        self.head = head
        self.activities = activities
        super().__init__(
            f"activities {activities[0]!r} and {activities[1]!r} both run from event {tail} "
            f"to event {head}; give one of them its own head event and a dummy"
        )


class MixedFormError(NetworkError):
    """Raise when a network (or one activity) mixes the AOA and AON forms."""

    code = "mixed_form"

    def __init__(self, aoa_activity: str, aon_activity: str) -> None:
        self.aoa_activity = aoa_activity
        self.aon_activity = aon_activity
        if aoa_activity == aon_activity:
            message = f"activity {aoa_activity!r} has both tail/head (AOA) and predecessors (AON)"
        else:
            message = (
                f"the network mixes forms: {aoa_activity!r} is AOA (tail/head), "
                f"{aon_activity!r} is AON (predecessors)"
            )
        super().__init__(message)


class NetworkTooLargeError(NetworkError):
    """Raise when a network has more activities or links than the limits allow.

    ``field`` is ``activities`` or ``links`` (precedence links: AON predecessors, AOA
    dummies and the activity-level links an AOA network reduces to).
    """

    code = "network_too_large"

    def __init__(self, field: str, count: int, limit: int) -> None:
        self.field = field
        self.count = count
        self.limit = limit
        super().__init__(f"the network has {count} {field}; at most {limit} are accepted")


class ValueOutOfBoundsError(NetworkError):
    """Raise for a number of working days beyond the physical bound of the limits."""

    code = "out_of_bounds"

    def __init__(self, activity: str | None, field: str, value: int, limit: int) -> None:
        self.activity = activity
        self.field = field
        self.value = value
        self.limit = limit
        owner = f"activity {activity!r}" if activity is not None else "the network"
        super().__init__(
            f"{owner}: {field} must be at most {limit} working days, got {_shown(value)}"
        )


class TimeBudgetExceededError(NetworkError):
    """Raise when a computation runs out of its time budget; ``stage`` is where it stopped."""

    code = "time_budget_exceeded"

    def __init__(self, stage: str, seconds: float) -> None:
        self.stage = stage
        self.seconds = seconds
        super().__init__(
            f"the computation took longer than its budget of {seconds:g} s (stopped at {stage})"
        )


class InvalidProgressError(NetworkError):
    code = "invalid_progress"

    def __init__(self, activity: str | None, reason: str) -> None:
        self.activity = activity
        self.reason = reason
        owner = f"activity {activity!r}: " if activity is not None else ""
        super().__init__(f"{owner}{reason}")


def _is_int(value: Any) -> bool:
    # bool is an int subclass, but true/false is never a number of days.
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    """Return ``value`` for a message, a huge integer by its size (str() of an integer of
    more than 4,300 digits raises)."""
    if _is_int(value) and abs(value) >= 10**18:
        return f"a number of about {value.bit_length() * 30103 // 100000 + 1} digits"
    return repr(value)


def _check_days(value: Any, activity: str | None, field_name: str) -> int:
    if type(value) is int and value >= 0:
        return value
    if not _is_int(value) or value < 0:
        raise InvalidDurationError(activity, value, field=field_name)
    return value


# --- Input ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Predecessor:
    """A finish-to-start link in the AON form: start ``lag`` working days after ``id`` ends
    (a negative ``lag`` is a lead: start that many days before it ends, overlapping it)."""

    id: str
    lag: int = 0


@dataclass(frozen=True)
class ActivitySpec:
    """One activity (or AOA dummy) of a network, as a template or an application holds it.

    AON activities set ``predecessors``; AOA arcs set ``tail`` and ``head`` (a dummy sets
    ``dummy=True`` and needs no id). ``shortest_duration`` is the crash limit used by
    corrective proposals; ``parallel_with`` lists the activities this one may run side by
    side with when a deviation calls for it; ``meeting_weekday`` (0 = Monday) overrides the
    configured meeting day for a ``kind="meeting"`` activity. ``extras`` keeps unknown keys.
    """

    id: str | None
    duration: int
    predecessors: tuple[Predecessor, ...] = ()
    tail: int | None = None
    head: int | None = None
    dummy: bool = False
    name: str | None = None
    name_en: str | None = None
    stage: str | None = None
    department: str | None = None
    party: str | None = None
    kind: str = "normal"
    shortest_duration: int | None = None
    parallel_with: tuple[str, ...] = ()
    meeting_weekday: int | None = None
    # AOA only: working days it may start before its tail event is reached (an overlap
    # with every arc into that event; on node a negative lag says it per link).
    lead: int = 0
    extras: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        label = self.label
        if self.id is not None and (not isinstance(self.id, str) or not self.id):
            raise MalformedNetworkError(f"activity id must be a non-empty string, got {self.id!r}")
        if not isinstance(self.dummy, bool):
            raise MalformedNetworkError(f"activity {label!r}: dummy must be true or false")
        if self.is_aoa:
            for end in ("tail", "head"):
                if not _is_int(getattr(self, end)):
                    raise MalformedNetworkError(
                        f"activity {label!r}: {end} must be an event number (an integer), "
                        f"got {getattr(self, end)!r}"
                    )
            if self.predecessors:
                raise MixedFormError(label, label)
        else:
            if self.dummy:
                raise MalformedNetworkError(
                    f"activity {label!r}: dummies exist only in the AOA form (tail/head)"
                )
        if not self.dummy and self.id is None:
            raise MalformedNetworkError("an activity needs an id (only an AOA dummy may omit it)")
        _check_days(self.duration, label, "duration")
        if self.dummy and self.duration != 0:
            raise InvalidDurationError(label, self.duration, field="duration (a dummy takes 0)")
        preds = []
        for pred in self.predecessors:
            if isinstance(pred, str):
                pred = Predecessor(pred)
            if not isinstance(pred, Predecessor) or not isinstance(pred.id, str):
                raise MalformedNetworkError(
                    f"activity {label!r}: a predecessor must be an id, got {pred!r}"
                )
            if not _is_int(pred.lag):
                raise InvalidLagError(label, pred.id, pred.lag)
            preds.append(pred)
        object.__setattr__(self, "predecessors", tuple(preds))
        if not _is_int(self.lead) or self.lead < 0 or (self.lead and self.dummy):
            raise MalformedNetworkError(
                f"activity {label!r}: lead must be a whole number of working days ≥ 0 "
                f"(and 0 for a dummy), got {self.lead!r}"
            )
        if self.lead and not self.is_aoa:
            raise MalformedNetworkError(
                f"activity {label!r}: on node an overlap is a negative lag on the link, not a lead"
            )
        if self.shortest_duration is not None:
            _check_days(self.shortest_duration, label, "shortest_duration")
            if self.shortest_duration > self.duration:
                raise InvalidDurationError(
                    label, self.shortest_duration, field="shortest_duration (above duration)"
                )
        if isinstance(self.parallel_with, str) or not all(
            isinstance(other, str) for other in self.parallel_with
        ):
            raise MalformedNetworkError(
                f"activity {label!r}: parallel_with must be a list of activity ids"
            )
        object.__setattr__(self, "parallel_with", tuple(self.parallel_with))
        if self.kind not in ACTIVITY_KINDS:
            raise MalformedNetworkError(
                f"activity {label!r}: kind must be one of {', '.join(ACTIVITY_KINDS)}, "
                f"got {self.kind!r}"
            )
        if self.meeting_weekday is not None and (
            not _is_int(self.meeting_weekday) or not 0 <= self.meeting_weekday <= 6
        ):
            raise MalformedNetworkError(
                f"activity {label!r}: meeting_weekday must be 0 (Monday) to 6 (Sunday)"
            )
        for text in ("name", "name_en", "stage", "department", "party"):
            value = getattr(self, text)
            if value is not None and not isinstance(value, str):
                raise MalformedNetworkError(f"activity {label!r}: {text} must be text")
        object.__setattr__(self, "extras", MappingProxyType(dict(self.extras)))

    @property
    def is_aoa(self) -> bool:
        return self.tail is not None or self.head is not None

    @property
    def label(self) -> str:
        """Return the id, or ``"dummy i-j"`` for an AOA dummy without one."""
        if self.dummy:
            return f"dummy {self.tail}-{self.head}"
        return self.id if isinstance(self.id, str) else repr(self.id)


@dataclass(frozen=True)
class Network:
    """A network as read: its activities in input order and the committed duration Tp."""

    activities: tuple[ActivitySpec, ...]
    planned_duration: int | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "activities", tuple(self.activities))
        for spec in self.activities:
            if not isinstance(spec, ActivitySpec):
                raise MalformedNetworkError(f"expected an ActivitySpec, got {spec!r}")
        if self.planned_duration is not None:
            _check_days(self.planned_duration, None, "planned_duration")

    @property
    def is_aoa(self) -> bool:
        return any(spec.is_aoa for spec in self.activities)


_AON_KEYS = frozenset({"id", "duration", "predecessors"})
_AOA_KEYS = frozenset({"id", "duration", "tail", "head", "dummy"})
_TEXT_KEYS = ("name", "name_en", "stage", "department", "party")
_MISSING = object()


@dataclass(frozen=True)
class NetworkLimits:
    """Bounds on a network sent by a client, so that no request can ask for unbounded work.

    ``max_activities`` counts real activities, ``max_links`` precedence links (AON
    predecessors; AOA dummies, and the activity-level links an AOA network reduces to),
    ``max_days`` bounds every number of working days (durations, shortest durations, lags,
    leads and the planned duration): no connection project has one longer than ten years.
    """

    max_activities: int = 2000
    max_links: int = 20000
    max_days: int = 3650


class TimeBudget:
    """A wall-clock budget checked between the passes of a computation.

    :meth:`check` raises :class:`TimeBudgetExceededError` once ``seconds`` have elapsed
    since the budget was made; ``clock`` is injectable for tests.
    """

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._deadline = clock() + seconds

    def check(self, stage: str) -> None:
        if self._clock() >= self._deadline:
            raise TimeBudgetExceededError(stage, self.seconds)


def parse_network(data: Any, *, limits: NetworkLimits | None = None) -> Network:
    """Read a network from its decoded JSON form (see ``examples/networks/README.md``).

    Check the shape and the values of each activity; :func:`compile_network` checks the
    structure (ids, references, arcs, cycles). With ``limits``, refuse a network larger
    than they allow (:class:`NetworkTooLargeError`) before reading its activities, and a
    number of days beyond them (:class:`ValueOutOfBoundsError`).
    """
    if not isinstance(data, Mapping):
        raise MalformedNetworkError("a network must be a JSON object", location="$")
    activities = data.get("activities", _MISSING)
    if activities is _MISSING:
        raise MalformedNetworkError("the key 'activities' is missing", location="$")
    if not isinstance(activities, list):
        raise MalformedNetworkError("'activities' must be a list", location="$.activities")
    if limits is not None and len(activities) > limits.max_activities + limits.max_links:
        # Dummies are links, so an AOA list may be longer than max_activities; no list
        # longer than both together can be within the limits.
        raise NetworkTooLargeError("activities", len(activities), limits.max_activities)
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise MalformedNetworkError("'name' must be text", location="$.name")
    specs = tuple(_parse_activity(raw, position) for position, raw in enumerate(activities))
    network = Network(activities=specs, planned_duration=data.get("planned_duration"), name=name)
    if limits is not None:
        _check_limits(network, limits)
    return network


def _check_limits(network: Network, limits: NetworkLimits) -> None:
    """Refuse a parsed network beyond ``limits`` (its values are already checked types)."""
    real = sum(1 for spec in network.activities if not spec.dummy)
    if real > limits.max_activities:
        raise NetworkTooLargeError("activities", real, limits.max_activities)
    links = sum(len(spec.predecessors) + spec.dummy for spec in network.activities)
    if links > limits.max_links:
        raise NetworkTooLargeError("links", links, limits.max_links)
    bound = limits.max_days
    if network.planned_duration is not None and network.planned_duration > bound:
        raise ValueOutOfBoundsError(None, "planned_duration", network.planned_duration, bound)
    for spec in network.activities:
        for field_name in ("duration", "shortest_duration", "lead"):
            value = getattr(spec, field_name)
            if value is not None and value > bound:
                raise ValueOutOfBoundsError(spec.label, field_name, value, bound)
        for pred in spec.predecessors:
            if abs(pred.lag) > bound:
                raise ValueOutOfBoundsError(spec.label, f"lag after {pred.id!r}", pred.lag, bound)


def _parse_activity(raw: Any, position: int) -> ActivitySpec:
    location = f"$.activities[{position}]"
    if not isinstance(raw, Mapping):
        raise MalformedNetworkError("an activity must be a JSON object", location=location)
    ident = raw.get("id")
    label = ident if isinstance(ident, str) else location
    is_aoa = "tail" in raw or "head" in raw or raw.get("dummy") is True
    if is_aoa and "predecessors" in raw:
        raise MixedFormError(label, label)
    dummy = raw.get("dummy", False)
    if is_aoa and (raw.get("tail") is None or raw.get("head") is None):
        raise MalformedNetworkError(
            f"activity {label!r}: an AOA arc needs both 'tail' and 'head'", location=location
        )
    kwargs: dict[str, Any] = {
        "id": ident,
        # A dummy takes no time, so its duration may be left out; a real activity's may not.
        "duration": raw.get("duration", 0 if dummy is True else None),
    }
    if is_aoa:
        kwargs.update(tail=raw.get("tail"), head=raw.get("head"), dummy=dummy)
    else:
        kwargs["predecessors"] = _parse_predecessors(raw.get("predecessors", []), label, location)
    for key in _TEXT_KEYS:
        if key in raw:
            kwargs[key] = raw[key]
    if "kind" in raw:
        kwargs["kind"] = raw["kind"]
    if "shortest_duration" in raw and "min_duration" in raw:
        raise MalformedNetworkError(
            f"activity {label!r}: give 'shortest_duration' or 'min_duration', not both",
            location=location,
        )
    for key in ("shortest_duration", "min_duration"):
        if key in raw:
            kwargs["shortest_duration"] = raw[key]
    if "parallel_with" in raw:
        if not isinstance(raw["parallel_with"], list):
            raise MalformedNetworkError(
                f"activity {label!r}: parallel_with must be a list of activity ids",
                location=location,
            )
        kwargs["parallel_with"] = tuple(raw["parallel_with"])
    if "meeting_weekday" in raw:
        kwargs["meeting_weekday"] = raw["meeting_weekday"]
    if "lead" in raw:
        kwargs["lead"] = raw["lead"]
    known = (_AOA_KEYS if is_aoa else _AON_KEYS).union(
        _TEXT_KEYS, ("kind", "shortest_duration", "min_duration", "parallel_with", "lead")
    )
    kwargs["extras"] = {
        key: value for key, value in raw.items() if key not in known and key != "meeting_weekday"
    }
    return ActivitySpec(**kwargs)


def _parse_predecessors(raw: Any, label: str, location: str) -> tuple[Predecessor, ...]:
    if not isinstance(raw, list):
        raise MalformedNetworkError(
            f"activity {label!r}: 'predecessors' must be a list", location=location
        )
    preds = []
    for item in raw:
        if isinstance(item, str):
            preds.append(Predecessor(item))
        elif isinstance(item, Mapping) and isinstance(item.get("id"), str):
            unknown = set(item) - {"id", "lag"}
            if unknown:
                raise MalformedNetworkError(
                    f"activity {label!r}: unknown key(s) {sorted(unknown)} in a predecessor",
                    location=location,
                )
            preds.append(Predecessor(item["id"], item.get("lag", 0)))
        else:
            raise MalformedNetworkError(
                f"activity {label!r}: a predecessor is an id or {{'id': ..., 'lag': ...}}, "
                f"got {item!r}",
                location=location,
            )
    return tuple(preds)


def load_network(
    data: Any, *, limits: NetworkLimits | None = None, budget: TimeBudget | None = None
) -> CompiledNetwork:
    """Parse and compile a network from its decoded JSON form, within ``limits`` and
    ``budget`` when given."""
    network = parse_network(data, limits=limits)
    if budget is not None:
        budget.check("parse")
    compiled = compile_network(network)
    if limits is not None and compiled.link_count > limits.max_links:
        raise NetworkTooLargeError("links", compiled.link_count, limits.max_links)
    if budget is not None:
        budget.check("compile")
    return compiled


# --- Event numbers ----------------------------------------------------------------------------


def fulkerson_numbers(arcs: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Return {event: number} so that every arc's tail is numbered below its head.

    Fulkerson's rule for a double-code (AOA) network: number the events in a topological
    order. When every ``(tail, head)`` already has tail < head the numbers are kept as they
    are (the mapping is the identity). Otherwise the events are numbered from the smallest
    one upwards, each time taking the lowest-numbered event all of whose arcs in are
    numbered, so a network that needs only a local swap keeps its other numbers. A cycle has
    no such numbering: its events keep their numbers (compiling the network reports it).
    """
    arcs = list(arcs)
    events = sorted({event for arc in arcs for event in arc})
    if all(tail < head for tail, head in arcs):
        return {event: event for event in events}
    outgoing: dict[int, list[int]] = {event: [] for event in events}
    indegree = dict.fromkeys(events, 0)
    for tail, head in set(arcs):
        outgoing[tail].append(head)
        indegree[head] += 1
    ready = [event for event in events if indegree[event] == 0]
    heapq.heapify(ready)
    numbers: dict[int, int] = {}
    while ready:
        event = heapq.heappop(ready)
        numbers[event] = events[0] + len(numbers)
        for head in outgoing[event]:
            indegree[head] -= 1
            if indegree[head] == 0:
                heapq.heappush(ready, head)
    if len(numbers) != len(events):
        return {event: event for event in events}
    return numbers


# --- Compilation ------------------------------------------------------------------------------


def compile_network(network: Network) -> CompiledNetwork:
    """Validate the structure of ``network`` once and return it ready for evaluation."""
    real = [spec for spec in network.activities if not spec.dummy]
    if not real:
        raise EmptyNetworkError()
    aoa = [spec for spec in network.activities if spec.is_aoa]
    if aoa and len(aoa) != len(network.activities):
        aon = next(spec for spec in network.activities if not spec.is_aoa)
        raise MixedFormError(aoa[0].label, aon.label)
    ids: list[str] = []
    index: dict[str, int] = {}
    for spec in real:
        if spec.id in index:
            raise DuplicateActivityError(spec.id)
        index[spec.id] = len(ids)
        ids.append(spec.id)
    for spec in real:
        for other in spec.parallel_with:
            if other not in index:
                raise UnknownActivityError(other, referenced_by=spec.id)
    if aoa:
        preds, events = _reduce_aoa(network.activities, index)
        _apply_leads(real, preds)
    else:
        preds = _aon_links(real, index)
        events = None
    return CompiledNetwork(network, tuple(real), preds, events)


def _check_lead(spec: ActivitySpec, pred: ActivitySpec, lag: int, field: str = "lag") -> None:
    """Refuse an overlap (negative lag) longer than the predecessor can be."""
    overlap = pred.shortest_duration if pred.shortest_duration is not None else pred.duration
    if -lag > overlap:
        raise InvalidLagError(spec.id, pred.id, lag, field=field)


def _apply_leads(real: list[ActivitySpec], preds: list[dict[int, int]]) -> None:
    """Turn each AOA activity's lead into a negative lag on every link into it."""
    for position, spec in enumerate(real):
        if spec.lead:
            links = preds[position]
            for pred in links:
                _check_lead(spec, real[pred], -spec.lead, field="lead")
                links[pred] = -spec.lead


def _aon_links(real: list[ActivitySpec], index: dict[str, int]) -> list[dict[int, int]]:
    preds: list[dict[int, int]] = []
    for spec in real:
        links: dict[int, int] = {}
        for pred in spec.predecessors:
            if pred.id not in index:
                raise UnknownPredecessorError(spec.id, pred.id)
            if pred.id == spec.id:
                raise CycleError([spec.id])
            if index[pred.id] in links:
                raise MalformedNetworkError(
                    f"activity {spec.id!r} lists predecessor {pred.id!r} more than once"
                )
            if pred.lag < 0:
                _check_lead(spec, real[index[pred.id]], pred.lag)
            links[index[pred.id]] = pred.lag
        preds.append(links)
    return preds


@dataclass(frozen=True)
class _EventGraph:
    """The AOA event structure kept for event times: arcs as (other event, activity or -1)."""

    order: tuple[int, ...]
    incoming: Mapping[int, tuple[tuple[int, int], ...]]
    outgoing: Mapping[int, tuple[tuple[int, int], ...]]


def _reduce_aoa(
    specs: tuple[ActivitySpec, ...], index: dict[str, int]
) -> tuple[list[dict[int, int]], _EventGraph]:
    graph = nx.DiGraph()
    arcs: dict[tuple[int, int], ActivitySpec] = {}
    for spec in specs:
        key = (spec.tail, spec.head)
        if key in arcs:
            raise DuplicateArcError(spec.tail, spec.head, (arcs[key].label, spec.label))
        arcs[key] = spec
        graph.add_edge(spec.tail, spec.head)
    try:
        event_order = tuple(nx.lexicographical_topological_sort(graph))
    except nx.NetworkXUnfeasible:
        cycle = nx.find_cycle(graph)
        raise CycleError(
            [arcs[(tail, head)].label for tail, head in cycle],
            events=[tail for tail, _ in cycle],
        ) from None
    incoming: dict[int, list[tuple[int, int]]] = {event: [] for event in event_order}
    outgoing: dict[int, list[tuple[int, int]]] = {event: [] for event in event_order}
    for (tail, head), spec in arcs.items():
        activity = -1 if spec.dummy else index[spec.id]
        incoming[head].append((tail, activity))
        outgoing[tail].append((head, activity))
    # reaching[e]: the real activities that end at e directly or through a chain of dummies.
    reaching: dict[int, set[int]] = {}
    for event in event_order:
        found: set[int] = set()
        for tail, activity in incoming[event]:
            if activity == -1:
                found |= reaching[tail]
            else:
                found.add(activity)
        reaching[event] = found
    preds: list[dict[int, int]] = [{} for _ in index]
    for spec in specs:
        if not spec.dummy:
            preds[index[spec.id]] = dict.fromkeys(sorted(reaching[spec.tail]), 0)
    events = _EventGraph(
        order=event_order,
        incoming={event: tuple(arcs_in) for event, arcs_in in incoming.items()},
        outgoing={event: tuple(arcs_out) for event, arcs_out in outgoing.items()},
    )
    return preds, events


# --- Results ----------------------------------------------------------------------------------


class ActivityTimes(NamedTuple):
    """The CPM times of one activity, in working days from the project start.

    A named tuple rather than a frozen dataclass: an evaluation builds one per activity,
    and a named tuple is built several times faster.
    """

    es: int
    ef: int
    ls: int
    lf: int
    tf: int
    ff: int
    critical: bool
    # Working days the activity waits after its predecessors for its meeting day.
    wait: int = 0

    def as_dict(self) -> dict[str, Any]:
        result = {
            "es": self.es,
            "ef": self.ef,
            "ls": self.ls,
            "lf": self.lf,
            "tf": self.tf,
            "ff": self.ff,
            "critical": self.critical,
        }
        if self.wait:
            result["wait"] = self.wait
        return result


class EventTimes(NamedTuple):
    """The earliest (ET) and latest (LT) time of one AOA event."""

    et: int
    lt: int


class _LazyEventTimes(Mapping[int, EventTimes]):
    """The AOA event times of a schedule, computed when first read.

    Most evaluations are what-ifs and sweeps that never read event times; computing them
    eagerly would cost as much as both CPM passes.
    """

    __slots__ = ("_compute", "_times")

    def __init__(self, compute: Callable[[], Mapping[int, EventTimes]]) -> None:
        self._compute = compute
        self._times: Mapping[int, EventTimes] | None = None

    def _resolved(self) -> Mapping[int, EventTimes]:
        if self._times is None:
            # Two threads may both compute here; they compute the same mapping.
            self._times = self._compute()
        return self._times

    def __getitem__(self, event: int) -> EventTimes:
        return self._resolved()[event]

    def __iter__(self) -> Iterator[int]:
        return iter(self._resolved())

    def __len__(self) -> int:
        return len(self._resolved())

    def __repr__(self) -> str:
        return repr(dict(self._resolved()))


@dataclass(frozen=True)
class Progress:
    """Progress on one activity, in working-day offsets from the project start.

    ``actual_finish`` marks the activity finished (``remaining`` is then ignored);
    ``actual_start`` alone marks it started, with ``remaining`` working days still to go
    (default: the planned duration less the days elapsed since the start, at least 0).
    """

    actual_start: int | None = None
    actual_finish: int | None = None
    remaining: int | None = None


class CriticalPaths:
    """The critical paths of a schedule: counted without listing them, listed lazily.

    A network of k stages of two equal parallel activities has 2^k critical paths, so
    :attr:`count` is found by dynamic programming over the chains (the paths from an
    activity are the sum of the paths from the critical activities that follow it without a
    gap, 1 at an end) and iteration yields the paths one by one, in sorted order (a
    depth-first walk taking the starts and each activity's followers by id: since no
    maximal chain is a prefix of another, that is the sorted order), so :meth:`first`
    costs only the paths it returns.
    """

    def __init__(
        self,
        ids: tuple[str, ...],
        order: tuple[int, ...],
        links: dict[int, list[int]],
        driven: set[int],
    ) -> None:
        name = ids.__getitem__
        self._ids = ids
        self._order = order
        self._links = {i: sorted(following, key=name) for i, following in links.items()}
        self._starts = sorted((i for i in links if i not in driven), key=name)

    @cached_property
    def count(self) -> int:
        """Return the number of critical paths (exact; it can be exponential in size)."""
        links = self._links
        paths: dict[int, int] = {}
        for i in reversed(self._order):
            following = links.get(i)
            if following is not None:
                paths[i] = sum(paths[succ] for succ in following) if following else 1
        return sum(paths[start] for start in self._starts)

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        name = self._ids.__getitem__
        links = self._links
        for start in self._starts:
            # One path edited in place and a stack of (activity, its depth): memory stays
            # linear in the longest chain however many paths there are.
            path: list[int] = []
            stack = [(start, 0)]
            while stack:
                node, depth = stack.pop()
                del path[depth:]
                path.append(node)
                following = links[node]
                while len(following) == 1:
                    node = following[0]
                    path.append(node)
                    following = links[node]
                if following:
                    depth = len(path)
                    stack.extend((succ, depth) for succ in reversed(following))
                else:
                    yield tuple(map(name, path))

    def first(self, limit: int) -> tuple[tuple[str, ...], ...]:
        """Return at most ``limit`` critical paths, the first in sorted order."""
        return tuple(islice(self, limit))


@dataclass(frozen=True)
class Schedule:
    """The result of one evaluation or forecast.

    ``duration`` is Tc (for a forecast, the forecast finish) and ``planned_duration`` is Tp.
    ``durations`` are the durations used; ``as_of`` and ``progress`` are set for a forecast.
    ``compiled`` is the network it was computed on, so it can be re-evaluated for what-ifs.
    ``events`` (AOA input only) and ``critical_paths`` are computed when first read: a
    sweep reads neither.
    """

    activities: Mapping[str, ActivityTimes]
    duration: int
    planned_duration: int
    _critical: Callable[[], CriticalPaths] = field(repr=False, compare=False)
    events: Mapping[int, EventTimes] | None
    durations: Mapping[str, int]
    compiled: CompiledNetwork = field(repr=False, compare=False)
    as_of: int | None = None
    progress: Mapping[str, Progress] = field(default_factory=dict)
    # What-if finishes already computed from this schedule, by change; under None, the
    # schedule's inputs as the forward pass takes them (see CompiledNetwork._finish_if).
    _what_ifs: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @cached_property
    def critical(self) -> CriticalPaths:
        """Return the critical paths, to count or to list lazily (see :class:`CriticalPaths`)."""
        return self._critical()

    @cached_property
    def critical_paths(self) -> tuple[tuple[str, ...], ...]:
        """Return every critical path, each a tuple of activity ids, in sorted order.

        Their number can be exponential in the size of the network: for a network a client
        sent, read :attr:`critical` instead (a count and the first few).
        """
        return tuple(self.critical)

    @property
    def finish(self) -> int:
        """Return the (forecast) finish, the same number as ``duration``."""
        return self.duration

    def finish_if(
        self,
        *,
        compiled: CompiledNetwork | None = None,
        durations: Mapping[str, int] | None = None,
        start_no_earlier: Mapping[str, int] | None = None,
        fixed_start: Mapping[str, int] | None = None,
    ) -> int:
        """Return the finish of this schedule's inputs (progress included) with one change.

        The change is any of: another ``compiled`` network over the same activities (such
        as :meth:`CompiledNetwork.with_parallel`), ``durations`` overriding some of the
        durations used, activities held back (``start_no_earlier``, ES ≥ the day given) or
        pinned (``fixed_start``, regardless of their predecessors).

        Corrective proposals ask many of these for one forecast and need only the finish:
        this runs the forward pass alone, on the progress decoded once per schedule, and
        remembers each answer.
        """
        compiled = compiled if compiled is not None else self.compiled
        key = (
            compiled,
            tuple(sorted(durations.items())) if durations else (),
            tuple(sorted(start_no_earlier.items())) if start_no_earlier else (),
            tuple(sorted(fixed_start.items())) if fixed_start else (),
        )
        finish = self._what_ifs.get(key)
        if finish is None:
            finish = self._what_ifs[key] = compiled._finish_if(
                self, durations, start_no_earlier, fixed_start
            )
        return finish

    @property
    def holds_meetings(self) -> bool:
        """Whether this schedule holds its meeting activities at their meeting days."""
        return self._what_ifs[None][3] is not None

    def starts_if(self, *, durations: Mapping[str, int]) -> tuple[dict[str, int], int]:
        """Return the early starts and the finish of this schedule's inputs with some
        ``durations`` changed: the forward pass alone, meeting days and progress kept."""
        es, finish = self.compiled._starts_if(self, durations)
        return dict(zip(self.compiled.ids, es, strict=True)), finish

    @property
    def min_total_float(self) -> int:
        return min(times.tf for times in self.activities.values())

    @property
    def is_forecast(self) -> bool:
        return self.as_of is not None

    def as_dict(self, *, critical_paths: Iterable[tuple[str, ...]] | None = None) -> dict[str, Any]:
        """Return the JSON output of ``compute_schedule`` (``examples/networks/README.md``).

        ``critical_paths`` replaces the list of every critical path (such as the first few
        of :attr:`critical`).
        """
        if critical_paths is None:
            critical_paths = self.critical_paths
        result: dict[str, Any] = {
            "duration": self.duration,
            "planned_duration": self.planned_duration,
            "critical_paths": [list(path) for path in critical_paths],
            "activities": {
                activity: times.as_dict() for activity, times in self.activities.items()
            },
        }
        if self.events is not None:
            result["events"] = {
                str(event): {"et": times.et, "lt": times.lt}
                for event, times in sorted(self.events.items())
            }
        return result


# --- Meetings ---------------------------------------------------------------------------------

# How far to look for a meeting day; a weekday that never comes (a weekend day in a calendar
# of working days) leaves the activity unconstrained.
MEETING_SEARCH_DAYS = 40


class _MeetingDays:
    """The meeting days of the meeting activities of one evaluation.

    ``weekdays`` maps an activity's position to its meeting weekday; ``weekday_of`` gives
    the weekday (0 = Monday) of a working-day offset, remembered per offset.
    """

    __slots__ = ("_weekday_of", "_seen", "weekdays")

    def __init__(self, weekdays: Mapping[int, int], weekday_of: Callable[[int], int]) -> None:
        self.weekdays = weekdays
        self._weekday_of = weekday_of
        self._seen: dict[int, int] = {}

    def _weekday(self, offset: int) -> int:
        found = self._seen.get(offset)
        if found is None:
            found = self._seen[offset] = self._weekday_of(offset)
        return found

    def on_or_after(self, i: int, offset: int) -> int:
        """Return the first meeting day of activity ``i`` at or after ``offset``."""
        weekday = self.weekdays[i]
        for day in range(offset, offset + MEETING_SEARCH_DAYS):
            if self._weekday(day) == weekday:
                return day
        return offset

    def on_or_before(self, i: int, offset: int) -> int:
        """Return the last meeting day of activity ``i`` at or before ``offset`` (≥ 0)."""
        weekday = self.weekdays[i]
        for day in range(offset, max(-1, offset - MEETING_SEARCH_DAYS), -1):
            if self._weekday(day) == weekday:
                return day
        return offset


# --- Evaluation -------------------------------------------------------------------------------


class CompiledNetwork:
    """A validated network in topological order, ready for many fast evaluations.

    Treat it as immutable; it is safe to share between threads.
    """

    def __init__(
        self,
        network: Network,
        specs: tuple[ActivitySpec, ...],
        preds: list[dict[int, int]],
        events: _EventGraph | None,
        *,
        order: tuple[int, ...] | None = None,
    ) -> None:
        self.network = network
        self.specs = specs
        # Copies made by with_parallel, kept: a network shared by many applications is
        # asked for the same few what-ifs again and again. (A race between threads only
        # builds a copy twice.)
        self._parallels: dict[tuple[str, str], CompiledNetwork] = {}
        self._descendants: dict[str, frozenset[str]] = {}
        self._predecessors: dict[str, tuple[Predecessor, ...]] = {}
        self.ids: tuple[str, ...] = tuple(spec.id for spec in specs)
        self.index: Mapping[str, int] = MappingProxyType(
            {activity: position for position, activity in enumerate(self.ids)}
        )
        self._base = tuple(spec.duration for spec in specs)
        self._preds = tuple(tuple(links.items()) for links in preds)
        self.link_count = sum(map(len, preds))
        succs: list[list[tuple[int, int]]] = [[] for _ in specs]
        for activity, links in enumerate(preds):
            for pred, lag in links.items():
                succs[pred].append((activity, lag))
        self._succs = tuple(tuple(links) for links in succs)
        self._events = events
        self._order = order if order is not None else self._topological_order()
        self._reverse = tuple(reversed(self._order))
        if events is not None:
            # Per event, in topological order (and reversed for the backward pass): the
            # events joined to it by a dummy and the real activities that end (start) at it.
            self._event_in = tuple(
                (
                    event,
                    tuple(tail for tail, activity in events.incoming[event] if activity == -1),
                    tuple(activity for _, activity in events.incoming[event] if activity != -1),
                )
                for event in events.order
            )
            self._event_out = tuple(
                (
                    event,
                    tuple(head for head, activity in events.outgoing[event] if activity == -1),
                    tuple(activity for _, activity in events.outgoing[event] if activity != -1),
                )
                for event in reversed(events.order)
            )

    def _topological_order(self) -> tuple[int, ...]:
        graph = nx.DiGraph()
        graph.add_nodes_from(range(len(self.ids)))
        graph.add_edges_from(
            (pred, activity) for activity, links in enumerate(self._preds) for pred, _lag in links
        )
        try:
            # Input order breaks ties so results and error messages are reproducible.
            return tuple(nx.lexicographical_topological_sort(graph))
        except nx.NetworkXUnfeasible:
            cycle = nx.find_cycle(graph)
            raise CycleError([self.ids[pred] for pred, _ in cycle]) from None

    # Read-only views used by deviation analysis and by callers.

    @property
    def is_aoa(self) -> bool:
        return self._events is not None

    @property
    def planned_duration(self) -> int | None:
        return self.network.planned_duration

    def spec(self, activity: str) -> ActivitySpec:
        return self.specs[self._position(activity)]

    def predecessors(self, activity: str) -> tuple[Predecessor, ...]:
        """Return the activity-level predecessors (through dummies in the AOA form)."""
        found = self._predecessors.get(activity)
        if found is None:
            found = self._predecessors[activity] = tuple(
                Predecessor(self.ids[pred], lag)
                for pred, lag in self._preds[self._position(activity)]
            )
        return found

    def successors(self, activity: str) -> tuple[Predecessor, ...]:
        """Return the activity-level successors, each with the lag of its link."""
        return tuple(
            Predecessor(self.ids[succ], lag) for succ, lag in self._succs[self._position(activity)]
        )

    def descendants(self, activity: str) -> frozenset[str]:
        """Return every activity that follows ``activity`` directly or indirectly."""
        found = self._descendants.get(activity)
        if found is None:
            found = self._descendants[activity] = self._walk_descendants(activity)
        return found

    def _walk_descendants(self, activity: str) -> frozenset[str]:
        seen: set[int] = set()
        stack = [self._position(activity)]
        while stack:
            for succ, _lag in self._succs[stack.pop()]:
                if succ not in seen:
                    seen.add(succ)
                    stack.append(succ)
        return frozenset(self.ids[position] for position in seen)

    def parallel_pairs(self) -> frozenset[frozenset[str]]:
        """Return the pairs the template allows to run in parallel (``parallel_with``)."""
        return frozenset(
            frozenset((spec.id, other))
            for spec in self.specs
            for other in spec.parallel_with
            if other != spec.id
        )

    @cached_property
    def linked_parallel_pairs(self) -> tuple[tuple[str, str, str], ...]:
        """Return (first, second, the later of the two) for each pair allowed to run in
        parallel that one follows the other directly, in network order."""
        found = []
        position = self.index.__getitem__
        for first, second in sorted(
            tuple(sorted(pair, key=position)) for pair in self.parallel_pairs()
        ):
            if any(link.id == first for link in self.predecessors(second)):
                found.append((first, second, second))
            elif any(link.id == second for link in self.predecessors(first)):
                found.append((first, second, first))
        return tuple(found)

    @cached_property
    def meetings(self) -> tuple[ActivitySpec, ...]:
        """Return the activities held at a review meeting, in network order."""
        return tuple(spec for spec in self.specs if spec.kind == "meeting")

    def with_parallel(self, first: str, second: str) -> CompiledNetwork:
        """Return a copy in which two directly linked activities run side by side.

        The link first → second (in either direction) is removed; the later one then waits
        for the earlier one's predecessors instead, and the later one's successors also wait
        for the earlier one, so nothing downstream starts before both are done. The copy has
        activity-level logic only (no AOA events).
        """
        copy = self._parallels.get((first, second))
        if copy is None:
            copy = self._parallels[first, second] = self._with_parallel(first, second)
        return copy

    def _with_parallel(self, first: str, second: str) -> CompiledNetwork:
        a, b = self._position(first), self._position(second)
        links = [dict(pred_links) for pred_links in self._preds]
        if a in links[b]:
            earlier, later = a, b
        elif b in links[a]:
            earlier, later = b, a
        else:
            raise ValueError(f"{first!r} and {second!r} do not follow one another directly")
        del links[later][earlier]
        for pred, lag in self._preds[earlier]:
            links[later][pred] = max(lag, links[later].get(pred, lag))
        for succ, lag in self._succs[later]:
            links[succ][earlier] = max(lag, links[succ].get(earlier, lag))
        return CompiledNetwork(self.network, self.specs, links, None)

    def _position(self, activity: str) -> int:
        try:
            return self.index[activity]
        except (KeyError, TypeError):
            raise UnknownActivityError(activity) from None

    def _durations(self, durations: Mapping[str, int] | None) -> list[int]:
        resolved = list(self._base)
        if durations:
            if not isinstance(durations, Mapping):
                raise MalformedNetworkError("durations must map activity ids to working days")
            for activity, days in durations.items():
                resolved[self._position(activity)] = _check_days(days, activity, "duration")
        return resolved

    def evaluate(
        self,
        durations: Mapping[str, int] | None = None,
        planned_duration: int | None = None,
        *,
        weekday_of: Callable[[int], int] | None = None,
        meeting_weekday: int | None = None,
    ) -> Schedule:
        """Return the CPM schedule, with ``durations`` overriding the planned ones.

        ``planned_duration`` (Tp) defaults to the network's committed duration, else to Tc.
        With ``weekday_of`` (the weekday, 0 = Monday, of a working-day offset) each meeting
        activity is held at its meeting day: its own ``meeting_weekday``, else the one given.
        """
        meets = self._meeting_days(weekday_of, meeting_weekday)
        return self._compute(durations, planned_duration, meets=meets)

    def _meeting_days(
        self, weekday_of: Callable[[int], int] | None, meeting_weekday: int | None
    ) -> _MeetingDays | None:
        if weekday_of is None:
            return None
        if meeting_weekday is not None and (
            not _is_int(meeting_weekday) or not 0 <= meeting_weekday <= 6
        ):
            raise MalformedNetworkError("meeting_weekday must be 0 (Monday) to 6 (Sunday)")
        weekdays = {}
        for spec in self.meetings:
            weekday = spec.meeting_weekday if spec.meeting_weekday is not None else meeting_weekday
            if weekday is not None:
                weekdays[self.index[spec.id]] = weekday
        return _MeetingDays(weekdays, weekday_of) if weekdays else None

    def forecast(
        self,
        as_of: int,
        progress: Mapping[str, Progress],
        durations: Mapping[str, int] | None = None,
        planned_duration: int | None = None,
        *,
        weekday_of: Callable[[int], int] | None = None,
        meeting_weekday: int | None = None,
    ) -> Schedule:
        """Return the forecast at working day ``as_of`` given the progress recorded so far.

        Floats are measured against Tp: ``planned_duration``, else the network's committed
        duration, else the Tc of the plan without progress (the baseline's own duration).
        ``weekday_of`` and ``meeting_weekday`` hold meeting activities at their meeting day
        as in :meth:`evaluate`.
        """
        if not _is_int(as_of) or as_of < 0:
            raise InvalidProgressError(
                None, f"as_of must be a working-day offset ≥ 0, got {as_of!r}"
            )
        if not isinstance(progress, Mapping):
            raise InvalidProgressError(None, "progress must map activity ids to Progress")
        meets = self._meeting_days(weekday_of, meeting_weekday)
        if planned_duration is None and self.network.planned_duration is None:
            planned_duration = self._compute(durations, None, meets=meets).duration
        return self._compute(
            durations, planned_duration, as_of=as_of, progress=progress, meets=meets
        )

    def _compute(
        self,
        durations: Mapping[str, int] | None,
        planned_duration: int | None,
        *,
        as_of: int | None = None,
        progress: Mapping[str, Progress] | None = None,
        start_no_earlier: Mapping[str, int] | None = None,
        fixed_start: Mapping[str, int] | None = None,
        meets: _MeetingDays | None = None,
    ) -> Schedule:
        """Run both passes; the keyword arguments are the package-internal constraints.

        ``start_no_earlier`` holds activities back (ES ≥ the day given); ``fixed_start`` pins
        an activity's start regardless of its predecessors (a what-if assumption).
        """
        dur = self._durations(durations)
        if planned_duration is None:
            planned_duration = self.network.planned_duration
        elif not _is_int(planned_duration) or planned_duration < 0:
            raise InvalidDurationError(None, planned_duration, field="planned_duration")
        done, started = self._progress(progress or {}, as_of) if as_of is not None else ({}, {})
        es, ef, ready = self._forward_any(
            dur, as_of, done, started, start_no_earlier, fixed_start, meets
        )
        tc = max(ef)
        tp = tc if planned_duration is None else planned_duration
        # Meeting activities not yet started are held at a meeting day in both passes.
        held = (
            {i: w for i, w in meets.weekdays.items() if i not in done and i not in started}
            if meets is not None
            else None
        )
        ls, lf, ff = self._backward(es, ef, tp, meets if held else None, held)
        waits = (
            [early - at for early, at in zip(es, ready, strict=True)]
            if ready is not None
            else [0] * len(es)
        )
        tf = [late - early for late, early in zip(ls, es, strict=True)]
        min_tf = min(tf)
        critical = [value == min_tf for value in tf]

        ids = self.ids
        # tuple.__new__ builds the named tuples without a Python-level call per activity.
        make_times = partial(tuple.__new__, ActivityTimes)
        rows = zip(es, ef, ls, lf, tf, ff, critical, waits, strict=True)
        times = dict(zip(ids, map(make_times, rows), strict=True))
        schedule = Schedule(
            activities=MappingProxyType(times),
            duration=tc,
            planned_duration=tp,
            _critical=partial(self._critical_paths, es, ef, critical),
            events=(
                _LazyEventTimes(partial(self._event_times, ef, ls, tp))
                if self._events is not None
                else None
            ),
            durations=MappingProxyType(dict(zip(ids, dur, strict=True))),
            compiled=self,
            as_of=as_of,
            progress=MappingProxyType(dict(progress or {})),
        )
        # What-ifs of this schedule start from these inputs (see _finish_if).
        schedule._what_ifs[None] = (dur, done, started, meets)
        return schedule

    # The passes below are the hot path of every what-if and of the deviation sweep: plain
    # loops over precomputed tuples, without generator expressions or per-item calls.

    def _forward(self, dur: list[int]) -> tuple[list[int], list[int], None]:
        """Return ES and EF: ES = max(EF(pred) + lag), 0 for start activities."""
        preds = self._preds
        es = [0] * len(dur)
        ef = [0] * len(dur)
        for i in self._order:
            start = 0
            for pred, lag in preds[i]:
                finish = ef[pred] + lag
                if finish > start:
                    start = finish
            es[i] = start
            ef[i] = start + dur[i]
        return es, ef, None

    def _positions(self, days: Mapping[str, int] | None) -> dict[int, int]:
        """Return {position: day} of a what-if's {activity: day}."""
        if not days:
            return {}
        return {self._position(key): day for key, day in days.items()}

    def _finish_if(
        self,
        schedule: Schedule,
        durations: Mapping[str, int] | None,
        start_no_earlier: Mapping[str, int] | None,
        fixed_start: Mapping[str, int] | None,
    ) -> int:
        """Return the finish of ``schedule``'s inputs on this network, with the changes given.

        The activities are the schedule's own (this network is it or a copy of it from
        :meth:`with_parallel`), so its durations and decoded progress apply by position.
        """
        # Checked and decoded when the schedule was computed.
        dur, done, started, meets = schedule._what_ifs[None]
        if durations:
            dur = dur.copy()
            for activity, days in durations.items():
                dur[self._position(activity)] = _check_days(days, activity, "duration")
        _es, ef, _ready = self._forward_any(
            dur, schedule.as_of, done, started, start_no_earlier, fixed_start, meets
        )
        return max(ef)

    def _starts_if(self, schedule: Schedule, durations: Mapping[str, int]) -> tuple[list, int]:
        """Return the early starts and the finish of ``schedule``'s inputs with these
        durations (as :meth:`_finish_if`, keeping every start)."""
        dur, done, started, meets = schedule._what_ifs[None]
        dur = dur.copy()
        for activity, days in durations.items():
            dur[self._position(activity)] = _check_days(days, activity, "duration")
        es, ef, _ready = self._forward_any(dur, schedule.as_of, done, started, None, None, meets)
        return es, max(ef)

    def _forward_any(
        self,
        dur: list[int],
        as_of: int | None,
        done: Mapping[int, tuple[int, int]],
        started: Mapping[int, tuple[int, int | None]],
        start_no_earlier: Mapping[str, int] | None,
        fixed_start: Mapping[str, int] | None,
        meets: _MeetingDays | None = None,
    ) -> tuple[list[int], list[int], list[int] | None]:
        """Return ES, EF and (for the constrained pass) the day each activity was ready:
        the plain pass for a plan as it is, else the constrained one."""
        if as_of is None and not start_no_earlier and not fixed_start and meets is None:
            return self._forward(dur)
        return self._forward_constrained(
            dur,
            as_of,
            done,
            started,
            self._positions(start_no_earlier),
            self._positions(fixed_start),
            meets,
        )

    def _forward_constrained(
        self,
        dur: list[int],
        as_of: int | None,
        done: Mapping[int, tuple[int, int]],
        started: Mapping[int, tuple[int, int | None]],
        floors: Mapping[int, int],
        pins: Mapping[int, int],
        meets: _MeetingDays | None = None,
    ) -> tuple[list[int], list[int], list[int]]:
        """Return ES, EF and the day each activity is ready, with decoded progress,
        start-no-earlier floors, pinned starts and meeting days.

        ``started`` holds each started activity's (actual start, remaining or None); without
        a remaining duration it is the duration less the days since the start, at least 0.
        """
        floor_all = as_of if as_of is not None else 0
        preds = self._preds
        held = meets.weekdays if meets is not None else {}
        es = [0] * len(dur)
        ef = [0] * len(dur)
        ready = es.copy()
        for i in self._order:
            if i in done:
                es[i], ef[i] = done[i]
                ready[i] = es[i]
                continue
            if i in pins:
                es[i] = ready[i] = pins[i]
                ef[i] = es[i] + dur[i]
                continue
            start = 0
            for pred, lag in preds[i]:
                if ef[pred] + lag > start:
                    start = ef[pred] + lag
            if i in started:
                # Retained logic: the remaining work still waits for unfinished predecessors.
                began, rest = started[i]
                if rest is None:
                    rest = max(0, dur[i] - (floor_all - began))
                es[i] = ready[i] = began
                ef[i] = max(start, floor_all) + rest
                continue
            start = ready[i] = max(start, floor_all, floors.get(i, 0))
            if i in held:
                start = meets.on_or_after(i, start)
            es[i] = start
            ef[i] = start + dur[i]
        return es, ef, ready

    def _backward(
        self,
        es: list[int],
        ef: list[int],
        tp: int,
        meets: _MeetingDays | None = None,
        held: Mapping[int, int] | None = None,
    ) -> tuple[list[int], list[int], list[int]]:
        """Return LS, LF and FF: LF = min(LS(succ) - lag), FF = min(ES(succ) - lag) - EF;
        an activity ``held`` at its meeting day starts at the last one ≤ LF - D."""
        succs = self._succs
        n = len(es)
        ls = [0] * n
        lf = [0] * n
        ff = [0] * n
        for i in self._reverse:
            links = succs[i]
            if links:
                finish = first = _INFINITY
                ready = ef[i]
                for succ, lag in links:
                    # A recorded start before this finish (a hand-over on the same day) is
                    # read as starting at the hand-over: the overlap is fact, not float.
                    if es[succ] < ready + lag:
                        rest = ef[succ] - ready - lag
                        late = lf[succ] - (rest if rest > 0 else 0) - lag
                        early = ready
                    else:
                        late = ls[succ] - lag
                        early = es[succ] - lag
                    if lag < 0:
                        # Overlapped by this successor (a lead), it still ends by Tp.
                        if late > tp:
                            late = tp
                        if early > tp:
                            early = tp
                    if late < finish:
                        finish = late
                    if early < first:
                        first = early
            else:
                finish = first = tp
            # EF - ES rather than the duration: with progress they differ.
            span = ef[i] - es[i]
            if held and i in held and finish - span >= 0:
                latest = meets.on_or_before(i, finish - span)
                ls[i] = latest
                lf[i] = latest + span
            else:
                lf[i] = finish
                ls[i] = finish - span
            ff[i] = first - ef[i]
        return ls, lf, ff

    def _progress(
        self, progress: Mapping[str, Progress], as_of: int
    ) -> tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int | None]]]:
        """Return finished activities as {i: (start, finish)}, started ones as
        {i: (start, remaining or None)}, after checking every record."""
        done: dict[int, tuple[int, int]] = {}
        started: dict[int, tuple[int, int | None]] = {}
        for activity, record in progress.items():
            i = self._position(activity)
            if not isinstance(record, Progress):
                raise InvalidProgressError(activity, f"expected a Progress, got {record!r}")
            start, finish, rest = record.actual_start, record.actual_finish, record.remaining
            # The common records, checked in one expression; anything else is checked (and
            # its error worded) step by step below.
            if type(start) is int and 0 <= start <= as_of:
                if finish is None:
                    if rest is None or (type(rest) is int and rest >= 0):
                        started[i] = (start, rest)
                        continue
                elif type(finish) is int and start <= finish <= as_of:
                    done[i] = (start, finish)
                    continue
            for label, value in (("actual_start", start), ("actual_finish", finish)):
                if value is not None and (not _is_int(value) or value < 0):
                    raise InvalidProgressError(activity, f"{label} must be a day offset ≥ 0")
                if value is not None and value > as_of:
                    raise InvalidProgressError(
                        activity, f"{label} {value} is after the as-of day {as_of}"
                    )
            if finish is not None:
                if start is None:
                    raise InvalidProgressError(activity, "a finish needs a start")
                if finish < start:
                    raise InvalidProgressError(
                        activity, f"actual_finish {finish} is before actual_start {start}"
                    )
                done[i] = (start, finish)
            elif start is not None:
                if rest is not None and (not _is_int(rest) or rest < 0):
                    raise InvalidProgressError(
                        activity, f"remaining must be whole working days ≥ 0, got {rest!r}"
                    )
                started[i] = (start, rest)
            elif rest is not None:
                raise InvalidProgressError(activity, "remaining is given but no actual_start")
        return done, started

    def _critical_paths(self, es: list[int], ef: list[int], critical: list[bool]) -> CriticalPaths:
        succs = self._succs
        # links[i]: the critical successors that follow critical activity i without a gap.
        links: dict[int, list[int]] = {}
        driven: set[int] = set()
        for i in self._order:
            if critical[i]:
                finish = ef[i]
                tight = links[i] = []
                for succ, lag in succs[i]:
                    # ES < EF + lag only for a recorded hand-over on the same day.
                    if critical[succ] and es[succ] <= finish + lag:
                        tight.append(succ)
                        driven.add(succ)
        return CriticalPaths(self.ids, self._order, links, driven)

    def _event_times(self, ef: list[int], ls: list[int], tp: int) -> Mapping[int, EventTimes]:
        # Read off the activity times: without progress this is exactly ET(j) = max ET(i) + D
        # and LT(i) = min LT(j) - D, and with progress it keeps the actual dates.
        et: dict[int, int] = {}
        for event, dummy_tails, ending in self._event_in:
            if dummy_tails or ending:
                et[event] = max([ef[a] for a in ending] + [et[tail] for tail in dummy_tails])
            else:
                et[event] = 0
        lt: dict[int, int] = {}
        for event, dummy_heads, starting in self._event_out:
            if dummy_heads or starting:
                lt[event] = min([ls[a] for a in starting] + [lt[head] for head in dummy_heads])
            else:
                lt[event] = tp
        return MappingProxyType(
            {event: EventTimes(et[event], lt[event]) for event in self._events.order}
        )
