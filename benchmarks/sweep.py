"""Time the deviation sweep against merely reading its activity rows from PostgreSQL.

Run ``python -m benchmarks.sweep [--applications 10000 100000] [--database-url URL]
[--worker [--workers K] [--redis-url URL]]``.

For each N it seeds N applications in the work states (the states the sweep forecasts) with
``manage.py seed_demo`` (realistic progress: delays, early finishes, meetings, suspensions),
by default all planned with the default template (``hv-single-10kv``), in a scratch database
of its own. seed_demo has no option for either, so the seeding process narrows its tables
of weights (``STATE_WEIGHTS``, ``CLASS_WEIGHTS``) to them; ``--states all`` and
``--templates all`` keep seed_demo's own mix (about half of what it seeds is then in a work
state, and twice N is seeded). Then it measures, in the order run:

1. the raw reads: every activity row of the same applications, in the same batches,
   fetched with a plain cursor, once with every column (what ``Activity.objects.filter``
   reads) and once with only the columns a forecast needs (:data:`NEEDED_COLUMNS`);
2. the first sweep, :func:`applications.sweep.deviation_sweep` with the default batch size
   (it opens the deviations, stores proposals, notifies);
3. the raw reads again;
4. the second sweep, the same day: nothing changed, so every application is read and
   skipped by its fingerprint (what most of the day's sweeps do);
5. the raw reads again, and the next-day sweep: the as-of day has moved, so every
   application is forecast again; the deviations exist and are updated, not created
   (what the first sweep of each day does);
6. the first and the next-day sweep again with the risk forecast off (``RISK_SAMPLES=0``)
   and on, each on a fresh copy, ``--risk-rounds`` times (default 2) with the order turned
   each round: the forecast's share of a sweep, side by side, the best of each side (this
   machine's speed drifts by tens of percent within minutes);
7. with ``--worker``, the same three sweeps of a fresh copy through a Celery worker as a
   deployment runs it, sent the batches the fan-out sends (region by region), timed from
   the first batch sent to the last result: once with one worker process, then on another
   fresh copy with ``--workers`` processes (default: one per core, the default pool), and
   the speed-up of the second over the first.

Before each sweep the copy is analyzed, as autovacuum would have done since the last sweep
(a server may run with it off). Each measurement runs in a fresh process of its own, so
that its peak memory is its own: memory is the growth of the process's peak resident set
(``resource.getrusage`` ``ru_maxrss``) over the measurement, after Django, the calendar and
the modules are loaded.
Queries are counted per batch with ``connection.execute_wrapper``; the time spent inside
those calls (the database's work and the transfer) is shown beside the total.

The database server named by ``--database-url`` (default
``postgres://postgres@127.0.0.1:5432/yekuo_bench``) gets ``<name>_<N>`` (migrated, seeded,
vacuumed) and, for each N, a fresh copy ``<name>_run`` made from it, so the first sweep is
always a first sweep. Both are dropped at the end unless ``--keep``; ``--reuse`` measures a
kept ``<name>_<N>`` again without seeding. Only databases this program created (it marks
them with a comment) are ever dropped.

Targets, on this 2-core machine with one worker (``--worker``): the first sweep within 2×
the raw read of the same rows (every column, as the ORM reads an activity), at least 5,000
applications per second, and its memory flat in N; two worker processes at least 1.7× as
fast as one; the risk forecast adds at most 30 % to a sweep. The one-process figures and
the ratio to the read of the needed columns only are printed beside them for reference.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchmarks import whole_number

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yekuo_bench"
DEFAULT_TODAY = date(2026, 6, 30)
# The module's name before it moved to benchmarks/: scratch databases kept (--keep) by
# earlier runs carry it, and stay recognised as this program's own.
MARKER = "scratch database of scheduling.sweep_bench"
ROOT = Path(__file__).resolve().parent.parent

TARGET_RATIO = 2.0
TARGET_RATE = 5000.0
TARGET_SPEED_UP = 1.7
TARGET_RISK_OVERHEAD = 0.30
# Peak memory counts as flat when the largest N grows it by at most this factor over the
# smallest N, plus some slack for the allocator's own rounding.
FLAT_FACTOR = 1.5
FLAT_SLACK_MB = 8.0

RESULT = "RESULT "

# What a forecast of an application needs of its activities: the logic, the durations, the
# progress, the time-limit clock and the forecast stored last time.
NEEDED_COLUMNS = (
    "id",
    "application_id",
    "code",
    "tail",
    "head",
    "is_dummy",
    "predecessors",
    "parallel_with",
    "kind",
    "meeting_weekday",
    "party",
    "shortest_duration",
    "name",
    "department_id",
    "duration",
    "actual_start",
    "actual_finish",
    "remaining",
    "clock",
    "forecast_start",
    "forecast_finish",
    "forecast_tf",
    "forecast_ff",
    "is_critical",
)


# --- The measured processes -------------------------------------------------------------------


def _django(url: str, redis_url: str = "") -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "yekuo.settings"
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_URL"] = redis_url
    # The sweep mails the people it notifies after each commit; the console backend would
    # print thousands of mails and SMTP would send them, neither of which is being timed.
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    # As a worker runs: with DEBUG, Django keeps the text of the last 9,000 queries, and the
    # sweep's bulk writes are long.
    os.environ["DEBUG"] = "False"
    import django

    django.setup()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def _work_batches(batch_size: int) -> list[list[int]]:
    """Return the batches the sweep's fan-out sends (region by region)."""
    from applications.sweep import sweep_batches

    return sweep_batches(batch_size=batch_size)


