"""Degrade, don't fall: Redis or the database out, what people and integrators get."""

import logging

import pytest
from django.core.cache import cache
from django.db import OperationalError, connections

from applications.models import Application
from tests.dates import pin_today

from .conftest import assert_problem, token_client
from .test_applications import new_application_body

pytestmark = [pytest.mark.django_db, pin_today]

# Nothing listens there: every connection is refused at once, as when Redis is stopped.
CLOSED = "redis://127.0.0.1:6390/0"


@pytest.fixture
def redis_down(settings, monkeypatch):
    """The cache and the broker as configured with ``REDIS_URL`` at a stopped Redis."""
    from yekuo.celery import app

    # The Celery app reads its settings once: a worker started by an earlier test of this
    # process has read the real broker already. (Patched before the settings change, so
    # that the real one is what is put back.)
    monkeypatch.setattr(app.conf, "broker_url", CLOSED)
    settings.CACHES = {
        "default": {
            "BACKEND": "yekuo.cache.FailoverRedisCache",
            "LOCATION": CLOSED,
            "KEY_PREFIX": "yekuo",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    settings.CELERY_BROKER_URL = CLOSED
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    yield


def test_with_redis_down_the_api_lists_and_creates(
    redis_down,
    as_manager,
    as_supervisor,
    application,
    manager,
    caplog,
    django_capture_on_commit_callbacks,
):
    response = as_manager.get("/api/v1/applications/")
    assert response.status_code == 200, response.content
    assert [row["number"] for row in response.json()["results"]] == [application.number]
    # No account manager named: assignment is a task, which cannot be sent now.
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        response = as_supervisor.post(
            "/api/v1/applications/", new_application_body(), format="json"
        )
    assert response.status_code == 201, response.content
    created = Application.objects.get(number=response.json()["number"])
    assert created.account_manager is None  # left for the assignment sweep
    assert "could not enqueue" in caplog.text and "sweep will catch up" in caplog.text


def test_with_redis_down_the_dashboard_and_the_assessment_answer(
    redis_down, client, supervisor, application
):
    client.force_login(supervisor)
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/assessment/").status_code == 200
    # Cached figures live in local memory meanwhile: the second view is served too.
    assert client.get("/dashboard/").status_code == 200


def test_with_redis_down_only_readyz_says_so(redis_down, client):
    cache.set("celery:heartbeat", "2000-01-01T00:00:00+00:00")
    response = client.get("/readyz", REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"] == {
        "database": "ok",
        "broker": "down",
        "cache": "down",
        "worker": "stale",
    }
    assert body["detail"] == "unreachable: broker, cache"
    assert "errors" not in body


def test_with_redis_down_the_throttle_still_limits_each_process(redis_down, settings, as_manager):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "2/minute"},
    }
    assert as_manager.get("/api/v1/applications/").status_code == 200
    assert as_manager.get("/api/v1/applications/").status_code == 200
    assert_problem(as_manager.get("/api/v1/applications/"), 429)


@pytest.fixture
def database_down(monkeypatch):
    """Every new cursor fails as when PostgreSQL refuses connections."""

    def refuse():
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')

    yield lambda: monkeypatch.setattr(connections["default"], "ensure_connection", refuse)


def test_with_the_database_down_the_api_answers_503_problem(as_manager, manager, database_down):
    in_chinese = token_client(manager, language=None)
    database_down()
    response = as_manager.get("/api/v1/applications/")
    body = assert_problem(response, 503)
    assert body["type"] == "urn:yekuo:problem:database-unavailable"
    assert "database" in body["detail"]
    assert "5432" not in response.content.decode()
    chinese = assert_problem(in_chinese.get("/api/v1/applications/"), 503)
    assert chinese["title"] == "服务暂不可用"
    assert chinese["detail"] == "无法连接数据库，未作任何更改；请一分钟后重试。"


def test_with_the_database_down_a_create_answers_503_problem(as_supervisor, database_down):
    database_down()
    response = as_supervisor.post("/api/v1/applications/", new_application_body(), format="json")
    assert_problem(response, 503)


def test_with_the_database_down_a_page_is_the_framed_503(client, supervisor, database_down):
    client.force_login(supervisor)
    client.raise_request_exception = False
    database_down()
    response = client.get("/dashboard/")
    assert response.status_code == 503
    html = response.content.decode()
    assert 'id="error-title"' in html and "5432" not in html
    assert response["Retry-After"] == "60"


def test_with_the_database_down_an_api_path_outside_a_view_is_problem_json(client, database_down):
    # The session lookup of a signed-in browser fails before any view runs.
    client.raise_request_exception = False
    client.cookies["sessionid"] = "x" * 32
    database_down()
    response = client.get("/api/v1/applications/")
    assert_problem(response, 503)


def test_with_the_database_down_readyz_is_unavailable(client, database_down):
    database_down()
    response = client.get("/readyz", REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "down"
    assert "5432" not in response.content.decode()


def test_an_unexpected_error_under_the_api_is_a_500_problem_not_a_page(as_manager, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("yekuo.api.throttles.TokenRateThrottle.get_cache_key", broken)
    as_manager.raise_request_exception = False
    response = as_manager.get("/api/v1/applications/")
    body = assert_problem(response, 500)
    assert body["type"] == "urn:yekuo:problem:server-error"
    assert "a bug" not in response.content.decode()
