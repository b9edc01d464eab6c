import os
import time
from pathlib import Path

import pytest
import yaml
from celery.contrib.testing.worker import start_worker
from django.conf import settings
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


# --- Queues: heavy periodic work apart from what people wait for -----------------------------

ROOT = Path(__file__).resolve().parents[2]
HEAVY_TASKS = [
    "applications.tasks.snapshot_kpis",
    "applications.tasks.send_daily_digest",
    "applications.tasks.assign_unassigned",
    "applications.tasks.purge_idempotency_keys",
    "applications.tasks.archive_old_rows",
    "scheduling.tasks.learn_durations",
    "applications.tasks.level_capacity",
    "applications.tasks.level_region",
]
DEFAULT_TASKS = [
    "applications.tasks.sweep_deviations",
    "applications.tasks.sweep_batch",
    "applications.tasks.reanalyse_application",
    "applications.tasks.assign_account_manager",
    "yekuo.tasks.heartbeat",
]


@pytest.mark.parametrize(
    ("task", "queue"),
    [(name, "heavy") for name in HEAVY_TASKS]
    + [(name, "celery") for name in DEFAULT_TASKS]
    # Deliveries wait on other systems' answers: their own queue.
    + [("integration.tasks.deliver_webhooks", "webhooks")],
)
def test_each_task_is_sent_to_its_queue(task, queue):
    assert task in app.tasks
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_every_routed_queue_is_declared_so_a_worker_without_q_consumes_it():
    declared = {queue.name for queue in app.conf.task_queues}
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed | {app.conf.task_default_queue} == declared == {"celery", "heavy", "webhooks"}


def test_the_compose_workers_consume_every_queue_between_them():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    consumed = {}
    for name, service in services.items():
        command = service.get("command") or []
        if command[:4] == ["celery", "-A", "yekuo", "worker"]:
            consumed[name] = set(command[command.index("-Q") + 1].split(","))
    declared = {queue.name for queue in app.conf.task_queues}
    assert consumed == {"worker": {"celery", "webhooks"}, "worker-heavy": {"heavy"}}
    assert set().union(*consumed.values()) == declared
