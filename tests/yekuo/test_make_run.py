"""`make run` starts the web server, a worker and beat; Ctrl-C stops all three."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

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


def _run_and_check(tmp_path: Path, extra_env: dict[str, str]) -> str:
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
        status, login = _get(f"{base}/accounts/login/")
        assert status == 200 and "<h1>登录</h1>" in login
        assert _wait_for_text(log, "worker@", deadline) and _wait_for_text(
            log, " ready.", deadline
        ), log.read_text()
        assert _wait_for_text(log, "beat: Starting...", deadline), log.read_text()
        # The banner comes once the server answers.
        assert _wait_for_text(log, f"yekuo is running at {base}/", deadline), log.read_text()
        status, ready = _get(f"{base}/readyz")
        assert status == 200, ready
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
    output = log.read_text()
    assert not leftover, f"still running after Ctrl-C: {leftover}\n{output}"
    return output


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