def _warm_up(today: date) -> None:
    """Load what a worker loads once (the modules, the risk forecast's compiled kernel and
    every calendar year the data spans) and keep it out of the cyclic collector, as a
    worker does."""
    from applications import sweep  # noqa: F401
    from scheduling import risk, selectors
    from yekuo.heap import freeze_loaded

    calendar = selectors.working_calendar()
    for year in range(today.year - 5, today.year + 3):
        calendar.is_working_day(date(year, 6, 30))
    # A worker loads the kernel at its first forecast (a few tenths of a second, once per
    # process), then freezes nothing more; freezing is what it does when it starts
    # (yekuo.celery).
    risk.warm_up()
    freeze_loaded(urls=False)


def phase_seed(args) -> dict:
    """Migrate, seed ``args.count`` applications, vacuum; return what was seeded."""
    import io
    from unittest import mock

    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from applications.models import WORK_STATES, Application
    from demo import applications as demo_applications
    from scheduling.models import Activity
    from yekuo.domain import CustomerClass, VoltageClass

    timings = {}
    if args.count:
        started = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        migrated = time.perf_counter()
        work = {s: w for s, w in demo_applications.STATE_WEIGHTS.items() if s in WORK_STATES}
        patches = []
        if args.states == "work":
            # seed_demo draws the target state from these weights; with only the work
            # states (in their usual proportions), every application seeded is swept.
            patches.append(mock.patch.dict(demo_applications.STATE_WEIGHTS, work, clear=True))
            count = args.count
        else:
            count = round(
                args.count * sum(demo_applications.STATE_WEIGHTS.values()) / sum(work.values())
            )
        if args.templates == "default":
            default = [(CustomerClass.HV_SINGLE, VoltageClass.KV_10, 1)]
            patches.append(mock.patch.object(demo_applications, "CLASS_WEIGHTS", default))
        for patch in patches:
            patch.start()
        try:
            call_command(
                "seed_demo",
                applications=count,
                seed=args.seed,
                today=args.today,
                stdout=io.StringIO(),
            )
        finally:
            for patch in patches:
                patch.stop()
        seeded = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        timings = {
            "migrate_seconds": migrated - started,
            "seed_seconds": seeded - migrated,
            "vacuum_seconds": time.perf_counter() - seeded,
        }
    regions = (
        Application.objects.filter(state__in=WORK_STATES).values("region_id").distinct().count()
    )
    states = dict(
        Application.objects.values_list("state").annotate(n=Count("pk")).order_by("state")
    )
    templates = dict(
        Application.objects.filter(state__in=WORK_STATES)
        .values_list("template__code")
        .annotate(n=Count("pk"))
        .order_by("template__code")
    )
    return {
        "applications": sum(states.values()),
        "work": sum(n for state, n in states.items() if state in WORK_STATES),
        "states": states,
        "templates": templates,
        "regions": regions,
        "activities": Activity.objects.filter(application__state__in=WORK_STATES).count(),
        "batch_size": args.batch_size,
        **timings,
    }


