"""Shared crews and review meetings through the API: read by everyone, changed by
supervisors, bad input refused by field with nothing stored."""

import pytest

from accounts.models import Department
from scheduling.models import ActivityTemplate, Crew, CrewCapacityChange
from tests.dates import pin_today

from .conftest import assert_problem

pytestmark = [pytest.mark.django_db, pin_today]

URL = "/api/v1/crews/"


@pytest.fixture
def survey_crew(north):
    return Crew.objects.create(
        kind="survey",
        department=Department.objects.get(code="operations"),
        region=north,
        capacity=3,
    )


def test_a_supervisor_adds_a_crew_and_everyone_reads_it(as_supervisor, as_manager, north):
    body = {"kind": "survey", "department": "operations", "region": north.code, "capacity": 4}
    response = as_supervisor.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    crew = Crew.objects.get()
    assert (crew.kind, crew.department.code, crew.region, crew.capacity) == (
        "survey",
        "operations",
        north,
        4,
    )
    assert response.json()["department"] == "operations"
    listed = as_manager.get(URL, {"region": north.code}).json()
    assert [row["id"] for row in listed["results"]] == [crew.pk]
    assert as_manager.get(URL, {"region": "elsewhere"}).json()["results"] == []


def test_only_supervisors_change_crews(as_manager, north, survey_crew):
    body = {"kind": "survey", "department": "planning", "region": north.code, "capacity": 1}
    assert_problem(as_manager.post(URL, body, format="json"), 403)
    assert_problem(as_manager.patch(f"{URL}{survey_crew.pk}/", {"capacity": 9}, format="json"), 403)
    survey_crew.refresh_from_db()
    assert survey_crew.capacity == 3 and Crew.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"capacity": -1}, "capacity", "greater than or equal to 0"),
        ({"capacity": "many"}, "capacity", "valid integer"),
        ({"department": "nobody"}, "department", "nobody"),
        ({"kind": "crane"}, "kind", "crane"),
        ({"meeting_weekday": 2}, "meeting_weekday", "Only a review meeting"),
    ],
)
def test_bad_input_is_refused_by_field_and_nothing_is_stored(
    as_supervisor, north, body, field, says
):
    full = {"kind": "survey", "department": "operations", "region": north.code, "capacity": 2}
    response = as_supervisor.post(URL, {**full, **body}, format="json")
    problem = assert_problem(response, 400)
    assert list(problem["errors"]) == [field]
    assert says in problem["errors"][field][0]
    assert not Crew.objects.exists()


def test_a_second_crew_of_the_same_kind_is_refused_naming_the_first(
    as_supervisor, north, survey_crew
):
    body = {"kind": "survey", "department": "operations", "region": north.code, "capacity": 2}
    problem = assert_problem(as_supervisor.post(URL, body, format="json"), 400)
    assert list(problem["errors"]) == ["kind"]
    assert "change that one" in problem["errors"]["kind"][0]
    assert Crew.objects.count() == 1


def test_a_supervisor_changes_the_capacity_and_records_days_away(as_supervisor, survey_crew):
    response = as_supervisor.patch(f"{URL}{survey_crew.pk}/", {"capacity": 5}, format="json")
    assert response.status_code == 200 and response.json()["capacity"] == 5
    url = f"{URL}{survey_crew.pk}/capacity-changes/"
    lent = {
        "first_day": "2026-12-14",
        "last_day": "2026-12-18",
        "capacity": 0,
        "reason": "借调至南区一周",
    }
    response = as_supervisor.post(url, lent, format="json")
    assert response.status_code == 201, response.content
    change = CrewCapacityChange.objects.get()
    assert (change.capacity, change.reason, change.created_by.username) == (
        0,
        "借调至南区一周",
        "supervisor-t",
    )
    assert [row["id"] for row in as_supervisor.get(url).json()["results"]] == [change.pk]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"last_day": "2026-12-10"}, "last_day"),
        ({"capacity": -2}, "capacity"),
        ({"reason": "  "}, "reason"),
        ({"first_day": "1999-01-01"}, "first_day"),
    ],
)
def test_a_bad_capacity_change_is_refused_by_field(as_supervisor, survey_crew, body, field):
    good = {"first_day": "2026-12-14", "last_day": "2026-12-18", "capacity": 1, "reason": "培训"}
    url = f"{URL}{survey_crew.pk}/capacity-changes/"
    problem = assert_problem(as_supervisor.post(url, {**good, **body}, format="json"), 400)
    assert list(problem["errors"]) == [field]
    assert not CrewCapacityChange.objects.exists()


def test_the_shipped_templates_say_which_crew_each_activity_queues_for(supervisor, manager, north):
    from tests.factories import make_application

    kinds = dict(
        ActivityTemplate.objects.filter(template__code="hv-single-10kv").values_list(
            "name", "crew_kind"
        )
    )
    assert kinds["现场勘查"] == "survey" and kinds["供电方案审查会"] == "review_meeting"
    assert kinds["装表接电"] == "energization" and kinds["供电方案答复"] == ""
    application = make_application(by=supervisor, manager=manager, region=north)
    copied = dict(application.activities.values_list("name", "crew_kind"))
    assert copied["现场勘查"] == "survey" and copied["竣工检验"] == "inspection"


@pytest.mark.parametrize("field", ["department", "region"])
def test_a_code_holding_a_nul_byte_names_nothing(as_supervisor, north, field):
    body = {"kind": "survey", "department": "operations", "region": north.code, "capacity": 2}
    body[field] = "oper\x00ations"
    problem = assert_problem(as_supervisor.post(URL, body, format="json"), 400)
    assert list(problem["errors"]) == [field]
    assert not Crew.objects.exists()
