"""Bounded work per request: no body, network or number makes the server work unboundedly.

Each refusal is problem details with the status a client can act on: 413 for a body or a
network too large, 400 for too deep, too long or out of bounds, 503 for a computation out
of time.
"""

import json

import pytest
from django.core.exceptions import RequestDataTooBig
from django.test import Client

from benchmarks.ladder import ladder
from yekuo import errorpages

from .conftest import PROBLEM, assert_problem

pytestmark = pytest.mark.django_db

COMPUTE = "/api/v1/schedule/compute/"


def chain(count: int) -> dict:
    """Return ``count`` activities, each after the one before (with realistic names)."""
    return {
        "activities": [
            {
                "id": f"A{n:04d}",
                "name": f"工作 {n}",
                "duration": 1 + n % 5,
                "predecessors": [f"A{n - 1:04d}"] if n else [],
            }
            for n in range(count)
        ]
    }


def post_raw(client, body: bytes, path: str = COMPUTE):
    return client.post(path, data=body, content_type="application/json")


def test_k20_ladder_answers_the_exact_count_and_a_few_paths(as_staff):
    response = as_staff.post(COMPUTE, ladder(20), format="json")
    assert response.status_code == 200, response.content[:500]
    # Listing all 2^20 paths made a 138 MB answer; the count and 20 paths stay small.
    assert len(response.content) < 200_000
    body = response.json()
    assert body["critical_path_count"] == 2**20
    assert body["critical_paths_truncated"] is True
    assert len(body["critical_paths"]) == 20
    assert body["critical_paths"][0] == [f"S{stage:02d}a" for stage in range(20)]
    assert body["critical_paths"] == sorted(body["critical_paths"])
    assert body["duration"] == 20


def test_a_count_beyond_javascript_integers_is_sent_as_digits(as_staff):
    response = as_staff.post(COMPUTE, ladder(60), format="json")
    assert response.status_code == 200
    assert response.json()["critical_path_count"] == str(2**60)


def test_a_network_of_2000_activities_is_computed(as_staff):
    response = as_staff.post(COMPUTE, chain(2000), format="json")
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert len(body["activities"]) == 2000
    assert body["critical_path_count"] == 1
    assert body["critical_paths_truncated"] is False


def test_a_network_of_2001_activities_is_refused_413_naming_the_limit(as_staff):
    problem = assert_problem(as_staff.post(COMPUTE, chain(2001), format="json"), 413)
    assert problem["errors"] == {
        "activities": [
            "network_too_large: the network has 2001 activities; at most 2000 are accepted"
        ]
    }


def test_the_delay_analysis_is_bounded_too(as_staff):
    assert_problem(
        as_staff.post(
            "/api/v1/schedule/analyse-delay/?activity=A0000&delay=1", chain(2001), format="json"
        ),
        413,
    )
    problem = assert_problem(
        as_staff.post(
            "/api/v1/schedule/analyse-delay/?activity=A0000&delay=4000", chain(3), format="json"
        ),
        400,
    )
    assert "at most 3650 working days" in problem["errors"]["A0000.delay"][0]


def test_a_duration_beyond_ten_years_is_refused_400_naming_the_field(as_staff):
    network = chain(3)
    network["activities"][1]["duration"] = 3651
    problem = assert_problem(as_staff.post(COMPUTE, network, format="json"), 400)
    assert list(problem["errors"]) == ["A0001.duration"]
    assert "at most 3650 working days" in problem["detail"]


def test_the_longest_number_accepted_is_still_bounded_in_days(as_staff):
    network = chain(3)
    network["activities"][0]["duration"] = int("9" * 40)
    problem = assert_problem(as_staff.post(COMPUTE, network, format="json"), 400)
    assert list(problem["errors"]) == ["A0000.duration"]


def test_json_nested_100000_deep_is_refused_400(as_staff):
    body = b'{"activities": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    problem = assert_problem(post_raw(as_staff, body), 400)
    assert problem["errors"] == {"body": ["The JSON is nested more than 64 levels deep."]}


def test_nesting_is_refused_on_every_api_post(as_staff):
    problem = assert_problem(post_raw(as_staff, b"[" * 100_000, path="/api/v1/applications/"), 400)
    assert "nested more than 64 levels" in problem["detail"]


def test_brackets_inside_strings_do_not_count_as_nesting(as_staff):
    network = chain(2)
    network["activities"][0]["name"] = "[" * 1000 + '"{' * 10
    response = as_staff.post(COMPUTE, network, format="json")
    assert response.status_code == 200, response.content[:500]
    assert response.json()["activities"]["A0000"]["es"] == 0


def test_a_5000_digit_integer_is_refused_400(as_staff):
    body = b'{"activities": [{"id": "A", "duration": ' + b"7" * 5000 + b"}]}"
    problem = assert_problem(post_raw(as_staff, body), 400)
    assert problem["errors"] == {
        "body": ["A number in the JSON has 5000 characters; at most 40 are accepted."]
    }


def test_a_float_overflowing_to_infinity_is_refused_400(as_staff):
    body = b'{"activities": [{"id": "A", "duration": 1e400}]}'
    problem = assert_problem(post_raw(as_staff, body), 400)
    assert problem["errors"] == {"body": ["A number in the JSON is too large: 1e400"]}


def test_a_body_over_the_limit_is_413_problem_json(as_staff, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    body = json.dumps(chain(2000)).encode()
    assert len(body) > 100_000
    problem = assert_problem(post_raw(as_staff, body), 413)
    assert problem["errors"] == {
        "body": ["The request body is larger than 100000 bytes: send less."]
    }


def test_a_body_refused_before_any_view_is_problem_json_under_the_api(settings, rf):
    # Django raises RequestDataTooBig where it reads a body itself (request.POST, .body)
    # and answers it with handler400: Django's HTML page before, problem details now.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = errorpages.bad_request(rf.post("/api/v1/applications/"), RequestDataTooBig())
    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert json.loads(response.content)["type"] == "urn:yekuo:problem:request-too-large"
    other = errorpages.bad_request(rf.post("/api/v1/applications/"), ValueError())
    assert (other.status_code, other["Content-Type"]) == (400, PROBLEM)


def test_outside_the_api_an_oversized_form_stays_a_page(db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = Client().post(
        "/accounts/login/",
        data="username=a&password=" + "y" * 5000,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_a_computation_out_of_time_is_503_with_retry_after(as_staff, settings):
    settings.COMPUTE_TIME_BUDGET_SECONDS = 0
    response = as_staff.post(COMPUTE, chain(3), format="json")
    problem = assert_problem(response, 503)
    assert response["Retry-After"] == "30"
    assert "time_budget_exceeded" in problem["detail"]