def phase_raw(args) -> dict:
    """Fetch every activity row of the work-state applications, batch by batch."""
    from django.db import connection

    from scheduling.models import Activity

    _warm_up(args.today)
    base = _peak_mb()
    batches = _work_batches(args.batch_size)
    opts = Activity._meta
    if args.columns == "all":
        names = [f.column for f in opts.concrete_fields]
    else:
        names = list(NEEDED_COLUMNS)
    columns = ", ".join(connection.ops.quote_name(name) for name in names)
    sql = (
        f"SELECT {columns} FROM {connection.ops.quote_name(opts.db_table)} "
        "WHERE application_id = ANY(%s) ORDER BY application_id, sort_order, id"
    )
    rows = 0
    cpu = time.process_time()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for batch in batches:
            cursor.execute(sql, [batch])
            rows += len(cursor.fetchall())
    elapsed = time.perf_counter() - started
    return {
        "applications": sum(map(len, batches)),
        "rows": rows,
        "seconds": elapsed,
        "cpu_seconds": time.process_time() - cpu,
        "batches": len(batches),
        "queries": [1],
        "db_seconds": elapsed,
        "peak_mb": _peak_mb() - base,
        "base_mb": base,
    }


def phase_sweep(args) -> dict:
    """Run one whole sweep in this process; count its queries batch by batch."""
    from zoneinfo import ZoneInfo

    from django.conf import settings
    from django.db import connection

    from applications import sweep as services

    _warm_up(args.today)
    day = args.today + timedelta(days=args.later_days)
    now = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(settings.TIME_ZONE))
    now = now.replace(hour=18)
    per_batch: list[int] = []
    in_database = [0.0]
    batch = services.deviation_sweep_batch

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            in_database[0] += time.perf_counter() - started

    def counted(**kwargs):
        count = [0]

        def counter(execute, sql, params, many, context):
            count[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            result = batch(**kwargs)
        per_batch.append(count[0])
        return result

    services.deviation_sweep_batch = counted
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    base = _peak_mb()
    cpu = time.process_time()
    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        if profiler is not None:
            profiler.enable()
        stats = services.deviation_sweep(now=now, batch_size=args.batch_size)
        if profiler is not None:
            profiler.disable()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    peak = _peak_mb() - base
    services.deviation_sweep_batch = batch
    if profiler is not None:
        import pstats

        profiler.dump_stats(args.profile)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
    return {
        "applications": stats.applications,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "batches": len(per_batch),
        "queries": per_batch,
        "db_seconds": in_database[0],
        "peak_mb": peak,
        "base_mb": base,
        "stats": stats.as_dict(),
    }


def phase_worker(args) -> dict:
    """Run one whole sweep through the running Celery worker; time it until every batch is done.

    The batches are the tasks the fan-out sends (``applications.tasks.sweep_batch``), sent to
    the worker's own queue with the swept moment, and their results are awaited through the
    result backend. The worker was started before this process and is warm: the time is the
    sweep's, from the first batch sent to the last result.
    """
    from zoneinfo import ZoneInfo

    from celery import group
    from django.conf import settings

    from applications.tasks import sweep_batch

    wait_for_worker(args.worker_name, "benchmarks.sweep")
    day = args.today + timedelta(days=args.later_days)
    now = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(settings.TIME_ZONE))
    as_of = now.replace(hour=18).isoformat()
    batches = _work_batches(args.batch_size)
    started = time.perf_counter()
    sent = group(sweep_batch.s(batch, as_of=as_of) for batch in batches).apply_async(
        queue=args.worker_queue
    )
    results = sent.get(timeout=3600, interval=0.05)
    elapsed = time.perf_counter() - started
    sent.forget()
    stats: dict = {"applications": 0, "unchanged": 0, "opened": {}, "resolved": {}}
    for result in results:
        for key, value in result.items():
            if isinstance(value, dict):
                for name, count in value.items():
                    stats[key][name] = stats[key].get(name, 0) + count
            else:
                stats[key] = stats.get(key, 0) + value
    return {
        "applications": stats["applications"],
        "seconds": elapsed,
        "batches": len(batches),
        "stats": stats,
    }


