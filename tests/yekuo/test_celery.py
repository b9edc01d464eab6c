import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache

from yekuo.celery import app
from yekuo.tasks import HEARTBEAT_CACHE_KEY, heartbeat


@pytest.fixture(scope="module")
def celery_worker_thread():
    """A real worker, in a thread, consuming from the configured broker."""
    with start_worker(
        app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=30
    ):
        yield


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_real_worker_runs_a_task_through_the_configured_broker(celery_worker_thread):
    cache.delete(HEARTBEAT_CACHE_KEY)
    expected_scheme = "redis" if os.environ.get("REDIS_URL") else "filesystem"
    assert app.connection_for_write().transport_cls == expected_scheme
    result = heartbeat.delay()
    stamp = result.get(timeout=30)
    assert result.successful()
    assert cache.get(HEARTBEAT_CACHE_KEY) == stamp


@pytest.mark.django_db
def test_tasks_are_enqueued_only_when_the_transaction_commits(
    celery_worker_thread, django_capture_on_commit_callbacks
):
    cache.delete(HEARTBEAT_CACHE_KEY)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        heartbeat.delay_on_commit()
        # Still inside the transaction: nothing may have reached the worker.
        time.sleep(1.0)
        assert cache.get(HEARTBEAT_CACHE_KEY) is None
    assert len(callbacks) == 1
    assert _wait_for(lambda: cache.get(HEARTBEAT_CACHE_KEY) is not None)


def test_celery_is_configured_for_safe_redelivery():
    conf = app.conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_late is True and conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit == 300 and conf.task_soft_time_limit == 240
    assert heartbeat.acks_late is True and heartbeat.max_retries == 5
    assert conf.beat_schedule["heartbeat"]["task"] == "yekuo.tasks.heartbeat"
