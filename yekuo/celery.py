"""The Celery application.

Configuration comes from Django settings under the ``CELERY_`` namespace, the beat
schedule included, so that one settings module describes every process. Run exactly
one beat: two would send every periodic task twice.
"""

import os
from pathlib import Path

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yekuo.settings")


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
