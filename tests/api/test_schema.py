"""The OpenAPI schema: valid, public, and documenting every operation's problems."""

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    # --fail-on-warn turns every warning into an error; --validate checks it against
    # the OpenAPI 3 meta-schema.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    assert (tmp_path / "schema.yml").stat().st_size > 10_000


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "patch", "put", "delete"}:
                yield path, method, operation


def test_every_operation_documents_its_problem_responses(schema):
    operations = list(_operations(schema))
    assert len(operations) >= 20
    for path, method, operation in operations:
        responses = operation["responses"]
        expected = {"401", "403", "429"}
        if "{" in path:
            expected.add("404")
        if method in {"post", "patch"}:
            expected.add("400")
        assert expected <= set(responses), (method, path, sorted(responses))
        for status in expected:
            content = responses[status]["content"]
            assert list(content) == [PROBLEM], (method, path, status)
            assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_commands_document_their_specific_problems(schema):
    def statuses(path, method):
        return set(schema["paths"][path][method]["responses"])

    transitions = "/api/v1/applications/{application_id}/transitions/"
    assert {"200", "409", "412", "422", "428"} <= statuses(transitions, "post")
    assert {"200", "409", "412", "428"} <= statuses(
        "/api/v1/applications/{application_id}/", "patch"
    )
    assert {"201", "422"} <= statuses("/api/v1/applications/", "post")
    accept = "/api/v1/deviations/{deviation_id}/proposals/{proposal_id}/accept/"
    assert {"409", "422"} <= statuses(accept, "post")
    headers = {
        p["name"] for p in schema["paths"][transitions]["post"]["parameters"] if p["in"] == "header"
    }
    assert headers == {"If-Match", "Idempotency-Key"}


def test_the_problem_schema_names_its_members(schema):
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "errors"}


def test_the_token_is_the_documented_security_scheme(schema):
    assert schema["components"]["securitySchemes"]["tokenAuth"]["in"] == "header"


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_documentation_pages_load_their_assets_from_this_server(url):
    response = APIClient().get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in page
    assert "http://" not in page and "https://" not in page
    if url == "/api/docs/":
        # Swagger UI's set-up script is a file of its own (no inline script under the CSP).
        assert '<script src="/api/docs/?script="></script>' in page
        page = APIClient().get("/api/docs/?script=").content.decode()
    assert "/api/schema/" in page


def test_redoc_may_not_load_images_from_elsewhere():
    # Its bundle asks the vendor's site for a footer logo; the page's policy refuses it.
    page = APIClient().get("/api/redoc/").content.decode()
    assert "img-src 'self' data: blob:" in page


def test_the_schema_speaks_chinese_by_default_and_english_on_request():
    def summary(**headers):
        response = APIClient().get("/api/schema/?format=json", **headers)
        return response.json()["paths"]["/api/v1/applications/"]["post"]["summary"]

    assert summary() == "受理新申请"
    assert summary(HTTP_ACCEPT_LANGUAGE="en") == "Accept a new application"
