"""POST /api/v1/progress/import/: a field system's daily progress, recorded all or none."""

from datetime import datetime

import pytest
import time_machine

from scheduling.models import Activity, ActivityEvent
from tests.api.conftest import DAY0, assert_problem, token_client
from tests.dates import SHANGHAI

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db]

URL = "/api/v1/progress/import/"
NOON = datetime(2026, 3, 4, 12, tzinfo=SHANGHAI)


def entry(application, code, **progress):
    return {"number": application.number, "code": code, **progress}


def started(application) -> dict:
    return dict(
        Activity.objects.filter(application=application, actual_start__isnull=False).values_list(
            "code", "actual_start"
        )
    )


@time_machine.travel(NOON, tick=False)
def test_the_entries_are_recorded_in_their_order(application, as_manager):
    response = as_manager.post(
        URL,
        {
            "entries": [
                entry(application, "A", actual_start="2026-03-02", actual_finish="2026-03-02"),
                entry(application, "B", actual_start="2026-03-03", remaining=2),
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"recorded": 2}
    assert {code: day.isoformat() for code, day in started(application).items()} == {
        "A": "2026-03-02",
        "B": "2026-03-03",
    }


@time_machine.travel(NOON, tick=False)
def test_one_bad_row_refuses_the_whole_import_and_names_it(application, as_manager):
    events = ActivityEvent.objects.count()
    response = as_manager.post(
        URL,
        {
            "entries": [
                entry(application, "A", actual_start="2026-03-02"),
                entry(application, "ZZ", actual_start="2026-03-03"),
            ]
        },
        format="json",
    )
    body = assert_problem(response, 400)
    assert list(body["errors"]) == ["entries.1.code"]
    assert "Row 2" in body["errors"]["entries.1.code"][0]
    assert application.number in body["errors"]["entries.1.code"][0]
    # The first row, valid on its own, is not stored either.
    assert started(application) == {}
    assert ActivityEvent.objects.count() == events

    # A rule of the service (a finish before its start) is refused the same way.
    response = as_manager.post(
        URL,
        {
            "entries": [
                entry(application, "A", actual_start="2026-03-03", actual_finish="2026-03-02"),
            ]
        },
        format="json",
    )
    body = assert_problem(response, 400)
    assert all(key.startswith("entries.0.") for key in body["errors"])
    assert "Row 1" in body["detail"]
    assert started(application) == {}


@time_machine.travel(NOON, tick=False)
def test_an_application_of_another_manager_is_refused_with_its_row(
    application, south_application, as_manager
):
    response = as_manager.post(
        URL,
        {
            "entries": [
                entry(application, "A", actual_start="2026-03-02"),
                entry(south_application, "A", actual_start="2026-03-02"),
            ]
        },
        format="json",
    )
    body = assert_problem(response, 403)
    assert "Row 2" in body["detail"]
    assert started(application) == {} and started(south_application) == {}


def test_a_read_token_may_not_import(application, manager):
    client = token_client(manager, scope="read")
    response = client.post(
        URL, {"entries": [entry(application, "A", actual_start="2026-03-02")]}, format="json"
    )
    assert_problem(response, 403)


@time_machine.travel(NOON, tick=False)
def test_a_retry_with_the_same_idempotency_key_records_once(application, as_manager):
    payload = {"entries": [entry(application, "A", actual_start=DAY0.isoformat())]}
    first = as_manager.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="sync-2026-03-04")
    again = as_manager.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="sync-2026-03-04")
    assert first.status_code == again.status_code == 200
    assert again.json() == {"recorded": 1}
    assert ActivityEvent.objects.filter(activity__application=application).count() == 1


def test_an_empty_or_oversized_import_is_refused(as_manager, application):
    assert_problem(as_manager.post(URL, {"entries": []}, format="json"), 400)
    rows = [entry(application, "A", remaining=1)] * 501
    body = assert_problem(as_manager.post(URL, {"entries": rows}, format="json"), 400)
    assert body["errors"] == {
        "entries.non_field_errors": ["Ensure this field has no more than 500 elements."]
    }
