"""The analysis of applications (DESIGN §5, §7): forecast, deviations, proposals and time
limits, for a batch of applications (the periodic sweep) or for one (at once, in the
transaction of any change that can move its forecast). Both run the same code.

A batch is read in a constant number of queries (read.py), skips the applications whose
inputs have not changed since their last analysis (fingerprint.py), compares what the
engine says now with what is stored (analyse.py), writes only the differences
(store.py) and tells people what turned red or reached a time limit (notify.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from scheduling import selectors as schedule_selectors
from yekuo import bulk
from yekuo.heap import collector_paused

from .. import dashboard_counts, outbound
from ..models import WORK_STATES, Application
from ..selectors import time_limits_by_class
from . import read
from .analyse import BatchChanges, analyse_application, forecast_risks
from .fingerprint import SWEEP_REVISION, fingerprint, pickled
from .notify import check_time_limits, notify_red
from .store import store_changes, store_risks
from .working_days import WorkingDays

__all__ = [
    "SweepStats",
    "application_reanalyse",
    "deviation_sweep",
    "deviation_sweep_batch",
    "sweep_batches",
]


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


@transaction.atomic
@collector_paused()
def deviation_sweep_batch(*, application_ids: list[int], now: datetime | None = None) -> SweepStats:
    """Analyse a batch of applications: forecast, deviations, proposals, time limits.

    Only what changed is written. Running it twice gives the same rows and no second
    notification.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    stats = SweepStats()
    applications = read.swept_applications(application_ids)
    if not applications:
        return stats
    ids = [a.pk for a in applications]
    calendar = WorkingDays(
        schedule_selectors.working_calendar(), min(a.start_date for a in applications)
    )
    by_application = read.swept_activities(ids)
    limits = time_limits_by_class()
    learned = schedule_selectors.LearnedDurations.of_templates(a.template_id for a in applications)
    context = pickled(
        (
            SWEEP_REVISION,
            today,
            schedule_selectors.working_calendar_digest(),
            sorted((k, sorted(v.items())) for k, v in limits.items()),
            # The risk forecast draws from what history says, with this many runs.
            settings.RISK_SAMPLES,
            sorted(item.revision for pk, item in learned.items() if pk is not None),
        )
    )
    fingerprints: list[tuple[int, str]] = []
    computed = []
    open_deviations = read.open_deviations(ids)
    open_proposals = read.open_proposals(ids)
    changes = BatchChanges()
    for application in applications:
        activities = by_application[application.pk]
        key = read.logic_key(activities)
        digest = fingerprint(application, activities, context, key)
        if digest == application.sweep_fingerprint:
            # Nothing it depends on changed since its last analysis: the same forecast,
            # the same deviations and the same time-limit readings would come out.
            continue
        fingerprints.append((application.pk, digest))
        computed.append(application)
        analyse_application(
            changes,
            application=application,
            activities=activities,
            compiled=read.compiled_rows(activities, key),
            calendar=calendar,
            today=today,
            now=now,
            open_deviations=open_deviations,
            open_proposals=open_proposals.get(application.pk, {}),
            learned=learned[application.template_id],
        )
    # Run beside the writes below; stored last, once done (stopped if the writes fail).
    forecasts = forecast_risks(changes, calendar=calendar, today=today)
    try:
        # The batch holds the rows of the applications it computed (swept_applications).
        counted = dashboard_counts.before([a.pk for a in computed], locked=True)
        stats.proposals = store_changes(changes, now=now)
        stats.opened, stats.resolved = changes.opened, changes.resolved
        stats.updated = len(changes.updated_deviations)
        stats.notifications = notify_red(changes.red_alerts)
        statuses: dict[int, tuple[str, str]] = {}
        if computed:
            limits_told: list[tuple] = []
            notified, statuses = check_time_limits(
                computed,
                by_application,
                read.suspension_log([a.pk for a in computed]),
                calendar,
                today,
                limits,
                limits_told,
            )
            stats.notifications += notified
            outbound.sweep_told(changes.told, limits_told, finishes=changes.finishes, now=now)
        forecasts.wait()
    except BaseException:
        forecasts.cancel()
        raise
    store_risks(changes)
    # One row per application computed again: its fingerprint, forecast and status. (Only
    # what changed was written before; an application's row is rewritten for its new
    # fingerprint anyway, and one statement costs less than three. None of these columns
    # is indexed, so the rewrite can stay on the row's page.)
    bulk.update_rows(
        Application,
        [
            "sweep_fingerprint",
            "forecast_finish_date",
            "total_float",
            "time_limit_status",
            "time_limit_clock",
            # What the API shows of it may have moved: integrators sync by updated_at.
            "updated_at",
        ],
        [
            (
                pk,
                digest,
                *changes.finishes[pk],
                *statuses[pk],
                now,
            )
            for pk, digest in fingerprints
        ],
    )
    dashboard_counts.after(counted)
    stats.applications = len(applications)
    stats.unchanged = len(applications) - len(computed)
    return stats


def application_reanalyse(*, application_id: int, now: datetime | None = None) -> SweepStats:
    """Analyse one application now, as the sweep would: called in the transaction of a
    change that can move its forecast, so that the change and its analysis are seen
    together (on the page that answers the change, in the API and by the next sweep)."""
    return deviation_sweep_batch(application_ids=[application_id], now=now)


def sweep_batches(*, batch_size: int | None = None) -> list[list[int]]:
    """Return the ids of the applications in progress in batches, region by region.

    A batch holds applications of one region only (the last batch of a region may be
    short), in id order within it: workers that share a sweep take whole batches, so each
    region's work is spread over them, and a step that needs one region's applications
    together (levelling its departments' load) finds them in the region's own batches.
    One query on the index of (region, state).
    """
    batch_size = batch_size or settings.SWEEP_BATCH_SIZE
    rows = (
        Application.objects.filter(state__in=WORK_STATES)
        .order_by("region_id", "pk")
        .values_list("region_id", "pk")
        # Read in chunks: at a province's million applications, a list of every row's
        # pair would hold some 130 MB at once; the batches hold only the ids.
        .iterator(chunk_size=10_000)
    )
    batches: list[list[int]] = []
    region = None
    for region_id, pk in rows:
        if region_id != region or len(batches[-1]) >= batch_size:
            batches.append([])
            region = region_id
        batches[-1].append(pk)
    return batches


def deviation_sweep(*, now: datetime | None = None, batch_size: int | None = None) -> SweepStats:
    """Run the whole sweep in this process, batch by batch (the command's way)."""
    total = SweepStats()
    for batch in sweep_batches(batch_size=batch_size):
        total.add(deviation_sweep_batch(application_ids=batch, now=now))
    return total
