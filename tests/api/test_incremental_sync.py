"""?updated_since= on the application and deviation lists: what changed since the last
sync, whichever way it changed (a person's change, a reassignment, the analysis)."""

from datetime import datetime, timedelta

import pytest
import time_machine

from applications import services
from applications.sweep import deviation_sweep_batch
from scheduling.models import Activity
from tests.dates import SHANGHAI
from tests.factories import make_application

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db]

ACCEPTED = datetime(2026, 3, 2, 18, tzinfo=SHANGHAI)
LATER = datetime(2026, 3, 4, 10, tzinfo=SHANGHAI)


def numbers_since(client, moment: datetime) -> list[str]:
    response = client.get(
        "/api/v1/applications/", {"updated_since": moment.isoformat(), "ordering": "updated_at"}
    )
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


def test_only_what_changed_since_is_listed(
    supervisor, manager, other_manager, north, south, as_supervisor
):
    with time_machine.travel(ACCEPTED, tick=False):
        application = make_application(
            by=supervisor, manager=manager, region=north, accepted_on=ACCEPTED.date()
        )
        south_application = make_application(
            by=supervisor, manager=other_manager, region=south, accepted_on=ACCEPTED.date()
        )
    assert set(numbers_since(as_supervisor, ACCEPTED - timedelta(days=1))) >= {
        application.number,
        south_application.number,
    }
    with time_machine.travel(LATER, tick=False):
        assert numbers_since(as_supervisor, LATER) == []
        a = Activity.objects.get(application=application, code="A")
        services.activity_progress_record(
            activity_id=a.pk, start=ACCEPTED.date(), by=manager, now=LATER
        )
        assert numbers_since(as_supervisor, LATER) == [application.number]

    # The analysis moves what the API shows (the forecast): that is a change too.
    next_day = LATER + timedelta(days=1)
    with time_machine.travel(next_day, tick=False):
        deviation_sweep_batch(application_ids=[south_application.pk], now=next_day)
        assert south_application.number in numbers_since(as_supervisor, next_day)


def test_a_bad_moment_is_refused_beside_the_parameter(as_supervisor):
    response = as_supervisor.get("/api/v1/applications/", {"updated_since": "yesterday"})
    assert response.status_code == 400
    assert "updated_since" in response.json()["errors"]
