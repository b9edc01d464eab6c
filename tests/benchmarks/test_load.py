"""The load benchmark runs end to end on a tiny database: gunicorn, signed-in clients, the
whole mix, and a report of every endpoint."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.load import ENDPOINTS, _roles
from tests.conftest import need_service

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.load", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _rows(report: str) -> dict[str, list[str]]:
    """Return the figures of each endpoint's row: requests, errors, p50, p95, p99."""
    rows = {}
    for line in report.splitlines():
        for endpoint in ENDPOINTS:
            if re.fullmatch(rf"{re.escape(endpoint)} +\d+ +\d+ +[\d.]+ +[\d.]+ +[\d.]+", line):
                rows[endpoint] = line[len(endpoint) :].split()
    return rows


def test_thirty_clients_are_six_in_ten_managers_and_a_role_can_be_left_out():
    roles = _roles(30)
    assert (roles.count("manager"), roles.count("supervisor"), roles.count("integrator")) == (
        18,
        6,
        6,
    )
    without = _roles(30, ("supervisor", "integrator"))
    assert (without.count("supervisor"), without.count("integrator"), len(without)) == (15, 15, 30)


def test_an_unknown_role_is_refused_with_status_2():
    done = _run("--roles", "manager,clerk", "--database-url", "postgres://x@127.0.0.1/none")
    assert done.returncode == 2
    assert "expected some of manager, supervisor, integrator" in done.stderr


def test_a_short_run_reports_every_endpoint_without_errors():
    url = os.environ.get("DATABASE_URL", "")
    need_service("PostgreSQL", url.startswith("postgres"), "DATABASE_URL is not set")
    done = _run("--applications", "60", "--clients", "5", "--seconds", "2", "--workers", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    report = done.stdout
    rows = _rows(report)
    assert set(rows) == set(ENDPOINTS), report
    for endpoint, (requests, errors, *_percentiles) in rows.items():
        assert int(requests) >= 1, f"{endpoint}: {report}"
        assert errors == "0", f"{endpoint}: {report}"
    assert re.search(r"requests/s [\d.]+ over [\d.]+ s; errors 0\n", report), report
    assert re.search(
        r"CPU per request: gunicorn [\d.]+ ms, PostgreSQL [\d.]+ ms .*; the clients [\d.]+ ms",
        report,
    ), report
    assert re.search(r"cores busy: [\d.]+ of \d+ \(gunicorn, PostgreSQL and the clients\)", report)
    assert "dropped" not in report and "kept" not in report


def test_the_single_client_run_reports_the_p95_of_every_endpoint():
    url = os.environ.get("DATABASE_URL", "")
    need_service("PostgreSQL", url.startswith("postgres"), "DATABASE_URL is not set")
    done = _run("--applications", "60", "--single", "--seconds", "1", "--workers", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = _rows(done.stdout)
    assert set(rows) == set(ENDPOINTS), done.stdout
    assert all(errors == "0" for _requests, errors, *_rest in rows.values()), done.stdout
    assert re.search(r"worst p95 [\d.]+ ms: single-client target ≤ 100 ms", done.stdout)