class Worker:
    """One Celery worker on the run copy, with ``concurrency`` processes in its pool."""

    def __init__(self, url: str, redis_url: str, concurrency: int) -> None:
        self.concurrency = concurrency
        self.queue = f"sweep_bench_{os.getpid()}"
        self.name = f"{self.queue}@bench"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "yekuo.settings",
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "DEBUG": "False",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "yekuo",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(self.concurrency),
                "--queues",
                self.queue,
                "--hostname",
                self.name,
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# The sweeps measured one after the other on each copy: (name, days after --today).
SWEEPS = (("first", 0), ("second", 0), ("next-day", 1))
# The sweeps that run the risk forecast of every application (the second skips them all).
RISK_SWEEPS = (("first", 0), ("next-day", 1))

PHASES = {"seed": phase_seed, "raw": phase_raw, "sweep": phase_sweep, "worker": phase_worker}


def run_phase(args) -> None:
    _django(args.database_url, args.redis_url if args.phase == "worker" else "")
    if args.batch_size is None:
        from django.conf import settings

        args.batch_size = settings.SWEEP_BATCH_SIZE
    result = PHASES[args.phase](args)
    print(RESULT + json.dumps(result, default=str), flush=True)


# --- Scratch databases ------------------------------------------------------------------------


def _with_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise SystemExit("benchmarks.sweep: --database-url must name a database")
    return name


class Server:
    """The PostgreSQL server of ``url``, through its maintenance database."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self.admin = psycopg.connect(_with_name(url, "postgres"), autocommit=True)

    def _comment(self, name: str) -> str | None:
        row = self.admin.execute(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database "
            "WHERE datname = %s",
            [name],
        ).fetchone()
        return None if row is None else row[0]

    def exists(self, name: str) -> bool:
        return self._comment(name) is not None

    def drop(self, name: str) -> None:
        from psycopg import sql

        comment = self._comment(name)
        if comment is None:
            return
        if comment != MARKER:
            raise SystemExit(
                f"benchmarks.sweep: database {name!r} exists and was not created by this "
                "benchmark; choose another name with --database-url"
            )
        self.admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))

    def create(self, name: str, *, template: str | None = None) -> None:
        from psycopg import sql

        self.drop(name)
        if template is None:
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        else:
            # A file copy: far faster than replaying a large database through the WAL.
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY = FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        self.admin.execute(statement)
        self.admin.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(MARKER)
            )
        )

    def analyze(self, name: str) -> None:
        """Refresh the planner's statistics of database ``name``."""
        import psycopg

        with psycopg.connect(_with_name(self.url, name), autocommit=True) as connection:
            connection.execute("ANALYZE")

    def version(self) -> str:
        return self.admin.execute("SHOW server_version").fetchone()[0]


def _child(phase: str, url: str, args, *, env: dict | None = None, **extra) -> dict:
    command = [
        "--database-url",
        url,
        *(["--batch-size", str(args.batch_size)] if args.batch_size else []),
        "--seed",
        str(args.seed),
        "--today",
        args.today.isoformat(),
        "--states",
        args.states,
        "--templates",
        args.templates,
        "--redis-url",
        args.redis_url,
    ]
    return run_child("benchmarks.sweep", phase, command, env=env, **extra)


def run_child(module: str, phase: str, command: list[str], *, env=None, **extra) -> dict:
    """Run step ``phase`` of benchmark ``module`` in a fresh process with ``command``'s
    options and ``extra`` as more (``--name value``); return the JSON it printed last."""
    command = [sys.executable, "-m", module, "--phase", phase, *command]
    for key, value in extra.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    done = subprocess.run(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    if done.returncode or not lines:
        sys.stdout.write(done.stdout)
        raise SystemExit(f"{module}: the {phase} step failed (exit status {done.returncode})")
    return json.loads(lines[-1][len(RESULT) :])


def wait_for_worker(name: str, module: str) -> None:
    """Return once the Celery worker ``name`` answers a ping (a minute at most)."""
    from yekuo.celery import app

    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[name], timeout=1.0):
        if time.monotonic() > deadline:
            raise SystemExit(f"{module}: the worker {name} does not answer")


