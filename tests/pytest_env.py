"""Process-wide test set-up, loaded before Django's settings are read.

Embedded state (SQLite files, the filesystem broker, the file cache) goes to a fresh
temporary folder, so a test run never shares a broker folder with a running `make run`.

In a parallel run (pytest-xdist) each worker process has its own: its folder, its Redis
database (the one REDIS_URL names plus the worker's number: broker queues, results and
cache never cross) and, through pytest-django, its own test database.
"""

import os
import re
import tempfile

worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if worker:
    # The controller set its own folder before starting the workers: each takes another.
    os.environ["YEKUO_VAR_DIR"] = tempfile.mkdtemp(prefix=f"yekuo-test-{worker}-")
    number = int(worker.removeprefix("gw"))
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url and number:
        match = re.fullmatch(r"(redis://[^/]*)(?:/(\d+))?", redis_url)
        if match is None:
            raise SystemExit(f"tests: REDIS_URL must be redis://host:port[/db], got {redis_url!r}")
        os.environ["REDIS_URL"] = f"{match[1]}/{int(match[2] or 0) + number}"
else:
    os.environ.setdefault("YEKUO_VAR_DIR", tempfile.mkdtemp(prefix="yekuo-test-"))

# A second database alias, "replica", mirroring the test database (yekuo.routers): the
# routing tests turn REPLICA_READS on; every other test reads and writes "default" only.
os.environ.setdefault(
    "DATABASE_REPLICA_URL",
    os.environ.get("DATABASE_URL")
    or f"sqlite:///{os.path.join(os.environ['YEKUO_VAR_DIR'], 'yekuo.sqlite3')}",
)
os.environ.setdefault("REPLICA_READS", "0")

# Every page fragment served from the cache is rendered again and compared (yekuo.fragments).
os.environ.setdefault("FRAGMENT_CACHE_CHECK", "1")
