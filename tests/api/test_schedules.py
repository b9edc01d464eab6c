"""Schedules, progress on activities and the what-if computations through HTTP."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from scheduling.models import Activity, ActivityEvent
from tests.dates import pin_today

from .conftest import DAY0, assert_problem

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db, pin_today]

EXAMPLES = Path(settings.BASE_DIR) / "examples" / "networks"


def test_the_schedule_has_baseline_actual_and_forecast_times_with_dates(as_manager, application):
    body = as_manager.get(f"/api/v1/applications/{application.pk}/schedule/").json()
    assert body["number"] == application.number
    assert body["day0"] == "2026-03-02"
    assert body["baseline"]["planned_duration"] == application.committed_duration
    assert body["baseline"]["committed_finish_date"] == str(application.committed_finish_date)
    assert body["baseline"]["computed_duration"] == application.committed_duration - 1
    assert body["baseline"]["critical_paths"][0][0] == "A"
    first = body["activities"][0]
    assert first["code"] == "A"
    assert first["baseline"] == {
        "es": 0,
        "ef": 1,
        "ls": 1,
        "lf": 2,
        "tf": 1,
        "ff": 0,
        "critical": True,
        "start": "2026-03-02",
        "finish": "2026-03-02",
    }
    assert first["actual"] == {"start": None, "finish": None}
    assert set(first["forecast"]) == {
        "es",
        "ef",
        "ls",
        "lf",
        "tf",
        "ff",
        "critical",
        "start",
        "finish",
    }
    stored = Activity.objects.get(application=application, code="A")
    assert first["baseline"]["start"] == str(stored.baseline_start)


def test_recording_progress_moves_the_forecast_and_the_etag(as_manager, application):
    url = f"/api/v1/applications/{application.pk}/activities/A/"
    response = as_manager.patch(
        url,
        {"actual_start": str(DAY0), "actual_finish": str(DAY0), "note": "当天办结"},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    assert response.status_code == 200, response.content
    a = next(x for x in response.json()["activities"] if x["code"] == "A")
    assert a["actual"] == {"start": "2026-03-02", "finish": "2026-03-02"}
    assert a["status"] == "finished"
    # One change, one version: the start and the finish are recorded together.
    assert response["ETag"] == 'W/"2"'
    kinds = list(
        ActivityEvent.objects.filter(activity__application=application, activity__code="A")
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["started", "finished"]


def test_remaining_days_of_a_started_activity(as_manager, application):
    url = f"/api/v1/applications/{application.pk}/activities/A/"
    response = as_manager.patch(
        url, {"actual_start": str(DAY0), "remaining": 4}, format="json", HTTP_IF_MATCH='W/"1"'
    )
    assert response.status_code == 200, response.content
    assert Activity.objects.get(application=application, code="A").remaining == 4


def test_progress_is_all_or_nothing(as_manager, application):
    url = f"/api/v1/applications/{application.pk}/activities/A/"
    # The finish before the start is refused: the start is not kept either.
    response = as_manager.patch(
        url,
        {"actual_start": "2026-03-03", "actual_finish": str(DAY0)},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    problem = assert_problem(response, 400)
    assert problem["errors"] == {
        "actual_finish": ["The finish March 2, 2026 is before the start March 3, 2026."]
    }
    assert Activity.objects.get(application=application, code="A").actual_start is None
    assert not ActivityEvent.objects.filter(activity__application=application).exists()


def test_progress_before_the_predecessors_is_refused(as_manager, application):
    response = as_manager.patch(
        f"/api/v1/applications/{application.pk}/activities/B/",
        {"actual_start": str(DAY0)},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    problem = assert_problem(response, 400)
    assert "cannot start before" in problem["errors"]["actual_start"][0]


def test_progress_with_a_stale_etag_is_412(as_manager, application):
    response = as_manager.patch(
        f"/api/v1/applications/{application.pk}/activities/A/",
        {"actual_start": str(DAY0)},
        format="json",
        HTTP_IF_MATCH='W/"0"',
    )
    assert_problem(response, 412)
    assert Activity.objects.get(application=application, code="A").actual_start is None


def test_progress_by_another_department_is_403(as_staff, application):
    # A is the marketing department's; the staff fixture is in operations.
    response = as_staff.patch(
        f"/api/v1/applications/{application.pk}/activities/A/",
        {"actual_start": str(DAY0)},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    assert_problem(response, 403)


def test_progress_on_a_suspended_application_is_409(as_manager, application):
    suspended = as_manager.post(
        f"/api/v1/applications/{application.pk}/transitions/",
        {"transition": "suspend", "note": "客户原因"},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    response = as_manager.patch(
        f"/api/v1/applications/{application.pk}/activities/A/",
        {"actual_start": str(DAY0)},
        format="json",
        HTTP_IF_MATCH=suspended["ETag"],
    )
    assert_problem(response, 409, detail="Progress cannot be recorded")


def test_an_unknown_activity_is_404(as_manager, application):
    response = as_manager.patch(
        f"/api/v1/applications/{application.pk}/activities/ZZ/",
        {"actual_start": str(DAY0)},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    assert_problem(response, 404)


def test_nothing_to_record_is_400(as_manager, application):
    response = as_manager.patch(
        f"/api/v1/applications/{application.pk}/activities/A/",
        {"note": "x"},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    assert_problem(response, 400)


def _command(name: str, *args) -> dict:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("example", ["hv-single-10kv", "textbook-aon"])
def test_compute_answers_what_the_command_prints(as_staff, example):
    path = EXAMPLES / f"{example}.json"
    response = as_staff.post(
        "/api/v1/schedule/compute/", json.loads(path.read_text()), format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    # Beside the command's output, the answer counts the critical paths (all listed here).
    assert body.pop("critical_path_count") == len(body["critical_paths"])
    assert body.pop("critical_paths_truncated") is False
    assert body == _command("compute_schedule", str(path))
    expected = json.loads((EXAMPLES / f"{example}.expected.json").read_text())
    assert body == expected


def test_analyse_delay_answers_what_the_command_prints(as_staff):
    path = EXAMPLES / "hv-single-10kv.json"
    response = as_staff.post(
        "/api/v1/schedule/analyse-delay/?activity=N&delay=15",
        json.loads(path.read_text()),
        format="json",
    )
    assert response.status_code == 200, response.content
    expected = json.loads((EXAMPLES / "hv-single-10kv.delay-N-15.expected.json").read_text())
    assert response.json() == expected
    assert response.json() == _command(
        "analyse_delay", str(path), "--activity", "N", "--delay", "15"
    )


def test_a_network_the_engine_refuses_is_400_naming_the_problem(as_staff):
    cycle = {
        "activities": [
            {"id": "A", "duration": 1, "predecessors": ["B"]},
            {"id": "B", "duration": 1, "predecessors": ["A"]},
        ]
    }
    problem = assert_problem(as_staff.post("/api/v1/schedule/compute/", cycle, format="json"), 400)
    assert problem["errors"]["network"][0].startswith("cycle")
    assert_problem(as_staff.post("/api/v1/schedule/compute/", [1, 2], format="json"), 400)
    problem = assert_problem(
        as_staff.post(
            "/api/v1/schedule/analyse-delay/?activity=Q&delay=2",
            {"activities": [{"id": "A", "duration": 1, "predecessors": []}]},
            format="json",
        ),
        400,
    )
    assert "Q" in problem["errors"]["network"][0]
    problem = assert_problem(
        as_staff.post("/api/v1/schedule/analyse-delay/?activity=A&delay=-1", {}, format="json"),
        400,
    )
    assert list(problem["errors"]) == ["delay"]
