"""A served process keeps what it loaded at start-up out of the cyclic collector
(yekuo.heap): a full collection in the middle of a request walked all of it."""

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from yekuo.heap import collector_paused

ROOT = Path(__file__).resolve().parents[2]

READ = """
import gc, sys
import yekuo.wsgi
print(gc.get_freeze_count())
print(" ".join(sorted(m for m in sys.modules if m.endswith(".views"))))
from scheduling import risk_kernel
print(len(risk_kernel.run_chunk.signatures))
"""


def _started(script: str) -> str:
    """What ``script`` prints, run in a fresh process as a served one starts."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "yekuo.settings", "DEBUG": "false"}
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_wsgi_application_freezes_what_start_up_loaded_views_and_kernel_included():
    frozen, views, kernels = _started(READ).splitlines()
    # Django, the apps and their models, and every view module the URLs import.
    assert int(frozen) > 50_000
    assert {"applications.views", "supervision.views", "accounts.views"} <= set(views.split())
    # The risk forecast's kernel is compiled (or loaded) before the first request.
    assert int(kernels) == 1


WORKER = """
import gc
import yekuo.celery
from celery.signals import worker_init
before = gc.get_freeze_count()
worker_init.send(sender=None)
print(before, gc.get_freeze_count())
"""


def test_a_worker_freezes_what_start_up_loaded():
    before, after = map(int, _started(WORKER).split())
    assert before == 0 and after > 20_000


def test_the_collector_is_paused_in_the_block_and_back_after_it_whatever_happens():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        # The inner block found it off: it leaves it off.
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), collector_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        # Off before the block: off after it.
        assert not gc.isenabled()
    finally:
        gc.enable()
