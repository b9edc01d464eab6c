"""How far the probability of keeping the promise can be trusted: a back-test on finished
applications.

For each finished application (energized or closed, every activity finished) the Monte
Carlo forecast is made again as it would have been made at acceptance and on the day each
stage began, from what was recorded up to that day only, and set against what happened:
did the work finish by the committed duration? The Brier score (the mean squared distance
between the probability and the outcome, 0 is perfect, 0.25 is a coin) and the reliability
table by tenth of probability (of the forecasts that said 70–80 %, how many kept the
promise) say whether the figure means what it says.

The durations are those learned now, from a history that includes these applications: an
in-sample test, kinder than the future will be; the report says so.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Prefetch
from django.utils import timezone

from scheduling import selectors as schedule_selectors
from scheduling.models import Activity

from .models import WORK_STATES, Application, ApplicationState

FINISHED_STATES = [ApplicationState.ENERGIZED, ApplicationState.CLOSED]
ACCEPTANCE = "acceptance"


@dataclass
class Checkpoint:
    """The forecasts made at one kind of checkpoint: (probability, kept) pairs."""

    forecasts: list[tuple[float, bool]] = field(default_factory=list)

    @property
    def brier(self) -> float | None:
        if not self.forecasts:
            return None
        return sum((p - kept) ** 2 for p, kept in self.forecasts) / len(self.forecasts)


@dataclass(frozen=True)
class Decile:
    low: float
    count: int
    mean_forecast: float | None
    observed: float | None


@dataclass
class Backtest:
    applications: int
    samples: int
    checkpoints: dict[str, Checkpoint]

    @property
    def all(self) -> Checkpoint:
        return Checkpoint([f for c in self.checkpoints.values() for f in c.forecasts])

    def reliability(self) -> list[Decile]:
        bins: list[list[tuple[float, bool]]] = [[] for _ in range(10)]
        for p, kept in self.all.forecasts:
            bins[min(9, int(p * 10))].append((p, kept))
        return [
            Decile(
                low=i / 10,
                count=len(rows),
                mean_forecast=sum(p for p, _k in rows) / len(rows) if rows else None,
                observed=sum(k for _p, k in rows) / len(rows) if rows else None,
            )
            for i, rows in enumerate(bins)
        ]


def finished_applications(limit: int):
    """The ``limit`` most recently energized applications whose activities all finished."""
    unfinished = Activity.objects.filter(is_dummy=False, actual_finish__isnull=True)
    return (
        Application.objects.filter(state__in=FINISHED_STATES, template__isnull=False)
        .exclude(pk__in=unfinished.values("application_id"))
        .select_related("region")
        .prefetch_related(
            Prefetch(
                "activities",
                queryset=Activity.objects.select_related("department").order_by("sort_order", "id"),
            ),
            "transitions",
        )
        .order_by("-energized_at", "-pk")[:limit]
    )


def _as_of(activities, day: date) -> list:
    """The activities as they stood at the end of ``day``: later dates not yet known."""
    seen = []
    for activity in activities:
        then = copy.copy(activity)
        then.remaining = None
        if then.actual_start is not None and then.actual_start > day:
            then.actual_start = then.actual_finish = None
        elif then.actual_finish is not None and then.actual_finish > day:
            then.actual_finish = None
        seen.append(then)
    return seen


def backtest(*, limit: int, samples: int, seed: int = 0) -> Backtest:
    """Forecast every finished application again at its checkpoints; see the module."""
    calendar = schedule_selectors.working_calendar()
    learned: dict[int, schedule_selectors.LearnedDurations] = {}
    checkpoints = {ACCEPTANCE: Checkpoint(), **{str(s): Checkpoint() for s in WORK_STATES}}
    count = 0
    for application in finished_applications(limit):
        activities = list(application.activities.all())
        real = [a for a in activities if not a.is_dummy]
        day0 = calendar.project_day_zero(application.start_date)
        finish = max(calendar.date_to_offset(day0, a.actual_finish) + 1 for a in real)
        kept = finish <= application.committed_duration
        if application.template_id not in learned:
            learned[application.template_id] = schedule_selectors.LearnedDurations(
                application.template_id
            )
        days = {ACCEPTANCE: application.start_date - timedelta(days=1)}
        for transition in application.transitions.all():
            if transition.to_state in checkpoints and transition.to_state not in days:
                days[transition.to_state] = timezone.localtime(transition.at).date()
        count += 1
        for name, day in days.items():
            found, _day0 = schedule_selectors.application_risk(
                application,
                _as_of(activities, day),
                calendar,
                day,
                learned=learned[application.template_id],
                samples=samples,
                seed=seed + application.pk,
            )
            checkpoints[name].forecasts.append((found.on_time, kept))
    return Backtest(applications=count, samples=samples, checkpoints=checkpoints)
