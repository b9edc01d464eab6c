"""Process-wide test set-up, loaded before Django's settings are read.

Embedded state (SQLite files, the filesystem broker, the file cache) goes to a fresh
temporary folder, so a test run never shares a broker folder with a running `make run`.
"""

import os
import tempfile

os.environ.setdefault("YEKUO_VAR_DIR", tempfile.mkdtemp(prefix="yekuo-test-"))

# A second database alias, "replica", mirroring the test database (yekuo.routers): the
# routing tests turn REPLICA_READS on; every other test reads and writes "default" only.
os.environ.setdefault(
    "DATABASE_REPLICA_URL",
    os.environ.get("DATABASE_URL")
    or f"sqlite:///{os.path.join(os.environ['YEKUO_VAR_DIR'], 'yekuo.sqlite3')}",
)
os.environ.setdefault("REPLICA_READS", "0")
