from datetime import timedelta

import pytest
from celery.signals import worker_ready
from django.core.cache import cache
from django.utils import timezone

from yekuo.tasks import HEARTBEAT_CACHE_KEY

ELSEWHERE = {"REMOTE_ADDR": "203.0.113.7"}


@pytest.fixture
def worker_alive():
    cache.set(HEARTBEAT_CACHE_KEY, timezone.now().isoformat(), timeout=None)
    yield
    cache.delete(HEARTBEAT_CACHE_KEY)


@pytest.fixture
def worker_silent():
    cache.delete(HEARTBEAT_CACHE_KEY)


def test_healthz_answers_without_login_or_dependencies(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_every_dependency_ready(client, worker_alive):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "ok", "cache": "ok", "worker": "ok"},
    }


@pytest.mark.django_db
def test_readyz_names_the_broker_when_it_is_unreachable(client, settings, worker_alive):
    # Port 9 (discard) has no Redis on this machine: the connection is refused at once.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["degraded"] == ["broker"]
    assert body["detail"] == "unreachable: broker"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] == "down"
    # The test client is this machine: it reads why.
    assert "127.0.0.1:9" in body["errors"]["broker"] or "refused" in body["errors"]["broker"]


@pytest.mark.django_db
def test_readyz_hides_error_texts_from_other_machines(client, settings, worker_alive):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = client.get("/readyz", **ELSEWHERE)
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["broker"] == "down"
    assert "errors" not in body
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.django_db
def test_readyz_through_a_local_proxy_is_not_local(client, settings, worker_alive):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = client.get("/readyz", headers={"X-Forwarded-For": "198.51.100.4"})
    assert response.status_code == 503
    assert "errors" not in response.json()


@pytest.mark.django_db
def test_readyz_shows_error_texts_to_staff_elsewhere(client, settings, admin_user, worker_alive):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    body = client.get("/readyz", **ELSEWHERE).json()
    assert body["errors"]["broker"]


@pytest.mark.django_db
def test_readyz_reports_a_worker_never_seen_as_stale_but_stays_ready(client, worker_silent):
    response = client.get("/readyz", **ELSEWHERE)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["degraded"] == ["worker"]
    assert body["checks"]["worker"] == "stale"
    assert "errors" not in body


@pytest.mark.django_db
def test_readyz_reports_an_old_heartbeat_as_stale(client, settings):
    settings.WORKER_STALE_SECONDS = 180
    cache.set(HEARTBEAT_CACHE_KEY, (timezone.now() - timedelta(seconds=200)).isoformat())
    try:
        body = client.get("/readyz").json()
        assert body["checks"]["worker"] == "stale"
        assert "last heartbeat" in body["errors"]["worker"]
        cache.set(HEARTBEAT_CACHE_KEY, (timezone.now() - timedelta(seconds=100)).isoformat())
        body = client.get("/readyz").json()
        assert body["checks"]["worker"] == "ok"
        assert body["status"] == "ready"
    finally:
        cache.delete(HEARTBEAT_CACHE_KEY)


@pytest.mark.django_db
def test_a_worker_starting_up_counts_as_alive_at_once(client, worker_silent):
    assert client.get("/readyz").json()["checks"]["worker"] == "stale"
    worker_ready.send(sender=None)
    try:
        body = client.get("/readyz").json()
        assert body["checks"]["worker"] == "ok"
        assert body["status"] == "ready"
    finally:
        cache.delete(HEARTBEAT_CACHE_KEY)
