"""Process-wide test set-up, loaded before Django's settings are read.

Embedded state (SQLite files, the filesystem broker, the file cache) goes to a fresh
temporary folder, so a test run never shares a broker folder with a running `make run`.
"""

import os
import tempfile

os.environ.setdefault("YEKUO_VAR_DIR", tempfile.mkdtemp(prefix="yekuo-test-"))