def add_scratch_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the benchmarks that seed scratch databases of N applications."""
    parser.add_argument(
        "--applications",
        type=int,
        nargs="+",
        default=[10_000, 100_000],
        metavar="N",
        help="work-state applications per run (default: 10000 100000)",
    )
    parser.add_argument("--database-url", default=DEFAULT_URL, help="the scratch database")
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases")
    parser.add_argument(
        "--reuse", action="store_true", help="measure kept seeded databases without seeding"
    )
    parser.add_argument("--seed", type=int, default=2026, help="seed_demo's seed")


# --- The report -------------------------------------------------------------------------------


def _queries(counts: list[int]) -> str:
    if not counts:
        return "-"
    low, high = min(counts), max(counts)
    return str(low) if low == high else f"{low}-{high}"


def _ratios(sweep: dict, raws: tuple[dict, dict]) -> tuple[float, float]:
    """Return the sweep's time over the raw read of every column and of the needed ones."""
    return sweep["seconds"] / raws[0]["seconds"], sweep["seconds"] / raws[1]["seconds"]


def _report_size(n: int, seeded: dict, rows: list[tuple[str, dict, tuple | None]]) -> None:
    print()
    templates = ", ".join(f"{code} {count:,}" for code, count in seeded["templates"].items())
    print(
        f"N = {n:,}: {seeded['work']:,} applications in work states ({templates}) of "
        f"{seeded['applications']:,} seeded, {seeded['activities']:,} activity rows, "
        f"{seeded.get('regions', 0)} regions; batches of up to {seeded['batch_size']:,}, "
        "one region each"
    )
    if "seed_seconds" in seeded:
        print(
            f"  seeding {seeded['seed_seconds']:.0f} s (migrate {seeded['migrate_seconds']:.0f} s, "
            f"vacuum {seeded['vacuum_seconds']:.0f} s)"
        )
    header = (
        f"  {'step':<34}{'apps':>9}{'seconds':>9}{'CPU':>8}{'in DB':>8}{'apps/s':>9}{'batches':>8}"
        f"{'queries/batch':>14}{'peak RSS +MB':>13}{'× raw (all/needed)':>20}"
    )
    print(header)

    def figure(result: dict, key: str, width: int, spec: str) -> str:
        # A sweep through the worker runs in other processes: its CPU, time in the
        # database, queries and memory are not this process's to measure.
        value = result.get(key)
        return f"{'-' if value is None else format(value, spec):>{width}}"

    for label, result, raws in rows:
        rate = result["applications"] / result["seconds"] if result["seconds"] else 0.0
        ratio = "{:.1f}× / {:.1f}×".format(*_ratios(result, raws)) if raws else ""
        print(
            f"  {label:<34}{result['applications']:>9,}{result['seconds']:>9.2f}"
            f"{figure(result, 'cpu_seconds', 8, '.2f')}{figure(result, 'db_seconds', 8, '.2f')}"
            f"{rate:>9,.0f}{result['batches']:>8}{_queries(result.get('queries', [])):>14}"
            f"{figure(result, 'peak_mb', 13, '.1f')}{ratio:>20}"
        )
    for label, result, _raw in rows:
        if "stats" in result:
            stats = result["stats"]
            print(
                f"  {label}: unchanged {stats['unchanged']:,}, opened {stats['opened']}, "
                f"resolved {stats['resolved']}, updated {stats['updated']}, "
                f"proposals {stats['proposals']}, notifications {stats['notifications']}"
            )


def _print_load() -> None:
    one, five, _fifteen = os.getloadavg()
    busy = " (other work on the machine will skew the figures)" if one > 1 else ""
    print(f"Load average before the run: {one:.2f} (1 min), {five:.2f} (5 min){busy}")


def _worker_runs(args) -> list[tuple[str, int]]:
    """Return (result prefix, worker processes) of each run through a worker."""
    if not args.worker:
        return []
    return [("worker1_", 1), ("workers_", args.workers)] if args.workers > 1 else [("worker1_", 1)]


