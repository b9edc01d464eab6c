"""The benchmarks stay runnable as ``python -m benchmarks.<name>`` from the project's root."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("name", ["cpm", "sweep", "pages", "freshness", "load"])
def test_each_benchmark_explains_its_options(name):
    done = _run(f"benchmarks.{name}", "--help")
    assert done.returncode == 0, done.stderr
    assert f"usage: python -m benchmarks.{name}" in done.stdout


def test_the_cpm_benchmark_times_a_small_network():
    done = _run("benchmarks.cpm", "--size", "50", "--rounds", "1", "--round-seconds", "0.01")
    assert done.returncode == 0, done.stderr
    assert "default template hv-single-10kv" in done.stdout
    assert "generated AON, seed" in done.stdout


def test_the_freshness_benchmark_refuses_a_database_that_is_not_postgresql():
    done = _run("benchmarks.freshness", "--database-url", "sqlite:///x.sqlite3")
    assert done.returncode == 2
    assert "a PostgreSQL URL is needed" in done.stderr
