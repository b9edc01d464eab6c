"""On PostgreSQL, seed_demo writes in a second process while it builds the next chunks:
the rows are those it writes in one process."""

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from applications import dashboard_counts
from applications.models import ACTIVE_STATES, Application, ApplicationCount, KpiSnapshot
from demo import applications as demo_applications
from demo import kpi as demo_kpi
from demo import people
from scheduling.models import ActivityEvent
from tests.conftest import load_reference_data, need_service

from .test_seed_demo import TODAY, dump

# Outside a transaction (the writer must see the rows).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _reference_data():
    """The templates and departments of the data migrations (an earlier transactional
    test's flush removed them)."""
    load_reference_data()


def load(*, aside: bool) -> list[int]:
    seen = []
    demo_applications.demo_applications_load(
        count=45,
        seed=11,
        today=TODAY,
        chunk_size=10,
        aside=aside,
        progress=lambda done, total, seconds: seen.append(done),
    )
    return seen


def test_writing_aside_stores_the_same_rows_as_writing_in_one_process():
    need_service("PostgreSQL", connection.vendor == "postgresql", "the writer forks beside it")
    people.demo_people_load()
    with transaction.atomic():
        assert load(aside=False) == [10, 20, 30, 40, 45]
        in_one = dump()
        events = ActivityEvent.objects.count()
        transaction.set_rollback(True)
    assert not Application.objects.exists()

    # Outside a transaction, on PostgreSQL, with several chunks: aside is the default.
    assert demo_applications._writes_aside(10, 45)
    # Two processes write the chunks in turn: they may finish out of order.
    seen = load(aside=True)
    assert seen == sorted(seen) and seen[-1] == 45 and len(seen) == 5

    assert dump() == in_one
    assert len(in_one) == 45
    assert ActivityEvent.objects.count() == events > 0
    # The planner knows what was loaded (ANALYZE), before autovacuum comes by.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname IN "
            "('applications_application', 'scheduling_activityevent')"
        )
        planned = dict(cursor.fetchall())
    assert planned == {
        "applications_application": Application.objects.count(),
        "scheduling_activityevent": ActivityEvent.objects.count(),
    }
    # Both processes added to the dashboard's counts: they equal a count of the rows.
    assert dashboard_counts.dashboard_counts_check() == []
    assert (
        ApplicationCount.objects.aggregate(n=Sum("n"))["n"]
        == Application.objects.filter(state__in=ACTIVE_STATES).count()
    )


def test_a_transaction_or_a_single_chunk_keeps_the_writing_in_this_process():
    with transaction.atomic():
        assert not demo_applications._writes_aside(10, 45)
    assert not demo_applications._writes_aside(1000, 45)


def test_a_failure_in_the_writing_process_is_raised_here(monkeypatch):
    need_service("PostgreSQL", connection.vendor == "postgresql", "the writer forks beside it")
    people.demo_people_load()
    write_chunk = demo_applications._Loader.write_chunk

    def fail_on_the_last(self, built, numbers=None):
        if len(built) < 10:
            raise RuntimeError("the disk is full")
        return write_chunk(self, built, numbers)

    monkeypatch.setattr(demo_applications._Loader, "write_chunk", fail_on_the_last)

    with pytest.raises(demo_applications.DemoDataError, match="the disk is full"):
        load(aside=True)
    # The four whole chunks were written and committed; the last was not.
    assert Application.objects.count() == 40


def test_applications_placed_in_two_processes_are_placed_on_the_same_days():
    need_service("PostgreSQL", connection.vendor == "postgresql", "the planners fork beside it")
    people.demo_people_load()
    loader = demo_applications._Loader(seed=11, today=TODAY)

    in_one = loader.plan(45)

    assert loader.plan(45, processes=2) == in_one
    assert sorted(position for _g, position in in_one) == list(range(45))
    assert len({g for g, _position in in_one}) > 5


def test_the_kpi_history_taken_in_two_processes_is_the_one_taken_in_one():
    need_service("PostgreSQL", connection.vendor == "postgresql", "the snapshots fork beside it")
    people.demo_people_load()
    load(aside=False)
    assert demo_kpi.forks_beside()

    def snapshots():
        return sorted(
            KpiSnapshot.objects.values_list(
                "day",
                "scope",
                "manager_id",
                "department_id",
                "active",
                "finished",
                "on_time",
                "average_cycle_days",
                "deviations_red",
            )
        )

    days = demo_kpi.demo_kpi_history_load(today=TODAY, processes=1)
    in_one = snapshots()
    KpiSnapshot.objects.all().delete()

    assert demo_kpi.demo_kpi_history_load(today=TODAY, processes=2) == days
    assert snapshots() == in_one
    assert len({row[0] for row in in_one}) == len(days) == demo_kpi.KPI_MONTHS
    assert sum(row[5] for row in in_one) > 0