def _verdicts(results: dict[int, dict], workers: int) -> None:
    met = {True: "met", False: "MISSED"}
    for title, prefix in (
        ("one process, for reference", ""),
        ("one Celery worker process", "worker1_"),
        (f"one Celery worker of {workers} processes", "workers_"),
    ):
        if not any(f"{prefix}first" in result for result in results.values()):
            continue
        print()
        print(f"Targets ({title}):")
        for n, result in results.items():
            for which, _later in SWEEPS:
                sweep = result[f"{prefix}{which}"]
                every, needed = _ratios(sweep, result[f"raw_{which}"])
                rate = sweep["applications"] / sweep["seconds"]
                print(
                    f"  N = {n:,}, {which} sweep: {every:.1f}× the raw read of every column, "
                    f"{needed:.1f}× that of the needed ones (≤ {TARGET_RATIO:g}×: "
                    f"{met[every <= TARGET_RATIO]} / {met[needed <= TARGET_RATIO]}); "
                    f"{rate:,.0f} applications/s (≥ {TARGET_RATE:,.0f}: "
                    f"{met[rate >= TARGET_RATE]})"
                )
    print()
    print(
        f"Risk forecast's share of a sweep (≤ +{TARGET_RISK_OVERHEAD:.0%}; the best of each "
        "side over the rounds; the wall clock, then the CPU of the same runs: a batch's "
        "forecasts run in a thread beside its writes):"
    )
    for n, result in results.items():
        for which, _later in RISK_SWEEPS:
            on, off = result[f"risk_on_{which}"], result[f"risk_off_{which}"]
            overhead = on["seconds"] / off["seconds"] - 1
            cpu = on["cpu_seconds"] / off["cpu_seconds"] - 1
            print(
                f"  N = {n:,}, {which} sweep: {off['seconds']:.2f} s without, "
                f"{on['seconds']:.2f} s with, +{overhead:.0%} "
                f"({met[overhead <= TARGET_RISK_OVERHEAD]}); CPU {off['cpu_seconds']:.2f} s → "
                f"{on['cpu_seconds']:.2f} s, +{cpu:.0%}"
            )
    if any("workers_first" in result for result in results.values()):
        print()
        print(f"Speed-up of {workers} worker processes over one (≥ {TARGET_SPEED_UP:g}×):")
        for n, result in results.items():
            for which, _later in SWEEPS:
                one, many = result[f"worker1_{which}"], result[f"workers_{which}"]
                speed_up = one["seconds"] / many["seconds"]
                print(
                    f"  N = {n:,}, {which} sweep: {one['seconds']:.2f} s → "
                    f"{many['seconds']:.2f} s, {speed_up:.2f}× "
                    f"({met[speed_up >= TARGET_SPEED_UP]})"
                )
    if len(results) > 1:
        small, large = min(results), max(results)
        for which, _later in SWEEPS:
            low = results[small][which]["peak_mb"]
            high = results[large][which]["peak_mb"]
            flat = high <= FLAT_FACTOR * max(low, 0.0) + FLAT_SLACK_MB
            print(
                f"  memory, {which} sweep: peak RSS +{low:.1f} MB at N = {small:,}, "
                f"+{high:.1f} MB at N = {large:,} (flat: {met[flat]})"
            )
    else:
        print("  memory flat in N: needs two sizes")


