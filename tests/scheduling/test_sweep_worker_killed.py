"""A worker killed in the middle of a batch: the batch runs again on another, once.

Real processes on the real services: a Celery worker on Redis and PostgreSQL is killed
(SIGKILL, nothing cleaned up) while its batch waits inside its transaction; the message,
acknowledged only after the task, is delivered again once the visibility timeout passes,
and a second worker runs the batch to the same rows a single run would have written.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from kombu import Connection

from accounts.models import Notification
from applications.tasks import sweep_batch
from scheduling.models import Activity, Deviation
from tests.conftest import load_reference_data, need_service
from tests.factories import AccountManagerProfileFactory, UserFactory, make_application

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 12  # a database of its own: no other test's messages reach these workers
VISIBILITY_TIMEOUT = 2


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(name: str, env: dict, log: Path) -> subprocess.Popen:
    with log.open("a") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "yekuo",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"{name}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _wait(condition, seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}\n{log.read_text(errors='replace')}")


def test_a_worker_killed_mid_batch_leaves_the_batch_to_another_worker_once(tmp_path):
    need_service("PostgreSQL", connection.vendor == "postgresql", "row locks and real workers")
    need_service("Redis", settings.REDIS_URL.startswith("redis://"), "REDIS_URL is not set")
    import psycopg

    load_reference_data()
    supervisor = UserFactory(username="sup-k", role="supervisor")
    manager = AccountManagerProfileFactory(user__username="mgr-k").user
    late = make_application(by=supervisor, manager=manager, accepted_on=date(2026, 3, 2))
    # A started on day 0 and never finished, written as a record the analysis has not seen
    # yet (a progress entry would have analysed it at once): the batch is the first to.
    Activity.objects.filter(application=late, code="A").update(actual_start=date(2026, 3, 2))
    b = Activity.objects.get(application=late, code="B")

    database_url = _database_url()
    broker_url = f"{settings.REDIS_URL.rsplit('/', 1)[0]}/{REDIS_DB}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": broker_url,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "YEKUO_VAR_DIR": str(tmp_path / "var"),
    }
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with Connection(broker_url) as broker:
        broker.default_channel.client.flushdb()

    # Hold B's row, whose stored forecast the batch is about to correct: the batch reads,
    # computes, and then waits on that write inside its transaction. (Not the application's
    # row, which the batch skips while another transaction holds it; nor a row its inserts
    # refer to, such as A's: PostgreSQL checks Django's foreign keys at COMMIT, and a
    # COMMIT already sent completes even after its client is killed.)
    Activity.objects.filter(pk=b.pk).update(forecast_start=None)
    locker = psycopg.connect(database_url)
    observer = psycopg.connect(database_url, autocommit=True)
    first = second = None
    try:
        locker.execute("SELECT id FROM scheduling_activity WHERE id = %s FOR UPDATE", [b.pk])
        first = _start_worker("first", env, first_log)
        with Connection(broker_url) as broker:
            task_id = sweep_batch.apply_async(args=[[late.pk]], connection=broker).id

        def batch_waits():
            return observer.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]

        _wait(batch_waits, 60, "the first worker's batch to wait on the lock", first_log)
        _stop(first, signal.SIGKILL)
        locker.rollback()
        # Nothing of the killed batch was committed.
        assert not Deviation.objects.exists()

        # The message is handed out again once its visibility timeout has passed, by the
        # next worker's scan of the unacknowledged messages. kombu scans on its first poll,
        # then only every ten periods, so start it when the message is due.
        time.sleep(VISIBILITY_TIMEOUT + 1)
        second = _start_worker("second", env, second_log)
        _wait(Deviation.objects.exists, 90, "the batch to run again", second_log)
        _stop(second)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                _stop(process, signal.SIGKILL)
        locker.close()
        observer.close()

    rows = Deviation.objects.filter(application=late)
    assert [(d.activity.code, d.severity, d.status) for d in rows] == [("A", "red", "open")]
    red = Notification.objects.filter(application=late, kind="deviation_red")
    assert red.exists()
    keys = list(red.values_list("recipient_id", "dedupe_key"))
    assert len(keys) == len(set(keys))
    # The same message, received by both; finished only by the second.
    task = f"Task applications.tasks.sweep_batch[{task_id}]"
    first_output = first_log.read_text(errors="replace")
    second_output = second_log.read_text(errors="replace")
    assert f"{task} received" in first_output, first_output
    assert f"{task} succeeded" not in first_output, first_output
    assert f"{task} received" in second_output, second_output
    assert f"{task} succeeded" in second_output, second_output
