"""What would relieve a queue for shared capacity: changes of a resource's capacity on some
days, each with its effect on every project that shares the region's resources. Pure: the
levelling (:mod:`scheduling.levelling`) and nothing of Django.

A levelling shows where the queues form: the days on which the unconstrained forecasts ask
more of a resource than it has. Two measures a region's planners take there:

- extra crew days (:data:`EXTRA_DAY`): the crew works twice its usual capacity from the
  first day its queue forms, for as many days as the shortest activity that waited for it
  takes (a second crew of its size for one piece of work, or overtime): a day's help
  cannot take a two-day survey;
- an extra review meeting (:data:`EXTRA_MEETING`): the meeting meets once more, with its
  usual capacity, on the working day after the first meeting that cannot review every plan
  ready for it.

Where the extra crew days are wanted, another region's crew of the same kind may have room
on those days: :func:`borrowed` makes the measure a loan (:data:`LEND`) of what it can
spare. The lender's own applications do not move when its booked work leaves that much
room on each of the days (serial scheduling places every activity where it placed it
before), so the caller offers only such loans, and the effect is the borrower's.

The effect of a measure is the levelling again with the measure's capacities, over every
project of the region: a measure moves the queue, and an application that did not wait may
wait now. Accepting a measure records the same capacities (a crew capacity change), so the
next levelling, when nothing else has changed, gives exactly the effect shown.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace

from .levelling import Levelling, Project, Resource, relevel

EXTRA_DAY = "extra_day"
EXTRA_MEETING = "extra_meeting"
LEND = "lend"


@dataclass(frozen=True)
class Measure:
    """A change of one resource's capacity: ``capacity_on`` its capacity on global days."""

    kind: str
    resource: str
    capacity_on: Mapping[int, int]

    @property
    def first_day(self) -> int:
        return min(self.capacity_on)

    @property
    def last_day(self) -> int:
        return max(self.capacity_on)


@dataclass(frozen=True)
class Effect:
    """What a measure does: ``finishes`` holds (finish before, finish after) of every
    project whose levelled finish moves (offsets from its day 0); ``kept`` the projects it
    brings back within their commitment, ``lost`` those it takes past it."""

    measure: Measure
    finishes: Mapping[Hashable, tuple[int, int]]
    kept: frozenset[Hashable] = frozenset()
    lost: frozenset[Hashable] = frozenset()

    @property
    def days_saved(self) -> int:
        """Working days gained over all the projects (those that lose count against)."""
        return sum(before - after for before, after in self.finishes.values())

    @property
    def helped(self) -> int:
        return sum(1 for before, after in self.finishes.values() if after < before)

    @property
    def hurt(self) -> int:
        return sum(1 for before, after in self.finishes.values() if after > before)


def measures(
    found: Levelling,
    resources: Sequence[Resource],
    *,
    weekday_of: Callable[[int], int],
    first: int,
    horizon: int,
) -> list[Measure]:
    """The measures worth computing: one per resource that some project waited for, at the
    first day within ``horizon`` working days from global day ``first`` on which its queue
    forms."""
    # The shortest activity that waited for each resource: what an extra crew must cover.
    waited: dict[str, int] = {}
    for project in found.projects.values():
        for wait in project.waits:
            span = project.finishes[wait.activity] - project.starts[wait.activity]
            waited[wait.resource] = min(waited.get(wait.resource, span), span)
    found_measures = []
    for resource in resources:
        if resource.key not in waited or resource.capacity is None:
            continue
        capacity = found.capacity.get(resource.key, {})
        days = [day for day in found.over_capacity(resource.key) if first <= day < first + horizon]
        for day in days:
            usual = capacity.get(day, resource.capacity_of(day, weekday_of))
            if resource.weekday is not None:
                # The day after a meeting is a working day without one (global days are
                # working days), unless an extra meeting is held on it already.
                extra = day + 1
                if resource.capacity_of(extra, weekday_of) == 0 and usual:
                    found_measures.append(
                        Measure(EXTRA_MEETING, resource.key, {extra: resource.capacity})
                    )
                    break
            elif usual:
                span = range(day, day + max(1, waited[resource.key]))
                doubled = {
                    d: 2 * capacity.get(d, resource.capacity_of(d, weekday_of)) for d in span
                }
                found_measures.append(Measure(EXTRA_DAY, resource.key, doubled))
                break
    return found_measures


def borrowed(
    found: Levelling,
    resource: Resource,
    days: Sequence[int],
    units: int,
    *,
    weekday_of: Callable[[int], int],
) -> Measure:
    """The resource's capacity on ``days`` raised by ``units`` lent from elsewhere."""
    capacity = found.capacity.get(resource.key, {})
    return Measure(
        LEND,
        resource.key,
        {day: capacity.get(day, resource.capacity_of(day, weekday_of)) + units for day in days},
    )


def with_measure(resources: Sequence[Resource], measure: Measure) -> list[Resource]:
    """The resources as the measure leaves them."""
    return [
        replace(resource, capacity_on={**resource.capacity_on, **measure.capacity_on})
        if resource.key == measure.resource
        else resource
        for resource in resources
    ]


def effect(
    measure: Measure,
    projects: Sequence[Project],
    resources: Sequence[Resource],
    before: Levelling,
) -> Effect:
    """Level ``projects`` again with the measure taken; compare each finish with ``before``
    (the levelling without it, of the same projects and resources). Only the placing is
    done again (:func:`~scheduling.levelling.relevel`): the same as levelling anew."""
    after = relevel(before, with_measure(resources, measure))
    finishes, kept, lost = {}, set(), set()
    for project in projects:
        old, new = before.projects[project.key].finish, after.projects[project.key].finish
        if old == new:
            continue
        finishes[project.key] = (old, new)
        if project.committed is not None:
            if old > project.committed >= new:
                kept.add(project.key)
            elif new > project.committed >= old:
                lost.add(project.key)
    return Effect(measure, finishes, frozenset(kept), frozenset(lost))


def ranked(effects: Sequence[Effect]) -> list[Effect]:
    """The effects that help, the most helpful first: commitments kept (net of those
    lost), then working days saved, then the earlier day and the resource's key."""
    return sorted(
        (e for e in effects if e.days_saved > 0),
        key=lambda e: (
            -(len(e.kept) - len(e.lost)),
            -e.days_saved,
            e.measure.first_day,
            e.measure.resource,
        ),
    )
