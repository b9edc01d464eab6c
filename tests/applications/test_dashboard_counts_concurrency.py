"""The dashboard's counts when changes to the same applications race, on the real PostgreSQL."""

import threading
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from applications import dashboard_counts, services
from applications import sweep as analysis
from scheduling.models import Activity, Deviation
from tests.conftest import load_reference_data, need_service
from tests.dates import pin_today
from tests.factories import AccountManagerProfileFactory, UserFactory, make_application

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pin_today]

DAY0 = date(2026, 3, 2)
EVENING = datetime.combine(DAY0 + timedelta(days=9), time(18), tzinfo=ZoneInfo("Asia/Shanghai"))


def test_answers_reassignments_and_a_sweep_at_once_leave_the_counts_right():
    need_service(
        "PostgreSQL", connection.vendor == "postgresql", "row locks need a real database server"
    )
    load_reference_data()
    supervisor = UserFactory(username="sup-k", role="supervisor")
    manager = AccountManagerProfileFactory(user__username="mgr-k").user
    other = AccountManagerProfileFactory(user__username="mgr-k2").user
    applications = [
        make_application(by=supervisor, manager=manager, accepted_on=DAY0) for _ in range(4)
    ]
    for application in applications:
        activity = Activity.objects.get(application=application, code="A")
        services.activity_progress_record(
            activity_id=activity.pk, start=DAY0, by=supervisor, today=DAY0
        )
        services.activity_progress_record(
            activity_id=activity.pk, remaining=4, by=supervisor, today=DAY0
        )
    deviations = list(Deviation.objects.order_by("application_id"))
    assert len(deviations) == 4
    ids = [a.pk for a in applications]
    barrier = threading.Barrier(4)
    failures = []

    def run(work):
        try:
            barrier.wait(timeout=10)
            work()
        except Exception as exc:  # noqa: BLE001 - reported below, with the thread's work
            failures.append(repr(exc))
        finally:
            connection.close()

    def answer():
        for deviation in deviations:
            services.deviation_acknowledge(
                deviation_id=deviation.pk,
                cause="other",
                planned_action="跟进",
                action_due=date(2026, 12, 31),
                by=supervisor,
            )

    def reassign():
        for application_id in reversed(ids):
            services.application_reassign(
                application_id=application_id,
                manager=other,
                reason="调整",
                override=True,
                override_reason="演练",
                by=supervisor,
            )

    def sweep():
        for _ in range(3):
            analysis.deviation_sweep_batch(application_ids=ids, now=EVENING)

    def cancel():
        services.application_transition(
            application_id=ids[1], transition="cancel", by=supervisor, note="撤回"
        )

    threads = [threading.Thread(target=run, args=(w,)) for w in (answer, reassign, sweep, cancel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert dashboard_counts.dashboard_counts_check() == []
    assert set(Deviation.objects.values_list("status", flat=True)) == {"acknowledged"}
