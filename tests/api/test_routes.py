"""Every API route asks an anonymous caller for a token (401), never for a login page."""

import pytest
from rest_framework.test import APIClient

from tests.accounts.test_login import _routes

from .conftest import assert_problem

pytestmark = pytest.mark.django_db

PUBLIC = {"/api/schema/", "/api/docs/", "/api/redoc/"}


def _api_routes():
    return sorted({path for path in _routes() if path.startswith("/api/")})


def test_every_api_route_answers_an_anonymous_caller_401_not_a_redirect():
    client = APIClient()
    checked = 0
    for path in _api_routes():
        if path in PUBLIC:
            assert client.get(path).status_code == 200, path
            continue
        if path == "/api/":
            # The catch-all: any path under /api/ that names no endpoint.
            assert_problem(client.get(path), 404)
            continue
        response = client.get(path)
        body = assert_problem(response, 401)
        assert response["WWW-Authenticate"] == "Token", path
        assert body["type"] == "urn:yekuo:problem:not-authenticated"
        checked += 1
    assert checked >= 9


def test_routes_with_parameters_are_401_too():
    client = APIClient()
    for path in [
        "/api/v1/applications/1/",
        "/api/v1/applications/1/transitions/",
        "/api/v1/applications/1/schedule/",
        "/api/v1/applications/1/activities/A/",
        "/api/v1/deviations/1/",
        "/api/v1/customers/1/",
        "/api/v1/network-templates/1/",
    ]:
        assert_problem(client.get(path), 401)
    assert_problem(client.post("/api/v1/deviations/1/acknowledge/"), 401)
    assert_problem(client.post("/api/v1/schedule/compute/", {}, format="json"), 401)
