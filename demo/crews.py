"""Demo crews: every region's shared crews and review meeting, sized to its work.

Each (kind, department) that some template activity queues for (its own department and
its joint ones) gets one crew per active region, with a capacity fitted to the region's
applications in progress so that the queues are short but real: twice what
they would ask of it over the span work is usually in progress.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count

from accounts.models import Department, Region
from applications.models import WORK_STATES, Application
from scheduling import services as schedule_services
from scheduling.models import ActivityTemplate, Crew, CrewKind

# The working days of each kind of crew one application asks for over its life, and the
# working days that life in progress spans; a review meeting reviews a week's plans.
WORK_DAYS = {
    CrewKind.SURVEY: 1.5,
    CrewKind.DESIGN_REVIEW: 3.0,
    CrewKind.INSPECTION: 3.0,
    CrewKind.ENERGIZATION: 1.5,
    CrewKind.REVIEW_MEETING: 5.0,
}
SPAN_DAYS = 80
FIT = 2.0


@transaction.atomic
def demo_crews_load(*, by=None) -> int:
    """Set up the crews each region lacks; return how many were added (in one transaction:
    each region is levelled once when it commits)."""
    pairs = set()
    for activity in (
        ActivityTemplate.objects.exclude(crew_kind="")
        .filter(department__isnull=False, is_dummy=False)
        .prefetch_related("joint_departments")
    ):
        pairs.add((activity.crew_kind, activity.department_id))
        pairs.update((activity.crew_kind, d.pk) for d in activity.joint_departments.all())
    in_progress = dict(
        Application.objects.filter(state__in=WORK_STATES)
        .values_list("region")
        .annotate(n=Count("pk"))
        .order_by()
    )
    existing = set(Crew.objects.values_list("kind", "department_id", "region_id"))
    departments = Department.objects.in_bulk({department_id for _kind, department_id in pairs})
    added = 0
    for region in Region.objects.filter(is_active=True).order_by("code"):
        work = in_progress.get(region.pk, 0)
        for kind, department_id in sorted(pairs):
            if (kind, department_id, region.pk) in existing:
                continue
            schedule_services.crew_create(
                kind=kind,
                department=departments[department_id],
                region=region,
                capacity=max(1, round(FIT * work * WORK_DAYS[kind] / SPAN_DAYS)),
                by=by,
            )
            added += 1
    return added
