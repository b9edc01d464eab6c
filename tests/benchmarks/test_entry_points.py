"""The benchmarks stay runnable as ``python -m benchmarks.<name>`` from the project's root."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need_service

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    # Seeding and timing a scratch database takes a minute alone, more beside the other
    # process of a parallel run.
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    "name",
    [
        "cpm",
        "sweep",
        "pages",
        "freshness",
        "search",
        "jobs",
        "dashboard",
        "load",
        "risk",
        "levelling",
        "province",
    ],
)
def test_each_benchmark_explains_its_options(name):
    done = _run(f"benchmarks.{name}", "--help")
    assert done.returncode == 0, done.stderr
    assert f"usage: python -m benchmarks.{name}" in done.stdout


def test_the_cpm_benchmark_times_a_small_network():
    done = _run("benchmarks.cpm", "--size", "50", "--rounds", "1", "--round-seconds", "0.01")
    assert done.returncode == 0, done.stderr
    assert "default template hv-single-10kv" in done.stdout
    assert "generated AON, seed" in done.stdout


def test_the_risk_benchmark_times_the_template_and_refuses_bad_counts():
    done = _run("benchmarks.risk", "--samples", "200", "--rounds", "2")
    assert done.returncode == 0, done.stderr
    assert "16 activities, 200 runs, best of 2 rounds" in done.stdout
    assert "forecast, weekly meeting" in done.stdout and "target ≤ 5 ms" in done.stdout
    refused = _run("benchmarks.risk", "--samples", "0")
    assert refused.returncode == 2
    assert "expected a whole number from 1 to 100000, got '0'" in refused.stderr


def test_the_levelling_benchmark_levels_a_small_region_and_refuses_bad_counts():
    done = _run("benchmarks.levelling", "--applications", "50", "100", "--regions", "2")
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()[2:4]]
    assert [row[:2] for row in rows] == [["50", "800"], ["100", "1,600"]]
    assert "100 applications over 2 regions, 2 processes: 1,600 activities" in done.stdout
    refused = _run("benchmarks.levelling", "--regions", "0")
    assert refused.returncode == 2
    assert "expected a whole number ≥ 1, got '0'" in refused.stderr


@pytest.mark.parametrize("name", ["freshness", "dashboard", "jobs", "province"])
def test_the_benchmark_refuses_a_database_that_is_not_postgresql(name):
    done = _run(f"benchmarks.{name}", "--database-url", "sqlite:///x.sqlite3")
    assert done.returncode == 2
    assert "a PostgreSQL URL is needed" in done.stderr


def test_the_province_benchmark_refuses_a_region_count_out_of_range():
    refused = _run("benchmarks.province", "--regions", "0")
    assert refused.returncode == 2
    assert "--regions must be from 1 to 200" in refused.stderr


def _run_on_scratch(name: str, *args: str) -> subprocess.CompletedProcess:
    """Run benchmark ``name`` on its scratch database beside the tests' PostgreSQL one."""
    url = os.environ.get("DATABASE_URL", "")
    need_service("PostgreSQL", url.startswith("postgres"), "the benchmark's scratch database")
    done = _run(f"benchmarks.{name}", *args)
    assert done.returncode == 0, done.stderr
    return done


def test_the_search_benchmark_times_every_text_against_the_former_filter():
    done = _run_on_scratch("search", "--applications", "400", "--requests", "1")
    lines = done.stdout.splitlines()
    assert "400 applications;" in done.stdout
    for what in ("2 characters of a name", "number fragment", "nobody's text"):
        row = next(line for line in lines if line.startswith(what))
        assert len(row.split()) >= 6, row  # matches, then two times for each way
    assert "worst p95" in lines[-1]


def test_the_pages_benchmark_times_each_page_as_served_and_rendered_whole():
    done = _run_on_scratch("pages", "--applications", "60", "--requests", "2")
    lines = done.stdout.splitlines()
    for what in ("workspace (account manager)", "application page", "dashboard"):
        row = next(line for line in lines if line.startswith(what))
        # p50, p95 and queries as served, then p50 and p95 rendered whole
        assert len(row.removeprefix(what).split()) == 5, row
    assert "worst p95" in lines[-1]


def test_the_jobs_report_leaves_the_former_code_out_where_it_was_not_timed(capsys):
    from benchmarks import jobs

    def measured(seconds, counted, waiting):
        return {
            "seconds": seconds,
            "queries": 17,
            "peak_mb": 12.0,
            "digest": "d",
            "waiting": waiting,
            "counted": counted,
        }

    rows = {
        10_000: {
            "kpi-before": measured(3.0, 5_000, 100),
            "kpi-after": measured(1.0, 5_000, 100),
            "assign-before": measured(5.0, 5_000, 100),
            "assign-after": measured(0.5, 5_000, 100),
        },
        1_000_000: {
            "kpi-after": measured(120.0, 500_000, 10_000),
            "assign-after": measured(60.0, 500_000, 10_000),
        },
    }
    jobs._report(rows)
    out = capsys.readouterr().out

    big = [line for line in out.splitlines() if line.strip().startswith("1000000 ")]
    assert len(big) == 2 and all(" — " in line for line in big)
    assert "  120.00 " in big[0]
    # Time per 1,000 counted: 120 s / 500,000 = 240 µs, against 200 µs at 10,000 → 1.20.
    assert "N=1000000   kpi-after       1.20  (5000 → 500000 counted)" in out
    assert "assign-before" not in out.split("growth from")[1]
