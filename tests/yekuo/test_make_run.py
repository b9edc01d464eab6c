"""`make run` starts the web server, a worker and beat; Ctrl-C stops all three.

The web server (gunicorn) answers a burst of simultaneous requests within the database
connection budget of the README; a worker that dies is started again while the web server
keeps answering; the web server ending stops the rest.
"""

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import need_service

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _wait_for_text(log: Path, text: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return True
        time.sleep(0.3)
    return False


@contextlib.contextmanager
def _running(tmp_path: Path, extra_env: dict[str, str]):
    """Start bin/run; yield (process, base URL, log) once /healthz answers; then Ctrl-C it.

    After the block, the process group must be empty: nothing may outlive bin/run.
    """
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        {"PORT": str(port), "YEKUO_VAR_DIR": str(tmp_path / "var"), "VENV": str(VENV)}, **extra_env
    )
    log = tmp_path / "run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["bin/run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        base = f"http://127.0.0.1:{port}"
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status, body = _get(f"{base}/healthz")
                break
            except OSError:
                time.sleep(0.5)
        assert status == 200, log.read_text()
        assert body == '{"status": "ok"}'
        yield process, base, log
    finally:
        # What a person's Ctrl-C does: SIGINT to the whole foreground process group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        finally:
            leftover = subprocess.run(
                ["pgrep", "-g", str(process.pid)], capture_output=True, text=True
            ).stdout.split()
            for pid in leftover:
                os.kill(int(pid), signal.SIGKILL)
    assert not leftover, f"still running after Ctrl-C: {leftover}\n{log.read_text()}"


def _run_and_check(tmp_path: Path, extra_env: dict[str, str]) -> str:
    with _running(tmp_path, extra_env) as (_process, base, log):
        deadline = time.monotonic() + 120
        status, login = _get(f"{base}/accounts/login/")
        assert status == 200 and "<h1>登录</h1>" in login
        assert _wait_for_text(log, "worker@", deadline) and _wait_for_text(
            log, " ready.", deadline
        ), log.read_text()
        assert _wait_for_text(log, "beat: Starting...", deadline), log.read_text()
        # The worker's banner lists the queues it consumes: every queue a task is routed
        # to, so the heavy periodic work is run too.
        consumed = set(re.findall(r"\.> (\S+)\s+exchange=", log.read_text()))
        routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
        assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} <= consumed, log.read_text()
        # The banner comes once the server answers.
        assert _wait_for_text(log, f"yekuo is running at {base}/", deadline), log.read_text()
        status, ready = _get(f"{base}/readyz")
        assert status == 200, ready
    return log.read_text()


def test_make_run_embedded_serves_login_and_prints_demo_logins(tmp_path):
    output = _run_and_check(tmp_path, {})
    assert "http://127.0.0.1:" in output
    assert "Demo logins (password: yekuo-demo)" in output
    # The demo's deviations are there before the first page is served.
    assert re.search(r"deviations opened: red [1-9]", output), output
    for username in ("admin", "supervisor", "manager, manager2..5", "survey, design, metering"):
        assert username in output
    assert "SQLite (embedded" in output and "filesystem broker" in output
    assert "two-step sign-in: not required (development)" in output
    assert (tmp_path / "var" / "yekuo.sqlite3").exists()


def test_make_run_on_postgresql_and_redis(tmp_path):
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    need_service("PostgreSQL", database_url.startswith("postgres"), "DATABASE_URL is not set")
    need_service("Redis", redis_url.startswith("redis://"), "REDIS_URL is not set")
    import psycopg

    name = f"yekuo_run_{uuid.uuid4().hex[:8]}"
    server = database_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        # A database index of its own, so the run's worker never takes the suite's messages.
        output = _run_and_check(
            tmp_path,
            {"DATABASE_URL": f"{server}/{name}", "REDIS_URL": redis_url.rsplit("/", 1)[0] + "/13"},
        )
        assert "PostgreSQL (DATABASE_URL)" in output and "Redis (REDIS_URL)" in output
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The defaults of bin/run and gunicorn.conf.py, and the budget the README gives for them:
# WEB_WORKERS x DB_POOL_MAX_SIZE + WORKER_CONCURRENCY x DB_POOL_MAX_SIZE + 2 (the worker's
# main process and beat, one connection each at most).
WEB_WORKERS, WORKER_CONCURRENCY, DB_POOL_MAX_SIZE = 3, 2, 4
CONNECTION_BUDGET = WEB_WORKERS * DB_POOL_MAX_SIZE + WORKER_CONCURRENCY * DB_POOL_MAX_SIZE + 2
BURST = 50


