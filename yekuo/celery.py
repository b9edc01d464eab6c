"""The Celery application.

Configuration comes from Django settings under the ``CELERY_`` namespace, the beat
schedule included, so that one settings module describes every process. Run exactly
one beat: two would send every periodic task twice.
"""

import logging
import os
from pathlib import Path

from celery import Celery
from celery.contrib.django.task import DjangoTask
from celery.signals import worker_init, worker_ready
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerOperationalError

from yekuo.cache import HEARTBEAT_CACHE_KEY
from yekuo.heap import freeze_loaded

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yekuo.settings")

logger = logging.getLogger(__name__)


class Task(DjangoTask):
    """Base of every yekuo task.

    ``delay_on_commit`` / ``apply_async_on_commit`` (from DjangoTask) enqueue the task
    only when the surrounding database transaction commits, so a worker never looks
    for rows that are not there yet, and a rolled-back change sends nothing. Transient
    failures of the database or the broker are retried with exponential backoff.
    """

    abstract = True
    acks_late = True
    autoretry_for = (OperationalError, InterfaceError, BrokerOperationalError, ConnectionError)
    retry_backoff = 2
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 5


app = Celery("yekuo", task_cls=Task, include=["yekuo.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _prepare_local_folders() -> None:
    """Create the folders of the filesystem broker and of beat; neither creates them."""
    schedule = app.conf.beat_schedule_filename
    if schedule:
        Path(schedule).parent.mkdir(parents=True, exist_ok=True)
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
    backend = str(app.conf.result_backend or "")
    if backend.startswith("file://"):
        Path(backend.removeprefix("file://")).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _on_after_configure(sender, **kwargs):
    _prepare_local_folders()


@worker_init.connect
def _freeze_on_start(**kwargs):
    """Keep what the worker loaded (Django, the apps, the tasks) out of the cyclic
    collector, as a web process does (yekuo.heap); pool processes forked from it inherit
    that."""
    freeze_loaded(urls=False)


@worker_ready.connect
def _heartbeat_on_start(**kwargs):
    """Record a heartbeat as soon as a worker is up: beat's first one comes an interval
    after beat starts, and /readyz would report the worker stale until then."""
    cache.set(HEARTBEAT_CACHE_KEY, timezone.now().isoformat(), timeout=None)


def _sent_on_commit(connection) -> set:
    """The sends registered in the connection's pending commit callbacks, kept beside that
    list: Django replaces the list when it runs, clears or rolls back callbacks (and only
    appends otherwise), so a replaced list is read once again, not at every call."""
    pending = connection.run_on_commit
    known = getattr(connection, "_yekuo_sends", None)
    if known is None or known[0] is not pending:
        known = (
            pending,
            {getattr(callback, "sends", None) for _ids, callback, *_rest in pending},
        )
        connection._yekuo_sends = known
    return known[1]


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Send ``task`` when the current transaction commits; never fail the caller.

    The caller's change is already saved when this runs. If the broker is down, the
    failure is logged and the periodic sweeps pick the work up once it is back, so a
    person's request still succeeds. The same task with the same arguments is sent once
    per transaction, however often it was asked for (ten crews changed in one request
    level their region once).
    """
    same = (task.name, args, tuple(sorted(kwargs.items())))
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        sent = _sent_on_commit(connection)
        if same in sent:
            return
        sent.add(same)

    def send():
        try:
            # One quick connection attempt: kombu's default retries would hold the
            # person's request for seconds while the broker is down.
            with task.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, interval_start=0, timeout=2)
                task.apply_async(args=args, kwargs=kwargs, connection=connection, retry=False)
        except Exception:  # noqa: BLE001 - any broker failure: log it, the sweeps recover
            logger.exception(
                "could not enqueue %s%r; the periodic sweep will catch up", task.name, args
            )

    send.sends = same
    transaction.on_commit(send)
