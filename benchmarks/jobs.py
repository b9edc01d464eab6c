"""Time the background jobs that read every application: the KPI snapshot and the
assignment catch-up, before and after they became linear, on PostgreSQL.

Run ``python -m benchmarks.jobs [--applications 10000 100000] [--database-url URL]
[--keep] [--reuse] [--seed S] [--today YYYY-MM-DD] [--before-up-to N]``.

For each N it seeds N demo applications (``manage.py seed_demo --today``, by default the
fixed day ``DEFAULT_TODAY``) into a scratch database of its own, ``<name>_jobs_<N>``, beside the one
``--database-url`` (or ``DATABASE_URL``) names, and analyses it. No deviation sweep is run:
the KPIs count the open deviations in one grouped query, which is not what is timed here.
Then, each in a fresh process of its own (so its peak memory is its own):

1. the KPI figures of the day, as computed before (:func:`kpi_figures_before`: every
   active and finished-in-window application loaded at once, whole activity rows, ids
   sent as a bare list) and now (:func:`applications.kpi.kpi_figures`: one streaming pass
   in chunks); both digests of the figures are compared, they must be equal;
2. the assignment catch-up of the applications the seed left waiting for a manager, on a
   fresh copy of the database each (``CREATE DATABASE ... TEMPLATE``): before
   (:func:`assign_waiting_before`: one transaction and one load query per application, as
   beat ran it every minute) and now
   (:func:`applications.assignment.account_manager_assign_waiting`); the managers chosen
   must be the same.

The former code is timed only up to ``--before-up-to`` applications (all by default): at
1,000,000 its catch-up alone, one transaction per waiting application, would take hours.

Printed per N: seconds, queries, peak memory growth (``ru_maxrss``) and the time per
1,000 applications (per 1,000 waiting ones for the catch-up); then, for the largest N
against the smallest, how the time grew against what each job reads (1.0: linear): the
KPI figures against the active and finished-in-window applications, the catch-up against
the waiting ones. The load average of the
machine is printed beside the figures. Only databases this program made (marked with a
comment) are dropped, at the end unless ``--keep``; ``--reuse`` measures kept ones again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yekuo_bench"
DEFAULT_TODAY = date(2026, 6, 30)
MARKER = "scratch database of benchmarks.jobs"
ROOT = Path(__file__).resolve().parent.parent
RESULT = "RESULT "
MEASURES = ("kpi-before", "kpi-after", "assign-before", "assign-after")


# --- What ran before, kept here only to be timed beside what runs now --------------------------


def kpi_figures_before(*, day: date) -> dict:
    """Return ``kpi_figures`` as computed before the streaming pass (same figures)."""
    from collections import defaultdict

    from django.db.models import Q

    from applications import kpi
    from applications.models import ACTIVE_STATES, Application, KpiScope
    from scheduling.selectors import application_delay_by_party, working_calendar
    from scheduling.timelimits import worst_status

    first_day, window_start, window_end = kpi.window(day)
    in_window = Q(energized_at__gte=window_start, energized_at__lt=window_end)
    applications = kpi._applications(
        Application.objects.filter(Q(state__in=ACTIVE_STATES) | in_window)
    )
    _load_before(applications)
    limits = kpi.time_limits_by_class()
    calendar = working_calendar()
    figures = defaultdict(kpi.KpiFigures)
    for application in applications.values():
        finished = (
            application.energized_on is not None and first_day <= application.energized_on <= day
        )
        if not (application.is_active or finished):
            continue
        readings = kpi._readings(application, today=day, limits=limits, calendar=calendar)
        exceeded = worst_status(readings) == "exceeded"
        on_time = finished and application.energized_on <= application.committed_finish_date
        caused = (
            application_delay_by_party(
                application, application.activities, calendar, application.energized_on
            )
            if finished and not on_time
            else {}
        )
        keys = [(KpiScope.DEPARTMENT, pk) for pk in application.departments]
        if application.manager_id is not None:
            keys.append((KpiScope.MANAGER, application.manager_id))
        for key in keys:
            figure = figures[key]
            figure.active += int(application.is_active)
            figure.limits_exceeded += int(exceeded)
            if finished:
                figure.finished += 1
                if key[0] == KpiScope.DEPARTMENT:
                    figure.on_time += int(not caused.get(key[1]))
                else:
                    figure.on_time += int(on_time)
                figure.cycle_days_total += kpi.cycle_days(
                    calendar, application.start_date, application.energized_on
                )
                figure.utility_days_total += readings["whole_process"].used
    return dict(figures)


def _load_before(applications) -> None:
    from applications import kpi
    from applications.models import StageTransition
    from applications.selectors import clock_work
    from scheduling.models import Activity

    for chunk in kpi._chunks(list(applications), kpi.CHUNK_SIZE):
        rows = Activity.objects.filter(application_id__in=chunk).order_by(
            "application_id", "sort_order", "id"
        )
        for row in rows:
            application = applications[row.application_id]
            application.activities.append(row)
            if row.is_dummy or (row.department_id is None and row.actual_start is None):
                continue
            if row.department_id is not None:
                application.departments.add(row.department_id)
            application.work += clock_work([row])
        log = (
            StageTransition.objects.filter(
                application_id__in=chunk, transition__in=["suspend", "resume", "cancel"]
            )
            .order_by("application_id", "at", "id")
            .only("application_id", "transition", "at")
        )
        for row in log:
            applications[row.application_id].log.append(row)


def assign_waiting_before(*, now: datetime) -> dict[str, int]:
    """Assign the waiting applications one transaction each, as beat did every minute."""
    from applications import assignment

    ids = list(
        assignment.unassigned_applications()
        .filter(created_at__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    counts = {assignment.ASSIGNED: 0, assignment.UNASSIGNED: 0}
    for pk in ids:
        status = assignment.account_manager_assign(application_id=pk, now=now)
        if status in counts:
            counts[status] += 1
    return counts


# --- One measurement, in a process of its own ---------------------------------------------------


def _django(url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "yekuo.settings"
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_URL"] = ""
    os.environ["DEBUG"] = "false"
    # The assignment mails the managers after commit; mail is not what is timed.
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    import django

    django.setup()


def _digest(value) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]


def measure(what: str, url: str, day: date) -> dict:
    """Run one measurement on the database at ``url``; return its figures."""
    _django(url)
    from django.db import connection
    from django.db.models import Q
    from django.utils import timezone

    from applications import assignment, kpi
    from applications.models import ACTIVE_STATES, Application
    from scheduling.selectors import working_calendar

    working_calendar()
    zone = timezone.get_current_timezone()
    now = datetime.combine(day, clock_time(23, 0), tzinfo=zone)
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    waiting = assignment.unassigned_applications().count()
    # What the KPI figures read: the active applications and those energized in the window.
    _first, window_start, window_end = kpi.window(day)
    counted = Application.objects.filter(
        Q(state__in=ACTIVE_STATES) | Q(energized_at__gte=window_start, energized_at__lt=window_end)
    ).count()
    before_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with connection.execute_wrapper(count):
        started = time.perf_counter()
        if what == "kpi-before":
            result = kpi_figures_before(day=day)
        elif what == "kpi-after":
            result = kpi.kpi_figures(day=day)
        elif what == "assign-before":
            result = assign_waiting_before(now=now)
        else:
            result = assignment.account_manager_assign_waiting(now=now)
        seconds = time.perf_counter() - started
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_rss) / 1024
    if what.startswith("kpi"):
        digest = _digest(sorted((key, vars(figure)) for key, figure in result.items()))
    else:
        chosen = Application.objects.filter(assigned_at=now).order_by("pk")
        digest = _digest(list(chosen.values_list("pk", "account_manager_id")))
    return {
        "seconds": seconds,
        "queries": queries,
        "peak_mb": peak_mb,
        "digest": digest,
        "waiting": waiting,
        "counted": counted,
        "result": result if what.startswith("assign") else len(result),
    }


# --- The driver ---------------------------------------------------------------------------------


def _arguments(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.jobs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--applications", type=int, nargs="+", default=[10_000, 100_000], metavar="N"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or DEFAULT_URL,
        metavar="URL",
        help="a PostgreSQL URL; the scratch databases are made beside it",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=DEFAULT_TODAY,
        metavar="YYYY-MM-DD",
        help=f"the day the demo history ends and the jobs run (default {DEFAULT_TODAY})",
    )
    parser.add_argument(
        "--before-up-to",
        type=int,
        default=None,
        metavar="N",
        help="time the former code only for counts up to N (default: every count)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases")
    parser.add_argument(
        "--reuse", action="store_true", help="measure kept databases again; implies --keep"
    )
    parser.add_argument("--measure", choices=MEASURES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if urlsplit(args.database_url).scheme not in ("postgres", "postgresql", "pgsql"):
        parser.error("--database-url: a PostgreSQL URL is needed (postgres://USER@HOST/NAME)")
    if any(n < 1 for n in args.applications):
        parser.error("--applications: counts are positive")
    return args


def _url(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _admin(url: str, statement: str, params=()) -> list:
    import psycopg

    with psycopg.connect(_url(url, "postgres"), autocommit=True) as connection:
        cursor = connection.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def _ours(url: str, name: str) -> bool:
    rows = _admin(
        url,
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        [name],
    )
    return bool(rows) and rows[0][0] == MARKER


def _create(url: str, name: str, template: str | None = None) -> None:
    if _ours(url, name):
        _admin(url, f'DROP DATABASE "{name}" WITH (FORCE)')
    elif _admin(url, "SELECT 1 FROM pg_database WHERE datname = %s", [name]):
        raise SystemExit(f"{name} exists and is not this program's: not touched")
    _admin(url, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    _admin(url, f"COMMENT ON DATABASE \"{name}\" IS '{MARKER}'")


def _drop(url: str, name: str) -> None:
    if _ours(url, name):
        _admin(url, f'DROP DATABASE "{name}" WITH (FORCE)')


def _manage(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": "", "DEBUG": "false"}
    env["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def _seed(url: str, count: int, seed: int, today: date) -> float:
    started = time.perf_counter()
    _manage(url, "migrate", "--noinput", "-v", "0")
    _manage(
        url,
        "seed_demo",
        "--applications",
        str(count),
        "--seed",
        str(seed),
        "--today",
        today.isoformat(),
        "-v",
        "0",
    )
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def _run(what: str, url: str, today: date) -> dict:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.jobs",
            "--measure",
            what,
            "--database-url",
            url,
            "--today",
            today.isoformat(),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith(RESULT):
            return json.loads(line.removeprefix(RESULT))
    raise SystemExit(f"{what} failed:\n{done.stderr[-3000:]}")


def _load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main(argv=None) -> int:
    args = _arguments(argv)
    if args.measure:
        print(RESULT + json.dumps(measure(args.measure, args.database_url, args.today)))
        return 0
    base = urlsplit(args.database_url).path.lstrip("/") or "yekuo"
    keep = args.keep or args.reuse
    rows = {}
    made = []
    try:
        for count in args.applications:
            seeded = f"{base}_jobs_{count}"
            seeded_url = _url(args.database_url, seeded)
            if not (args.reuse and _ours(args.database_url, seeded)):
                _create(args.database_url, seeded)
                made.append(seeded)
                seconds = _seed(seeded_url, count, args.seed, args.today)
                print(f"seeded {count} applications into {seeded} in {seconds:.0f} s", flush=True)
            row = {}
            before = args.before_up_to is None or count <= args.before_up_to
            for what in ("kpi-before", "kpi-after")[0 if before else 1 :]:
                row[what] = _run(what, seeded_url, args.today)
                print(f"  N={count} {what}: {row[what]['seconds']:.2f} s  ({_load()})", flush=True)
            run = f"{base}_jobs_run"
            for what in ("assign-before", "assign-after")[0 if before else 1 :]:
                _create(args.database_url, run, template=seeded)
                try:
                    row[what] = _run(what, _url(args.database_url, run), args.today)
                finally:
                    _drop(args.database_url, run)
                print(f"  N={count} {what}: {row[what]['seconds']:.2f} s  ({_load()})", flush=True)
            rows[count] = row
    finally:
        if not keep:
            for name in made:
                _drop(args.database_url, name)
    _report(rows)
    return 0


def _report(rows: dict) -> None:
    print(f"\nKPI figures and assignment catch-up, before and now ({_load()})")
    header = (
        f"{'N':>9} {'job':<10} {'before s':>9} {'now s':>8} {'speed-up':>8} "
        f"{'queries':>15} {'peak MB':>13} {'ms/1k before':>12} {'ms/1k now':>10} same"
    )
    print(header)
    for count, row in rows.items():
        for job, per in (("kpi", count), ("assign", None)):
            after = row[f"{job}-after"]
            before = row.get(f"{job}-before")
            unit = per or max(after["waiting"], 1)
            label = job if per else f"assign/{after['waiting']}"
            if before is None:
                # Not timed at this count (--before-up-to).
                print(
                    f"{count:>9} {label:<10} {'—':>9} {after['seconds']:>8.2f} {'—':>8} "
                    f"{'—':>7}/{after['queries']:<7} {'—':>6}/{after['peak_mb']:<6.0f} "
                    f"{'—':>12} {1e6 * after['seconds'] / unit:>10.1f} —"
                )
                continue
            print(
                f"{count:>9} {label:<10} {before['seconds']:>9.2f} {after['seconds']:>8.2f} "
                f"{before['seconds'] / max(after['seconds'], 1e-9):>7.1f}× "
                f"{before['queries']:>7}/{after['queries']:<7} "
                f"{before['peak_mb']:>6.0f}/{after['peak_mb']:<6.0f} "
                f"{1e6 * before['seconds'] / unit:>12.1f} {1e6 * after['seconds'] / unit:>10.1f} "
                f"{'yes' if before['digest'] == after['digest'] else 'NO'}"
            )
    if len(rows) > 1:
        small = min(rows)
        print(
            f"\ngrowth from N={small} to each larger N against what each reads (1.0: linear): "
            f"the KPI figures against the active and finished-in-window applications, the "
            f"catch-up against the waiting ones"
        )
        for large in sorted(rows)[1:]:
            for what in MEASURES:
                if what not in rows[small] or what not in rows[large]:
                    continue
                unit = "counted" if what.startswith("kpi") else "waiting"
                a, b = rows[small][what], rows[large][what]
                size = max(b[unit], 1) / max(a[unit], 1)
                growth = (b["seconds"] / max(a["seconds"], 1e-9)) / size
                print(f"  N={large:<9} {what:<14} {growth:5.2f}  ({a[unit]} → {b[unit]} {unit})")


if __name__ == "__main__":
    sys.exit(main())
