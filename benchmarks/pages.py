"""Time the server side of the busiest pages on a scratch PostgreSQL database.

Run ``python -m benchmarks.pages [--applications 100000] [--database-url URL]
[--requests 50] [--keep] [--reuse]``. It creates a scratch database next to the one ``URL`` (or
``DATABASE_URL``) names, migrates it, loads the demo people and ``N`` demo applications
(``seed_demo``'s bulk loader), runs one deviation sweep and takes tonight's KPI snapshot,
so the pages have deviations, notifications and a trend to show. Then, with Django's test
client (no network, no browser: the time of the view, its queries and its template),
it requests each page ``--requests`` times after one warm-up request and prints the
50th and 95th percentiles in milliseconds and the queries of one request, as served
(page fragments from the cache) and, side by side, with every fragment rendered on every
request (``FRAGMENT_CACHE`` off):

- the workspace of an account manager (``/``) and of the supervisor (every application);
- the page of one application (``/applications/<number>/``), when the project has one;
- the supervisor's dashboard (``/dashboard/``), plain and filtered to red deviations, its
  cards and charts summed from the kept counts on every request (``benchmarks.dashboard``
  compares them with the aggregates over the rows).

The scratch database is dropped at the end unless ``--keep``. The target: p95 ≤ 100 ms
at 1,000,000 applications.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from urllib.parse import urlsplit, urlunsplit

TARGET_P95_MS = 100.0
SCRATCH_SUFFIX = "_page_bench"


def _positive(value: str) -> int:
    try:
        number = int(value, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {value!r}")
    return number


def scratch_arguments(prog: str, description: str, *, applications: int, requests: int):
    """Return the parser of a benchmark on a scratch PostgreSQL database (N applications,
    R requests, --keep, --reuse, --seed), to which a benchmark may add its own."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--applications", type=_positive, default=applications, metavar="N")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        metavar="URL",
        help="a PostgreSQL URL; the scratch database is created beside it (default: $DATABASE_URL)",
    )
    parser.add_argument("--requests", type=_positive, default=requests, metavar="R")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure on the scratch database a run with --keep left (migrated, not "
        "reloaded); implies --keep",
    )
    parser.add_argument("--seed", type=int, default=2026)
    return parser


def parse_scratch_arguments(parser, argv):
    """Parse ``argv``; refuse a database URL that is not PostgreSQL's."""
    args = parser.parse_args(argv)
    if urlsplit(args.database_url).scheme not in ("postgres", "postgresql", "pgsql"):
        parser.error("--database-url: a PostgreSQL URL is needed (postgres://USER@HOST/NAME)")
    return args


def _arguments(argv):
    parser = scratch_arguments(
        "python -m benchmarks.pages", __doc__, applications=10_000, requests=50
    )
    return parse_scratch_arguments(parser, argv)


def scratch_url(url: str, suffix: str = SCRATCH_SUFFIX) -> tuple[str, str, str]:
    """Return (scratch database URL, its name, the URL of the server's maintenance db)."""
    parts = urlsplit(url)
    name = (parts.path.lstrip("/") or "yekuo") + suffix
    return (
        urlunsplit(parts._replace(path=f"/{name}")),
        name,
        urlunsplit(parts._replace(path="/postgres")),
    )


def _admin(maintenance_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as connection:
        connection.execute(statement)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def _time(client, path: str, requests: int, before=None) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        status = client.get(path).status_code  # warm-up: caches, the calendar
    if status != 200:
        return 0.0, 0.0, len(queries), status
    # The log keeps only the last few thousand queries (the loading filled it).
    connection.queries_log.clear()
    if before is not None:
        before()
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    # Counted now: the captured list is read from the connection's log, which the
    # next requests reset.
    count = len(queries)
    times = []
    for _ in range(requests):
        if before is not None:
            before()
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), _percentile(times, 0.95), count, status