@contextlib.contextmanager
def _scratch_database():
    """Yield bin/run's environment: a scratch PostgreSQL database when DATABASE_URL is set
    (CI), else nothing (the embedded SQLite mode); and a function counting its connections."""
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        yield {}, None
        return
    import psycopg

    name = f"yekuo_run_{uuid.uuid4().hex[:8]}"
    server = database_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(f"{server}/{name}", autocommit=True) as watcher:

            def held() -> int:
                return watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()[0]

            yield {"DATABASE_URL": f"{server}/{name}"}, held
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sign_in(base: str, username: str) -> str:
    """Sign in through the login form; return the session cookie to send."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/accounts/login/", timeout=10).read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    form = {"username": username, "password": "yekuo-demo", "csrfmiddlewaretoken": csrf}
    with opener.open(
        f"{base}/accounts/login/", urllib.parse.urlencode(form).encode(), timeout=10
    ) as response:
        assert response.status == 200 and "/accounts/login/" not in response.url, response.url
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def _burst(url: str, cookie: str, count: int) -> list[object]:
    """GET url from `count` threads released at once; return each status or error."""
    start = threading.Barrier(count)
    answers: list[object] = [None] * count

    def fetch(i: int) -> None:
        start.wait()
        request = urllib.request.Request(url, headers={"Cookie": cookie})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                answers[i] = response.status
        except urllib.error.HTTPError as exc:
            answers[i] = exc.code
        except OSError as exc:  # a reset or refused connection
            answers[i] = repr(exc)

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _pids(log: Path, pattern: str) -> list[int]:
    return [int(pid) for pid in re.findall(pattern, log.read_text(errors="replace"))]


def test_make_run_survives_a_burst_and_a_dead_worker_and_stops_with_its_web_server(tmp_path):
    if os.environ.get("DATABASE_URL"):
        need_service("Redis", os.environ.get("REDIS_URL", "").startswith("redis://"), "unset")
    with _scratch_database() as (env, held), _running(tmp_path, env) as (process, base, log):
        deadline = time.monotonic() + 120
        assert _wait_for_text(log, f"yekuo is running at {base}/", deadline), log.read_text()
        assert _wait_for_text(log, " ready.", deadline), log.read_text()
        cookie = _sign_in(base, "manager")

        # Many people at once: every request is answered, none reset, and the database
        # holds no more connections than the budget while they are.
        peak = [held() if held else 0]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                peak.append(held())
                time.sleep(0.05)

        sampler = threading.Thread(target=sample) if held else None
        if sampler:
            sampler.start()
        try:
            answers = _burst(f"{base}/", cookie, BURST)
        finally:
            sampling.set()
            if sampler:
                sampler.join()
        assert answers == [200] * BURST, answers
        assert max(peak) <= CONNECTION_BUDGET, (max(peak), CONNECTION_BUDGET)
        # Static files are served by the web server itself.
        status, css = _get(f"{base}/static/css/yekuo.css")
        assert status == 200 and css

        # The worker dies: it is started again, and the web server answers meanwhile.
        (worker,) = _pids(log, r"run: worker started \(pid (\d+)\)")
        os.kill(worker, signal.SIGKILL)
        assert _wait_for_text(log, "run: worker exited", deadline), log.read_text()
        while time.monotonic() < deadline and len(_pids(log, r"worker started \(pid (\d+)")) < 2:
            time.sleep(0.3)
        restarted = _pids(log, r"run: worker started \(pid (\d+)\)")
        assert len(restarted) == 2 and restarted[1] != worker, log.read_text()
        assert _get(f"{base}/healthz")[0] == 200
        assert _burst(f"{base}/", cookie, 5) == [200] * 5
        while time.monotonic() < deadline and log.read_text().count(" ready.") < 2:
            time.sleep(0.3)
        assert log.read_text().count(" ready.") == 2, log.read_text()
        assert process.poll() is None

        # The web server ends: bin/run stops the worker and beat and ends too.
        (web,) = _pids(log, r"Listening at: http://\S+ \((\d+)\)")
        os.kill(web, signal.SIGTERM)
        assert process.wait(timeout=40) == 0, log.read_text()
        assert "run: web server ended" in log.read_text()
