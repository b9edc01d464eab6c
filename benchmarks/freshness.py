"""Time how soon a progress entry's deviation is stored, at scale, on PostgreSQL.

Run ``python -m benchmarks.freshness [--applications 100000] [--database-url URL]
[--requests 200] [--keep] [--reuse]``. Like ``benchmarks.pages`` it creates a scratch
database beside the one ``URL`` (or ``DATABASE_URL``) names (``<name>_freshness``),
migrates it, loads ``N`` demo applications and sweeps them once (skipped with
``--reuse`` on a database a ``--keep`` run left).

Then, ``--requests`` times, it records progress through the REST API (Django's test
client, in this process) on a different application each time: a critical activity in
progress needs two more working days than it said. A second connection to the database
watches for that activity's deviation row to be written (opened or updated) and reports:

- the request: the progress entry from the request to its answer (the check, the write,
  the analysis of the application, the commit and the schedule it answers with);
- the deviation row seen by another connection, counted from the start of the request
  and from the answer. The analysis runs in the transaction of the entry, so the row
  commits with it: no worker and no broker is on this path, and the second figure is
  the time the watcher takes to look.

The target (issue 13): from the commit of a progress entry to the deviation row updated,
p95 ≤ 1 s at 100,000 applications. The scratch database is dropped at the end unless
``--keep``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from benchmarks import pages

TARGET_P95_MS = 1000.0
SCRATCH_SUFFIX = "_freshness"


def _arguments(argv):
    parser = pages.scratch_arguments(
        "python -m benchmarks.freshness", __doc__, applications=100_000, requests=200
    )
    return pages.parse_scratch_arguments(parser, argv)


def _targets(count: int) -> list[tuple[int, str, int, int]]:
    """Return (application id, activity code, activity id, remaining days) of critical
    activities in progress, one per application."""
    from applications.models import WORK_STATES
    from scheduling.models import Activity

    rows = (
        Activity.objects.filter(
            application__state__in=WORK_STATES,
            is_dummy=False,
            is_critical=True,
            actual_start__isnull=False,
            actual_finish__isnull=True,
        )
        .order_by("application_id", "sort_order")
        .values_list("application_id", "code", "pk", "remaining", "duration")
    )
    seen: set[int] = set()
    targets = []
    for application_id, code, pk, remaining, duration in rows.iterator(chunk_size=2000):
        if application_id in seen:
            continue
        seen.add(application_id)
        targets.append(
            (application_id, code, pk, (remaining if remaining is not None else duration))
        )
        if len(targets) == count:
            break
    return targets


def _measure(args) -> tuple[list[float], list[float], list[float], int]:
    import psycopg
    from django.conf import settings
    from django.test import Client

    from accounts.models import User
    from applications.models import Application

    client = Client()
    client.force_login(User.objects.get(username="supervisor"))
    targets = _targets(args.requests + 1)
    if len(targets) < 2:
        raise SystemExit("freshness: no critical activity in progress to record progress on")
    url = settings.DATABASES["default"]
    watcher = psycopg.connect(
        dbname=url["NAME"],
        user=url["USER"] or None,
        password=url["PASSWORD"] or None,
        host=url["HOST"] or None,
        port=url["PORT"] or None,
        autocommit=True,
    )
    requests, from_start, from_answer = [], [], []
    missed = 0
    try:
        for position, (application_id, code, activity_id, remaining) in enumerate(targets):
            version = Application.objects.values_list("version", flat=True).get(pk=application_id)
            path = f"/api/v1/applications/{application_id}/activities/{code}/"
            watched = watcher.execute("SELECT clock_timestamp()").fetchone()[0]
            started = time.perf_counter()
            response = client.patch(
                path,
                {"remaining": remaining + 2, "note": "benchmark"},
                content_type="application/json",
                HTTP_IF_MATCH=f'W/"{version}"',
            )
            answered = time.perf_counter()
            if response.status_code != 200:
                raise SystemExit(
                    f"freshness: HTTP {response.status_code} for {path}: {response.content[:300]}"
                )
            seen = None
            deadline = answered + 5
            while time.perf_counter() < deadline:
                row = watcher.execute(
                    "SELECT 1 FROM scheduling_deviation WHERE activity_id = %s "
                    "AND status <> 'resolved' AND updated_at >= %s",
                    [activity_id, watched],
                ).fetchone()
                if row is not None:
                    seen = time.perf_counter()
                    break
                time.sleep(0.005)
            if position == 0:
                continue  # the warm-up: caches, the calendar, the compiled networks
            requests.append((answered - started) * 1000)
            if seen is None:
                missed += 1
                continue
            from_start.append((seen - started) * 1000)
            from_answer.append((seen - answered) * 1000)
    finally:
        watcher.close()
    return requests, from_start, from_answer, missed


def _line(what: str, values: list[float]) -> str:
    if not values:
        return f"{what:<58} {'—':>8} {'—':>8}"
    return f"{what:<58} {statistics.median(values):8.1f} {pages._percentile(values, 0.95):8.1f}"


def main(argv=None) -> int:
    args = _arguments(argv)
    url, name, maintenance = pages.scratch_url(args.database_url, SCRATCH_SUFFIX)
    if args.reuse:
        args.keep = True
    else:
        pages._admin(maintenance, f'DROP DATABASE IF EXISTS "{name}"')
        pages._admin(maintenance, f'CREATE DATABASE "{name}"')
    print(f"scratch database {name}", flush=True)
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yekuo.settings")
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection

        from applications.models import Application

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        # The notifications are stored as usual; their mail is not what is measured.
        settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
        if args.reuse:
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            pages._analyze()
            args.applications = Application.objects.count()
        else:
            pages._load(args.applications, args.seed)
        requests, from_start, from_answer, missed = _measure(args)
        print(
            f"\n{args.applications} applications, {len(requests)} progress entries through "
            f"the API, each on another application (after one warm-up)"
        )
        print(f"{'':<58} {'p50 ms':>8} {'p95 ms':>8}")
        print(_line("progress entry: request to answer", requests))
        print(_line("deviation row seen by another connection, from the request", from_start))
        print(_line("deviation row seen by another connection, from the answer", from_answer))
        if missed:
            print(f"{missed} entries left no deviation row within 5 s of their answer")
        worst = pages._percentile(from_start, 0.95) if from_start else float("inf")
        verdict = "met" if worst <= TARGET_P95_MS and not missed else "NOT met"
        print(
            f"commit to deviation row (bounded by request start to row seen): p95 "
            f"{worst:.1f} ms, target p95 ≤ {TARGET_P95_MS:.0f} ms {verdict}"
        )
        connection.close()
    finally:
        if args.keep:
            print(f"kept {url}")
        else:
            from django.db import connections

            connections.close_all()
            pages._admin(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
