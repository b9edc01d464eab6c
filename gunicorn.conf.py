"""gunicorn's settings for yekuo, read from the environment.

gunicorn reads this file from the directory it starts in: `make run` (bin/run) and the
container image both start there. Each worker process keeps its own database pool of at
most DB_POOL_MAX_SIZE connections (see the README, "Serving").
"""

import os

wsgi_app = "yekuo.wsgi:application"
# A few processes, each with a few threads: one slow request never holds the others up,
# and the number of database connections stays bounded.
workers = int(os.environ.get("WEB_WORKERS", "3"))
threads = int(os.environ.get("WEB_THREADS", "2"))
# A request that runs longer than this is cut off and its worker replaced.
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 10
accesslog = "-"
# No runtime control socket: one path per user would be shared by every instance on the
# machine (two `make run`s, the tests), and nothing here uses it.
control_socket_disable = True
