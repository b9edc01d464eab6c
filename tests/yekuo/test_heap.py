"""A served process keeps what it loaded at start-up out of the cyclic collector
(yekuo.heap): a full collection in the middle of a request walked all of it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

READ = """
import gc, sys
import yekuo.wsgi
print(gc.get_freeze_count())
print(" ".join(sorted(m for m in sys.modules if m.endswith(".views"))))
"""


def test_the_wsgi_application_freezes_what_start_up_loaded_views_included():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "yekuo.settings", "DEBUG": "false"}
    out = subprocess.run(
        [sys.executable, "-c", READ], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    frozen, views = out.stdout.splitlines()
    # Django, the apps and their models, and every view module the URLs import.
    assert int(frozen) > 50_000
    assert {"applications.views", "supervision.views", "accounts.views"} <= set(views.split())
