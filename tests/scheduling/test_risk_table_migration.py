"""The risk forecasts stored on the applications' rows move to a table of their own
(scheduling 0029, applications 0027) and, migrated back, return to the rows: no forecast
is lost either way."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.audit import install_triggers
from applications import sweep as analysis
from scheduling.models import ApplicationRisk
from tests.conftest import load_reference_data
from tests.factories import UserFactory, make_application

pytestmark = [
    pytest.mark.usefixtures("meetings_when_ready"),
    pytest.mark.django_db(transaction=True),
]

DAY0 = date(2026, 3, 2)
BEFORE = [("applications", "0026_application_state_newest"), ("scheduling", "0028_crew_load")]
COLUMNS = ("as_of", "on_time", "p50", "p80", "p95", "driver", "curve", "activities")


def migrate(targets):
    """Migrate to ``targets`` (the latest when None); return the models as they are there."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_the_forecasts_move_to_their_own_table_and_back():
    load_reference_data()
    supervisor = UserFactory(username="sup-m", role="supervisor")
    analysed, never = (make_application(by=supervisor, accepted_on=DAY0) for _ in range(2))
    evening = datetime.combine(DAY0, time(18), tzinfo=ZoneInfo("Asia/Shanghai"))
    analysis.deviation_sweep_batch(application_ids=[analysed.pk], now=evening)
    ApplicationRisk.objects.filter(application=never).delete()
    forecast = ApplicationRisk.objects.values_list(*COLUMNS).get(application=analysed)
    assert forecast[0] == DAY0 and forecast[6] and forecast[7]

    old = migrate(BEFORE)
    try:
        # The forecast is back on the application's own columns.
        rows = old.get_model("applications", "Application").objects.values_list(
            "pk", *(f"risk_{c}" for c in COLUMNS)
        )
        on_rows = {pk: tuple(values) for pk, *values in rows}
        assert on_rows[analysed.pk] == forecast
        assert on_rows[never.pk][:2] == (None, None)
    finally:
        migrate(None)
        # What ``migrate`` does after the last migration (SQLite rebuilt the application
        # table, and its audit triggers with it).
        install_triggers()

    assert ApplicationRisk.objects.values_list(*COLUMNS).get(application=analysed) == forecast
    # An application never analysed gets no row.
    assert not ApplicationRisk.objects.filter(application=never).exists()
