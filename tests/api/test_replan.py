"""Re-plans and plan versions through HTTP: statuses, problem details, the stored rows."""

import pytest

from scheduling.models import Activity, Baseline
from tests.applications.conftest import aon_application  # noqa: F401 - a fixture
from tests.dates import pin_today

from .conftest import assert_problem

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db, pin_today]


def replan_url(application) -> str:
    return f"/api/v1/applications/{application.pk}/replan/"


def post(client, application, body, version=1, **headers):
    if version is not None:
        headers["HTTP_IF_MATCH"] = f'W/"{version}"'
    return client.post(replan_url(application), body, format="json", **headers)


def test_a_supervisor_re_plans_and_reads_the_new_version(as_supervisor, supervisor, application):
    body = {"durations": {"K": 25}, "departments": {"N": "operations"}, "reason": "客户扩大范围"}
    response = post(as_supervisor, application, body)
    assert response.status_code == 200, response.content
    assert response["ETag"] == 'W/"2"'
    data = response.json()
    assert (data["baseline"]["version"], data["baseline"]["duration"]) == (2, 56)
    assert data["baseline"]["reason"] == "客户扩大范围"
    assert data["baseline"]["approved_by"] == supervisor.username
    k = next(a for a in data["schedule"]["activities"] if a["code"] == "K")
    assert k["duration"] == 25
    assert Activity.objects.get(application=application, code="N").department.code == "operations"

    listed = as_supervisor.get(f"/api/v1/applications/{application.pk}/baselines/").json()
    assert [(row["version"], row["duration"]) for row in listed] == [(1, 51), (2, 56)]
    compared = as_supervisor.get(
        f"/api/v1/applications/{application.pk}/baselines/compare/?a=1&b=2"
    ).json()
    assert (compared["duration_before"], compared["duration_after"]) == (51, 56)
    assert (compared["finish_before"], compared["finish_after"]) == ("2026-05-14", "2026-05-21")
    k = next(row for row in compared["activities"] if row["code"] == "K")
    assert k["changed"] == ["duration", "ef", "tf"]
    assert (k["before"]["ef"], k["after"]["ef"]) == (45, 50)


def test_an_overlap_on_node_through_the_api(as_supervisor, aon_application):  # noqa: F811
    application = aon_application
    body = {"logic": {"K": {"predecessors": [{"id": "J", "lag": -2}]}}, "reason": "提前进场"}
    response = post(as_supervisor, application, body)
    assert response.status_code == 200, response.content
    assert response.json()["baseline"]["duration"] == 50
    assert Activity.objects.get(application=application, code="K").predecessors == [
        {"id": "J", "lag": -2}
    ]

    body["logic"]["K"]["predecessors"][0]["lag"] = -3
    response = post(as_supervisor, application, body, version=2)
    assert_problem(
        response,
        400,
        errors={
            "logic.K": [
                "The lag of K after J must be whole working days; a negative lag (an overlap) "
                "may not exceed the shortest duration of J."
            ]
        },
    )
    assert Baseline.objects.filter(application=application).count() == 2


def test_an_overlap_on_arrow_through_the_api(as_supervisor, application):
    response = post(as_supervisor, application, {"leads": {"K": 2}, "reason": "提前进场"})
    assert response.status_code == 200, response.content
    assert response.json()["baseline"]["duration"] == 49
    assert Activity.objects.get(application=application, code="K").lead == 2
    response = post(as_supervisor, application, {"leads": {"K": "2"}, "reason": "x"}, version=2)
    assert_problem(response, 400, errors={"leads.K": ["Enter whole working days, 0 to 1000."]})


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"logic": {"P": {"head": 1}}, "reason": "调整"},
            {
                "logic.P": [
                    "The logic has a cycle: "
                    "A → B → C → D → E → F → G → H → I → J → K → L → O → P → A."
                ]
            },
        ),
        (
            {"durations": {"K": -1}, "reason": "调整"},
            {"durations.K": ["Enter whole working days, 0 to 1000."]},
        ),
        (
            {"departments": {"K": "legal"}, "reason": "调整"},
            {"departments.K": ["There is no active department legal."]},
        ),
        ({"durations": {"K": 25}, "reason": ""}, {"reason": ["Give the reason for the re-plan."]}),
        (
            {"logic": {"K": {"tail": 11, "head": 10**12}}, "reason": "调整"},
            {"logic.K": ["Event numbers are whole numbers from 1 to 9999."]},
        ),
        (
            {"departments": {"K": [7]}, "reason": "调整"},
            {"departments.K": ["Give a department code, or a list of them (the owner first)."]},
        ),
        (
            {"departments": {"K": ["operations", "metering"]}, "reason": "调整"},
            {"departments.K": ["The customer's own work has no departments staffing it."]},
        ),
        (
            {"departments": {"E": ["marketing", "operations", "marketing"]}, "reason": "调整"},
            {"departments.E": ["A department is listed twice."]},
        ),
    ],
)
def test_a_wrong_re_plan_is_a_400_with_messages_per_field(as_supervisor, application, body, errors):
    assert_problem(post(as_supervisor, application, body), 400, errors=errors)
    assert Baseline.objects.filter(application=application).count() == 1
    assert Activity.objects.get(application=application, code="K").duration == 20


def test_a_manager_is_refused_with_403(as_manager, application):
    assert_problem(post(as_manager, application, {"durations": {"K": 25}, "reason": "扩建"}), 403)
    assert Baseline.objects.filter(application=application).count() == 1


def test_a_stale_or_missing_version_is_refused(as_supervisor, application):
    body = {"durations": {"K": 25}, "reason": "扩建"}
    assert_problem(post(as_supervisor, application, body, version=None), 428)
    assert_problem(post(as_supervisor, application, body, version=7), 412)
    assert Baseline.objects.filter(application=application).count() == 1


def test_a_cancelled_application_is_not_re_planned(as_supervisor, application):
    response = as_supervisor.post(
        f"/api/v1/applications/{application.pk}/transitions/",
        {"transition": "cancel", "note": "客户撤回申请"},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    assert response.status_code == 200, response.content
    body = {"durations": {"K": 25}, "reason": "扩建"}
    assert_problem(post(as_supervisor, application, body, version=2), 409)


def test_an_unknown_version_to_compare_is_a_400(as_manager, application):
    url = f"/api/v1/applications/{application.pk}/baselines/compare/"
    assert_problem(as_manager.get(url + "?a=3"), 400, errors={"a": ["There is no plan version 3."]})
    assert_problem(as_manager.get(url + "?b=x"), 400, errors={"b": ["Give a plan version number."]})
    # One version only: it compares with itself, nothing moved.
    response = as_manager.get(url)
    assert response.status_code == 200
    assert response.json()["activities"] == []
