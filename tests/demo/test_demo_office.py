"""The demo looks like a working office on its first day: a year of KPI history behind the
trend chart, deviations in realistic proportions, every business type in small shares."""

import io
from collections import Counter
from datetime import date, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from applications.kpi import WINDOW_DAYS, kpi_monthly_trend
from applications.models import ACTIVE_STATES, Application, KpiScope, KpiSnapshot
from demo.kpi import KPI_MONTHS
from scheduling.models import Deviation, Severity

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 17)  # a Wednesday


def seed(count: int, seed_value: int) -> str:
    out = io.StringIO()
    call_command(
        "seed_demo",
        "--applications",
        str(count),
        "--seed",
        str(seed_value),
        "--today",
        TODAY.isoformat(),
        stdout=out,
    )
    return out.getvalue()


def month_ends_before(day: date, months: int) -> list[date]:
    ends, first = [], day.replace(day=1)
    for _month in range(months):
        ends.append(first - timedelta(days=1))
        first = ends[-1].replace(day=1)
    return sorted(ends)


def test_the_trend_chart_has_a_year_of_history_from_the_demo_applications():
    output = seed(120, 7)
    assert "KPI snapshots taken for 12 days, 2025-07-31 to 2026-06-17." in output
    days = sorted(
        set(KpiSnapshot.objects.filter(scope=KpiScope.MANAGER).values_list("day", flat=True))
    )
    assert days == [*month_ends_before(TODAY, KPI_MONTHS - 1), TODAY]

    trend = kpi_monthly_trend(months=12, today=TODAY)
    assert [m.month for m in trend] == [day.replace(day=1) for day in days]
    # Each month's figure is the history's: the applications energized in the 30 days
    # up to the month's snapshot day.
    for month, day in zip(trend, days, strict=True):
        window_start = day - timedelta(days=WINDOW_DAYS - 1)
        energized = [
            a
            for a in Application.objects.filter(energized_at__isnull=False).exclude(
                account_manager=None
            )
            if window_start <= timezone.localdate(a.energized_at) <= day
        ]
        assert month.finished == len(energized), day
    assert sum(m.finished for m in trend) > 0
    assert all(m.average_cycle_days is not None for m in trend if m.finished)


def test_loading_once_leaves_the_history_as_it_is():
    seed(30, 7)
    rows = KpiSnapshot.objects.count()
    out = io.StringIO()
    call_command("seed_demo", "--once", "--applications", "30", stdout=out)
    assert "already loaded" in out.getvalue()
    assert KpiSnapshot.objects.count() == rows


def test_most_applications_are_on_time_some_amber_and_few_red():
    seed(300, 2026)
    with time_machine.travel(f"{TODAY.isoformat()} 20:00 +0800", tick=False):
        call_command("scan_deviations", stdout=io.StringIO())
    active = Application.objects.filter(state__in=ACTIVE_STATES)
    open_deviation = Q(
        deviations__status__in=[Deviation.Status.OPEN, Deviation.Status.ACKNOWLEDGED]
    )

    def share(severity=None) -> float:
        condition = (
            open_deviation & Q(deviations__severity=severity) if severity else open_deviation
        )
        return active.filter(condition).distinct().count() / active.count()

    assert active.count() > 100
    assert 0.03 <= share(Severity.RED) <= 0.2
    assert 0.05 <= share(Severity.AMBER) <= 0.35
    assert share(Severity.RED) < share(Severity.AMBER)
    assert share() <= 0.45  # most active applications have no open deviation

    energized = list(Application.objects.filter(energized_at__isnull=False))
    late = [a for a in energized if timezone.localdate(a.energized_at) > a.committed_finish_date]
    assert len(energized) > 50
    assert len(late) / len(energized) <= 0.35


def test_every_business_type_appears_and_new_connections_and_increases_lead():
    seed(300, 2026)
    counts = Counter(Application.objects.values_list("business_type", flat=True))
    assert set(counts) == {
        "new",
        "capacity_increase",
        "temporary",
        "relocation",
        "capacity_reduction",
        "suspension",
    }
    other = sum(n for t, n in counts.items() if t not in ("new", "capacity_increase"))
    assert (
        counts["new"]
        > counts["capacity_increase"]
        > max(n for t, n in counts.items() if t not in ("new", "capacity_increase"))
    )
    assert 0.05 <= other / 300 <= 0.25


def test_every_region_has_its_crews_sized_to_its_work():
    from accounts.models import Region
    from scheduling.models import ActivityTemplate, Crew

    seed(300, 2026)
    kinds = set(ActivityTemplate.objects.exclude(crew_kind="").values_list("crew_kind", flat=True))
    for region in Region.objects.filter(is_active=True):
        crews = Crew.objects.filter(region=region)
        assert set(crews.values_list("kind", flat=True)) == kinds
        assert all(crew.capacity >= 1 for crew in crews)
    # Levelled, the queues are real: the work already due piles up on the first days, so
    # a good share of the applications wait, but not all, and not for months.
    call_command("level_capacity", "--today", TODAY.isoformat(), stdout=io.StringIO())
    levelled = Application.objects.filter(capacity_as_of=TODAY)
    waiting = levelled.filter(capacity_delay__gt=0)
    assert levelled.count() > 100
    assert 0 < waiting.count() < levelled.count()
    assert max(waiting.values_list("capacity_delay", flat=True)) <= 60
    # Nothing a template asks for lacks a crew.
    out = io.StringIO()
    call_command("level_capacity", "--today", TODAY.isoformat(), stdout=out)
    assert "no crew set up" not in out.getvalue()