def _load(count: int, seed: int) -> None:
    from django.core.management import call_command
    from django.utils import timezone

    from applications import kpi
    from applications.sweep import deviation_sweep
    from demo import applications as demo_applications
    from demo import people

    call_command("migrate", verbosity=0)
    people.demo_people_load()
    today = timezone.localdate()
    started = time.perf_counter()

    def progress(done, total, seconds):
        print(f"  applications: {done}/{total} ({seconds:.0f} s)", flush=True)

    demo_applications.demo_applications_load(count=count, seed=seed, today=today, progress=progress)
    print(f"loaded {count} applications in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    stats = deviation_sweep()
    print(f"deviation sweep in {time.perf_counter() - started:.0f} s: {stats}", flush=True)
    started = time.perf_counter()
    kpi.kpi_snapshot_take(day=today)
    print(f"KPI snapshot in {time.perf_counter() - started:.0f} s", flush=True)
    _analyze()


def _analyze() -> None:
    """Vacuum and analyze what was loaded, as autovacuum does on a live database after
    bulk writes: without the visibility map no index-only scan pays (an API count over
    10,000 rows read the heap: 27 ms instead of 4)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _pages() -> list[tuple[str, str, str, object]]:
    """Return (what, user name, path, what to do before each request) of each page."""
    from django.urls import NoReverseMatch, reverse

    from applications.models import ACTIVE_STATES, Application
    from scheduling.models import Deviation

    pages = [
        ("workspace (account manager)", "manager", "/", None),
        ("workspace (supervisor)", "supervisor", "/", None),
    ]
    busy = (
        Deviation.objects.filter(application__state__in=ACTIVE_STATES)
        .values_list("application__number", flat=True)
        .first()
    ) or Application.objects.filter(state__in=ACTIVE_STATES).values_list("number", flat=True)[0]
    try:
        path = reverse("application_detail", args=[busy])
    except NoReverseMatch:
        path = None
    if path:
        pages.append(("application page", "supervisor", path, None))
    pages += [
        ("dashboard", "supervisor", "/dashboard/", None),
        ("dashboard, red deviations", "supervisor", "/dashboard/?severity=red&sort=-delay", None),
    ]
    return pages


def main(argv=None) -> int:
    args = _arguments(argv)
    url, name, maintenance = scratch_url(args.database_url)
    if args.reuse:
        args.keep = True
    else:
        _admin(maintenance, f'DROP DATABASE IF EXISTS "{name}"')
        _admin(maintenance, f'CREATE DATABASE "{name}"')
    print(f"scratch database {name}", flush=True)
    os.environ["DATABASE_URL"] = url
    # As served: no debug pages, no query log kept per request.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yekuo.settings")
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection
        from django.test import Client, override_settings

        from accounts.models import User
        from applications.models import Application

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        if args.reuse:
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            _analyze()
            args.applications = Application.objects.count()
        else:
            _load(args.applications, args.seed)
        from yekuo.heap import freeze_loaded

        freeze_loaded()  # as yekuo.wsgi does in a served process
        print(
            f"\n{args.applications} applications, {args.requests} requests per page "
            f"(server time, Django test client), target p95 ≤ {TARGET_P95_MS:.0f} ms"
        )
        print(
            f"{'page':<30} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}"
            f" {'rendered whole: p50':>20} {'p95':>6}"
        )
        worst = 0.0
        clients = {}
        for what, username, path, before in _pages():
            client = clients.get(username)
            if client is None:
                client = clients[username] = Client()
                client.force_login(User.objects.get(username=username))
            p50, p95, queries, status = _time(client, path, args.requests, before)
            if status != 200:
                print(f"{what:<30} HTTP {status} for {path}")
                continue
            with override_settings(FRAGMENT_CACHE=False):
                whole_p50, whole_p95, _queries, _status = _time(client, path, args.requests, before)
            worst = max(worst, p95)
            print(
                f"{what:<30} {p50:8.1f} {p95:8.1f} {queries:8d} {whole_p50:20.1f} {whole_p95:6.1f}",
                flush=True,
            )
        verdict = "met" if worst <= TARGET_P95_MS else "NOT met"
        print(f"worst p95 {worst:.1f} ms (pages as served): target {verdict}")
        connection.close()
    finally:
        if args.keep:
            print(f"kept {url}")
        else:
            from django.db import connections

            connections.close_all()
            _admin(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