def _risk_rounds(server, seeded_name, run_name, run_url, args, result, rows) -> None:
    """The first and the next-day sweep with the risk forecast off (``RISK_SAMPLES=0``) and
    on, each pair on a fresh copy, ``--risk-rounds`` times, the order turned each round
    (off first, then on first): what the forecast adds to a sweep, measured side by side.
    A shared machine's speed drifts by tens of percent within minutes; the best of each
    side is kept."""
    sides = {"off": {"RISK_SAMPLES": "0"}, "on": {}}
    for round_ in range(args.risk_rounds):
        for side in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
            server.create(run_name, template=seeded_name)
            for which, later in RISK_SWEEPS:
                server.analyze(run_name)
                done = _child("sweep", run_url, args, later_days=later, env=sides[side])
                key = f"risk_{side}_{which}"
                if key not in result or done["seconds"] < result[key]["seconds"]:
                    result[key] = done
                label = f"{which} sweep, risk forecast {side}, round {round_ + 1}"
                rows.append((label, done, result[f"raw_{which}"]))
            server.drop(run_name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sweep",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_scratch_arguments(parser)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="default: the SWEEP_BATCH_SIZE setting"
    )
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=DEFAULT_TODAY,
        help=f"the day seeded up to and swept (default {DEFAULT_TODAY})",
    )
    parser.add_argument(
        "--states",
        choices=["work", "all"],
        default="work",
        help="seed only work states (default), or every state as seed_demo does "
        "(then about half of N is swept)",
    )
    parser.add_argument(
        "--templates",
        choices=["default", "all"],
        default="default",
        help="plan every application with the default template hv-single-10kv (default), "
        "or with seed_demo's mix of templates",
    )
    parser.add_argument(
        "--profile",
        default="",
        metavar="DIR",
        help="profile each sweep with cProfile into DIR (the times then include its cost)",
    )
    parser.add_argument(
        "--worker",
        action="store_true",
        help="also sweep a fresh copy through a Celery worker as a deployment runs it, "
        "with one process and then with --workers processes; needs Redis",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        metavar="K",
        help="the worker processes compared with one under --worker (default: one per core, "
        "the default pool)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14",
        help="the broker and result backend of --worker (default: REDIS_URL, else "
        "redis://127.0.0.1:6379/14); the benchmark uses a queue of its own there",
    )
    parser.add_argument(
        "--risk-rounds",
        type=whole_number(10),
        default=2,
        metavar="K",
        help="rounds of the first and next-day sweep with the risk forecast off and on, "
        "the order turned each round (default 2)",
    )
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--worker-name", default="", help=argparse.SUPPRESS)
    parser.add_argument("--worker-queue", default="", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--later-days", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--columns", choices=["all", "needed"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        run_phase(args)
        return

    base = _name(args.database_url)
    server = Server(args.database_url)
    run_name = f"{base}_run"
    print(
        f"Deviation sweep against a raw read of its activity rows: PostgreSQL "
        f"{server.version()}, one process, "
        f"as of {args.today} 18:00"
    )
    print(
        "seconds: wall clock; CPU: the measuring process's own; in DB: inside the queries "
        "(execution and transfer); peak RSS: growth of ru_maxrss over the step, in a fresh "
        "process."
    )
    _print_load()
    started = time.perf_counter()
    results: dict[int, dict] = {}
    profile = Path(args.profile).resolve() if args.profile else None
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
    seeded_names = []
    try:
        for n in sorted(args.applications):
            seeded_name = f"{base}_{n}"
            seeded_names.append(seeded_name)
            seeded_url = _with_name(args.database_url, seeded_name)
            if args.reuse and server.exists(seeded_name):
                seeded = _child("seed", seeded_url, args, count=0)
            else:
                server.create(seeded_name)
                seeded = _child("seed", seeded_url, args, count=n)
            # The size the seeding process resolved (--batch-size, else the setting), given
            # to every later step.
            args.batch_size = seeded["batch_size"]
            server.create(run_name, template=seeded_name)
            run_url = _with_name(args.database_url, run_name)
            result = results[n] = {"seeded": seeded}
            rows = []
            for which, later in SWEEPS:
                # Between two sweeps autovacuum would have analyzed the rows the last one
                # wrote; without it, the planner takes the open-deviation lookup for a scan.
                server.analyze(run_name)
                raws = tuple(_child("raw", run_url, args, columns=c) for c in ("all", "needed"))
                extra = {"profile": profile / f"sweep-{n}-{which}.prof"} if profile else {}
                result[which] = _child("sweep", run_url, args, later_days=later, **extra)
                result[f"raw_{which}"] = raws
                rows += [
                    ("raw read, every column", raws[0], None),
                    ("raw read, needed columns", raws[1], None),
                    (f"{which} sweep", result[which], raws),
                ]
            server.drop(run_name)
            _risk_rounds(server, seeded_name, run_name, run_url, args, result, rows)
            # One worker process, then --workers of them, each on a fresh copy: the same
            # batches shared by more processes.
            for prefix, concurrency in _worker_runs(args):
                server.create(run_name, template=seeded_name)
                worker = Worker(run_url, args.redis_url, concurrency)
                try:
                    for which, later in SWEEPS:
                        server.analyze(run_name)
                        done = _child(
                            "worker",
                            run_url,
                            args,
                            later_days=later,
                            worker_name=worker.name,
                            worker_queue=worker.queue,
                        )
                        result[f"{prefix}{which}"] = done
                        label = f"{which} sweep, worker ×{concurrency}"
                        rows.append((label, done, result[f"raw_{which}"]))
                finally:
                    worker.stop()
                server.drop(run_name)
            _report_size(n, seeded, rows)
    finally:
        server.drop(run_name)
        if not args.keep:
            for name in seeded_names:
                server.drop(name)
    _verdicts(results, args.workers)
    print(f"\nWhole run: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
