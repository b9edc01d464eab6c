"""Time the supervisors' dashboard from its kept counts against the aggregates over the rows.

Run ``python -m benchmarks.dashboard [--applications 10000] [--database-url URL]
[--requests 30] [--keep] [--reuse]``. On a scratch PostgreSQL database loaded as
``benchmarks.pages`` loads it (demo people, ``N`` demo applications, one sweep, tonight's
KPI snapshot), it prints side by side, in milliseconds (p50 and p95 of ``--requests``
runs after one warm-up):

- the cards and charts (``dashboard_figures``) and the answer tables, unfiltered and
  filtered to red deviations: summed from the counts (what the page does) and computed
  by the aggregates over the deviations and applications (what it did before, with a
  minute's cache);
- the whole page (``/dashboard/``, server time through Django's test client);
- what keeping the counts costs a sweep batch: reading the share of ``--batch`` active
  applications before and after and adding the difference, beside the batch itself
  analysed again (the next day's sweep of the same applications);

then checks the counts against a recount of the rows. The target: the page's p95
≤ 100 ms at 1,000,000 applications.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import timedelta

from benchmarks.pages import (
    _admin,
    _analyze,
    _load,
    _percentile,
    parse_scratch_arguments,
    scratch_arguments,
    scratch_url,
)

TARGET_P95_MS = 100.0
SCRATCH_SUFFIX = "_dashboard_bench"


def _arguments(argv):
    parser = scratch_arguments(
        "python -m benchmarks.dashboard", __doc__, applications=10_000, requests=30
    )
    parser.add_argument("--batch", type=int, default=1000, metavar="B")
    return parse_scratch_arguments(parser, argv)


def _timed(work, runs: int) -> tuple[float, float]:
    work()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), _percentile(times, 0.95)


def _from_the_rows(today):
    """The cards and charts as computed before the counts were kept (no cache)."""
    from django.db.models import Count, Q

    from applications.assignment import account_manager_loads
    from applications.kpi import kpi_monthly_trend
    from applications.models import ACTIVE_STATES, Application, TimeLimitStatus
    from scheduling.models import Deviation
    from supervision import selectors

    rows = list(
        Deviation.objects.exclude(status=Deviation.Status.RESOLVED)
        .filter(application__state__in=ACTIVE_STATES)
        .values_list("department_id", "activity__stage", "severity")
        .annotate(n=Count("pk"))
        .order_by()
    )
    Application.objects.filter(state__in=ACTIVE_STATES).aggregate(
        active=Count("pk"),
        unassigned=Count("pk", filter=Q(account_manager__isnull=True)),
        alarms=Count("pk", filter=Q(time_limit_status=TimeLimitStatus.EXCEEDED)),
    )
    # The energized ones of the window, as the page reads them (the same both ways).
    selectors.dashboard_kpis(today=today, deviation_counts=rows)
    selectors.open_deviations_by_department(rows)
    selectors.open_deviations_by_stage(rows)
    kpi_monthly_trend(months=12, today=today)
    account_manager_loads()


def _answers_from_the_rows(**filters):
    from supervision import selectors

    return selectors.deviation_counts(selectors._open_deviations_filtered(**filters))


def main(argv=None) -> int:
    args = _arguments(argv)
    url, name, maintenance = scratch_url(args.database_url, SCRATCH_SUFFIX)
    if args.reuse:
        args.keep = True
    else:
        _admin(maintenance, f'DROP DATABASE IF EXISTS "{name}"')
        _admin(maintenance, f'CREATE DATABASE "{name}"')
    print(f"scratch database {name}", flush=True)
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yekuo.settings")
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection, transaction
        from django.test import Client
        from django.utils import timezone

        from accounts.models import User
        from applications import dashboard_counts
        from applications.models import WORK_STATES, Application, DeviationCount
        from applications.sweep import deviation_sweep_batch
        from scheduling.models import Deviation
        from supervision import selectors

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        if args.reuse:
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            _analyze()
        else:
            _load(args.applications, args.seed)
        applications = Application.objects.count()
        unresolved = Deviation.objects.exclude(status=Deviation.Status.RESOLVED).count()
        today = timezone.localdate()
        print(
            f"\n{applications} applications, {unresolved} unresolved deviations, "
            f"{DeviationCount.objects.count()} deviation count rows; {args.requests} runs each; "
            f"load average {os.getloadavg()}"
        )
        print(f"{'':<34} {'counts p50':>10} {'p95':>7}   {'rows p50':>9} {'p95':>7}")

        def line(what, counted, aggregated=None):
            c50, c95 = _timed(counted, args.requests)
            text = f"{what:<34} {c50:10.1f} {c95:7.1f}"
            if aggregated is not None:
                r50, r95 = _timed(aggregated, args.requests)
                text += f"   {r50:9.1f} {r95:7.1f}"
            print(text, flush=True)
            return c95

        line(
            "cards and charts",
            lambda: selectors.dashboard_figures(today=today),
            lambda: _from_the_rows(today),
        )
        line(
            "answer tables",
            selectors.open_deviation_answer_counts,
            _answers_from_the_rows,
        )
        line(
            "answer tables, red",
            lambda: selectors.open_deviation_answer_counts(severity="red"),
            lambda: _answers_from_the_rows(severity="red"),
        )
        client = Client()
        client.force_login(User.objects.get(username="supervisor"))
        worst = 0.0
        for what, path in [
            ("page /dashboard/", "/dashboard/"),
            ("page, red deviations", "/dashboard/?severity=red&sort=-delay"),
        ]:
            worst = max(worst, line(what, lambda path=path: client.get(path)))

        ids = list(
            Application.objects.filter(state__in=WORK_STATES)
            .order_by("pk")
            .values_list("pk", flat=True)[: args.batch]
        )

        def keep_counts():
            # As the sweep calls it: its batch holds the rows already.
            with transaction.atomic():
                dashboard_counts.after(dashboard_counts.before(ids, locked=True))

        tomorrow = timezone.now() + timedelta(days=1)

        def sweep_batch():
            with transaction.atomic():
                deviation_sweep_batch(application_ids=ids, now=tomorrow)
                transaction.set_rollback(True)

        print(f"\nkeeping the counts for a batch of {len(ids)} applications:")
        line("  share read before and after", keep_counts)
        line("  the batch analysed again", sweep_batch)
        differences = dashboard_counts.dashboard_counts_check()
        print(f"\ncounts against a recount of the rows: {len(differences)} differences")
        verdict = "met" if worst <= TARGET_P95_MS else "NOT met"
        print(f"dashboard page p95 {worst:.1f} ms: target {TARGET_P95_MS:.0f} ms {verdict}")
        print(f"load average {os.getloadavg()}")
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
