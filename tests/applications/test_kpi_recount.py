"""The KPI figures of one streaming pass equal a recount application by application.

The recount below reads each application on its own, through the per-application
selectors (its clocks, its activities in network order, its delay by party), and counts the
open deviations one by one: nothing is shared with the pass but the formulas of DESIGN §6.
"""

import io
from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applications import kpi, selectors
from applications.models import ACTIVE_STATES, Application, KpiScope
from applications.sweep import deviation_sweep
from scheduling.models import Deviation
from scheduling.selectors import application_delay_by_party, working_calendar
from scheduling.timelimits import worst_status
from tests.dates import day_of_note

pytestmark = pytest.mark.django_db


def _mean(total, count):
    if not count:
        return None
    return (Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def recount(day) -> dict:
    """Return the figures of ``day`` per (scope, id), application by application."""
    first = day - timedelta(days=29)
    calendar = working_calendar()
    sums = defaultdict(lambda: defaultdict(int))
    for application in Application.objects.order_by("pk"):
        energized_on = (
            timezone.localdate(application.energized_at) if application.energized_at else None
        )
        finished = energized_on is not None and first <= energized_on <= day
        active = application.state in ACTIVE_STATES
        if not (active or finished):
            continue
        readings = selectors.application_time_limits(application, today=day)
        activities = list(application.activities.order_by("sort_order", "id"))
        on_time = finished and energized_on <= application.committed_finish_date
        caused = (
            application_delay_by_party(application, activities, calendar, energized_on)
            if finished and not on_time
            else {}
        )
        departments = {a.department_id for a in activities if a.department_id and not a.is_dummy}
        scopes = [(KpiScope.DEPARTMENT, pk) for pk in departments]
        if application.account_manager_id:
            scopes.append((KpiScope.MANAGER, application.account_manager_id))
        for scope in scopes:
            row = sums[scope]
            row["active"] += active
            row["limits_exceeded"] += worst_status(readings) == "exceeded"
            if finished:
                row["finished"] += 1
                if scope[0] == KpiScope.DEPARTMENT:
                    row["on_time"] += not caused.get(scope[1])
                else:
                    row["on_time"] += on_time
                # Working days from day 0 to energization, both counted.
                row["cycle"] += calendar.date_to_offset(application.start_date, energized_on) + 1
                row["utility"] += readings["whole_process"].used
    for deviation in Deviation.objects.exclude(status="resolved").select_related("application"):
        for scope in (
            (KpiScope.MANAGER, deviation.application.account_manager_id),
            (KpiScope.DEPARTMENT, deviation.department_id),
        ):
            if scope[1] is not None:
                sums[scope][f"deviations_{deviation.severity}"] += 1
    return {
        scope: {
            "active": row["active"],
            "finished": row["finished"],
            "on_time": row["on_time"],
            "average_cycle_days": _mean(row["cycle"], row["finished"]),
            "average_utility_days": _mean(row["utility"], row["finished"]),
            "deviations_red": row["deviations_red"],
            "deviations_amber": row["deviations_amber"],
            "deviations_info": row["deviations_info"],
            "limits_exceeded": row["limits_exceeded"],
        }
        for scope, row in sums.items()
    }


@pytest.mark.parametrize("now", [day_of_note("year-end"), day_of_note("spring-festival")])
def test_the_streamed_figures_equal_a_recount_application_by_application(now, monkeypatch):
    call_command(
        "seed_demo",
        "--applications",
        "240",
        "--today",
        now.date().isoformat(),
        stdout=io.StringIO(),
    )
    deviation_sweep()
    # Chunks of 16: the figures are summed across fifteen chunks and more.
    monkeypatch.setattr(kpi, "CHUNK_SIZE", 16)
    day = now.date()

    with CaptureQueriesContext(connection) as captured:
        streamed = {key: figures.as_fields() for key, figures in kpi.kpi_figures(day=day).items()}
    expected = recount(day)

    assert streamed == expected
    # The data set has what each figure counts: late and on-time finishes in the window,
    # clocks past their limit, open deviations, for managers and departments alike.
    managers = [row for (scope, _pk), row in expected.items() if scope == KpiScope.MANAGER]
    assert sum(row["finished"] for row in managers) > sum(row["on_time"] for row in managers) > 0
    assert sum(row["limits_exceeded"] for row in managers) > 0
    assert sum(row["deviations_red"] + row["deviations_amber"] for row in managers) > 0
    assert any(scope == KpiScope.DEPARTMENT for scope, _pk in expected)
    # At most four queries a chunk (and the last, empty, one), then the time limits, the
    # calendar and the deviations.
    chunks = -(-Application.objects.count() // 16) + 1
    assert len(captured) <= 4 * chunks + 6
