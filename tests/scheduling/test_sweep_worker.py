"""The sweep through the real broker and a real worker: beat's task fans out into batches."""

import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from applications import services
from applications.models import Application
from applications.tasks import sweep_deviations
from scheduling.models import Activity, Deviation
from tests.conftest import load_reference_data
from tests.factories import AccountManagerProfileFactory, UserFactory, make_application
from yekuo.celery import app

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# A Saturday: an application accepted that day starts on Monday, so by the end of it
# nothing of its plan is due yet. (On a working day its first activity would be due by the
# end of the day the test runs.) Time runs on from there: the worker needs it.
on_a_saturday = pytest.mark.time_machine(
    datetime(2026, 3, 7, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True
)


@on_a_saturday
def test_the_periodic_sweep_runs_its_batches_on_a_worker(settings):
    load_reference_data()
    settings.SWEEP_BATCH_SIZE = 1  # two applications: two batch tasks
    supervisor = UserFactory(username="sup-w", role="supervisor")
    manager = AccountManagerProfileFactory(user__username="mgr-w").user
    late = make_application(by=supervisor, manager=manager, accepted_on=date(2026, 3, 2))
    on_time = make_application(by=supervisor, manager=manager, accepted_on=timezone.localdate())
    a = Activity.objects.get(application=late, code="A")
    services.activity_progress_record(activity_id=a.pk, start=date(2026, 3, 2), by=manager)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        assert sweep_deviations.delay().get(timeout=30) == 2
        deadline = time.monotonic() + 30
        levelled = Application.objects.filter(capacity_as_of=timezone.localdate())
        while time.monotonic() < deadline and not (
            Deviation.objects.exists() and levelled.count() == 2
        ):
            time.sleep(0.2)
    # The sweep also levelled the region's applications against its crews (it has none:
    # nothing waits).
    assert list(levelled.values_list("capacity_delay", flat=True)) == [0, 0]
    # A, started on 2 March and never finished, holds up everything after it.
    row = Deviation.objects.get(application=late)
    assert (row.activity.code, row.severity, row.status) == ("A", "red", "open")
    assert not Deviation.objects.filter(application=on_time).exists()
