"""Level every region of a province through Celery workers, as the sweep's fan-out does.

Run ``python -m benchmarks.province [--applications 10000 100000] [--regions 20]
[--workers 2] [--database-url URL] [--redis-url URL] [--keep] [--reuse]``.

For each N it seeds N applications in the work states with the default template, as
``benchmarks.sweep`` does and into the same scratch database ``<name>_<N>`` (so a database
kept by either is reused by the other with ``--reuse``). Then, on a fresh copy:

1. the applications are spread over ``--regions`` service regions (the demo's own and new
   ones), round robin by id, and every region gets the demo's crews sized as ``seed_demo``
   sizes them for its share (``demo.crews``: room for twice the average work, so queues
   form where the work bunches);
2. the parts of one region's task, in one process: reading and forecasting its
   applications, the levelling itself, storing the results, the measures that would relieve
   the queues (each a levelling of the region again) and storing those;
3. through a Celery worker with one process, then on another fresh copy with ``--workers``
   processes: one ``applications.tasks.level_region`` task per region sent to the worker's
   own queue, timed from the first sent to the last result.

Target (issue: shared capacity): 100,000 applications over 20 regions levelled in ≤ 60 s
with 2 workers on this 2-core machine, linear in the number of activities (the time per
1,000 activity rows of 10,000 and of 100,000 printed side by side).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from argparse import Namespace
from datetime import date

from benchmarks import sweep

TARGET_SECONDS = 60.0
TARGET_APPLICATIONS = 100_000
TARGET_REGIONS = 20
RESULT = sweep.RESULT


# --- The measured processes -------------------------------------------------------------------


def phase_split(args) -> dict:
    """Spread the work over ``args.regions`` regions with crews sized to their share."""
    from django.db import transaction
    from django.db.models import Count

    from accounts.models import Region
    from applications.models import WORK_STATES, Application
    from demo.crews import FIT, SPAN_DAYS, WORK_DAYS, demo_crews_load
    from scheduling.models import Activity, Crew

    with transaction.atomic():
        regions = list(Region.objects.filter(is_active=True).order_by("pk"))
        for n in range(len(regions), args.regions):
            regions.append(Region.objects.create(code=f"bench-{n + 1}", name=f"测试供电区{n + 1}"))
        regions = regions[: args.regions]
        Region.objects.exclude(pk__in=[r.pk for r in regions]).update(is_active=False)
        ids = list(
            Application.objects.filter(state__in=WORK_STATES)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for index, region in enumerate(regions):
            Application.objects.filter(pk__in=ids[index :: len(regions)]).update(region=region)
        demo_crews_load()
        work = dict(
            Application.objects.filter(state__in=WORK_STATES)
            .values_list("region")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for crew in Crew.objects.filter(region__in=regions):
            share = FIT * work.get(crew.region_id, 0) * WORK_DAYS[crew.kind] / SPAN_DAYS
            Crew.objects.filter(pk=crew.pk).update(capacity=max(1, round(share)))
    return {
        "regions": [r.pk for r in regions],
        "applications": sum(work.values()),
        "largest": max(work, key=work.get),
        "per_region": sorted(work.values()),
        "activities": Activity.objects.filter(application__state__in=WORK_STATES).count(),
        "crews": Crew.objects.filter(region__in=regions, is_active=True).count(),
    }


def phase_parts(args) -> dict:
    """Time the parts of one region's task (the largest region) in this process."""
    from django.conf import settings

    from accounts.models import Region
    from applications import capacity
    from scheduling import levelling

    region = Region.objects.get(pk=args.region)
    sweep._warm_up(args.today)
    parts = {}
    started = time.perf_counter()
    result = capacity.region_levelling(region, today=args.today)
    parts["read, forecast and level"] = time.perf_counter() - started
    started = time.perf_counter()
    levelling.level(
        result.projects,
        list(result.resources.values()),
        weekday_of=result.weekday_of,
        important_first=settings.LEVELLING_IMPORTANT_FIRST,
    )
    parts["of which the levelling (again)"] = time.perf_counter() - started
    started = time.perf_counter()
    capacity.capacity_forecasts_store(result)
    parts["store the forecasts and loads"] = time.perf_counter() - started
    started = time.perf_counter()
    effects = capacity.capacity_measures(result)
    parts[f"measures ({len(effects)} what-ifs)"] = time.perf_counter() - started
    started = time.perf_counter()
    capacity.capacity_measures_store(result, effects)
    parts["store the measures"] = time.perf_counter() - started
    return {"applications": len(result.projects), "parts": parts}


def phase_level(args) -> dict:
    """Level every region through the running worker; time it until every task is done."""
    from celery import group

    from applications.tasks import level_region

    sweep.wait_for_worker(args.worker_name, "benchmarks.province")
    regions = json.loads(args.region_ids)
    started = time.perf_counter()
    sent = group(level_region.s(r, args.today.isoformat()) for r in regions).apply_async(
        queue=args.worker_queue
    )
    results = sent.get(timeout=3600, interval=0.05)
    elapsed = time.perf_counter() - started
    sent.forget()
    return {
        "seconds": elapsed,
        "applications": sum(r["applications"] for r in results),
        "delayed": sum(r["delayed"] for r in results),
        "measures": sum(r.get("measures", 0) for r in results),
    }


PHASES = {"split": phase_split, "parts": phase_parts, "level": phase_level}


def _child(phase: str, url: str, args, **extra) -> dict:
    command = ["--database-url", url, "--today", args.today.isoformat(), "--regions"]
    command += [str(args.regions), "--redis-url", args.redis_url]
    return sweep.run_child("benchmarks.province", phase, command, **extra)


def _seed_arguments(args) -> Namespace:
    """The arguments benchmarks.sweep's seeding step reads."""
    return Namespace(
        batch_size=None,
        seed=args.seed,
        today=args.today,
        states="work",
        templates="default",
        redis_url=args.redis_url,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.province",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sweep.add_scratch_arguments(parser)
    parser.add_argument(
        "--regions", type=int, default=TARGET_REGIONS, help="service regions (default: 20)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        metavar="K",
        help="the worker processes compared with one (default: one per core)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14",
        help="the broker and result backend (default: REDIS_URL, else redis://127.0.0.1:6379/14)",
    )
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=sweep.DEFAULT_TODAY,
        help=f"the day seeded up to and levelled as of (default {sweep.DEFAULT_TODAY})",
    )
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--region", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--region-ids", default="[]", help=argparse.SUPPRESS)
    parser.add_argument("--worker-name", default="", help=argparse.SUPPRESS)
    parser.add_argument("--worker-queue", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.regions <= 200:
        parser.error("--regions must be from 1 to 200")
    if args.workers < 1 or any(n < 1 for n in args.applications):
        parser.error("--workers and --applications must be at least 1")
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url: a PostgreSQL URL is needed (postgres://USER@HOST/NAME)")
    if args.phase:
        # Setting up crews asks for their regions to be levelled when it commits: those
        # messages go to a broker folder of this process's own, which nothing reads.
        os.environ["YEKUO_VAR_DIR"] = tempfile.mkdtemp(prefix="province-bench-")
        sweep._django(args.database_url, args.redis_url if args.phase == "level" else "")
        print(RESULT + json.dumps(PHASES[args.phase](args), default=str), flush=True)
        return

    base = sweep._name(args.database_url)
    server = sweep.Server(args.database_url)
    copy = f"{base}_province"
    copy_url = sweep._with_name(args.database_url, copy)
    print(
        f"Levelling a province through Celery workers: PostgreSQL {server.version()}, "
        f"{args.regions} regions, as of {args.today}"
    )
    sweep._print_load()
    started = time.perf_counter()
    seeded_names, figures = [], {}
    try:
        for n in sorted(args.applications):
            seeded_name = f"{base}_{n}"
            seeded_names.append(seeded_name)
            seeded_url = sweep._with_name(args.database_url, seeded_name)
            if not (args.reuse and server.exists(seeded_name)):
                server.create(seeded_name)
                sweep._child("seed", seeded_url, _seed_arguments(args), count=n)
            runs = {}
            for concurrency in sorted({1, args.workers}):
                server.create(copy, template=seeded_name)
                split = _child("split", copy_url, args)
                server.analyze(copy)
                if concurrency == 1:
                    parts = _child("parts", copy_url, args, region=split["largest"])
                    # The parts stored that region: start the workers from the seeded state.
                    server.create(copy, template=seeded_name)
                    split = _child("split", copy_url, args)
                    server.analyze(copy)
                worker = sweep.Worker(copy_url, args.redis_url, concurrency)
                try:
                    runs[concurrency] = _child(
                        "level",
                        copy_url,
                        args,
                        region_ids=json.dumps(split["regions"]),
                        worker_name=worker.name,
                        worker_queue=worker.queue,
                    )
                finally:
                    worker.stop()
                server.drop(copy)
            figures[n] = (split, parts, runs)
            _report(n, split, parts, runs, args.workers)
    finally:
        server.drop(copy)
        if not args.keep:
            for name in seeded_names:
                server.drop(name)
    _verdict(figures, args)
    print(f"\nWhole run: {time.perf_counter() - started:.0f} s")


def _report(n: int, split: dict, parts: dict, runs: dict, workers: int) -> None:
    sizes = split["per_region"]
    print()
    print(
        f"N = {n:,}: {split['applications']:,} applications in progress, "
        f"{split['activities']:,} activity rows, {len(split['regions'])} regions of "
        f"{sizes[0]:,}–{sizes[-1]:,} applications, {split['crews']} crews"
    )
    print(f"  one region's task in one process ({parts['applications']:,} applications):")
    for name, seconds in parts["parts"].items():
        print(f"    {name:<34} {seconds:7.2f} s")
    for concurrency, run in sorted(runs.items()):
        per_k = 1000 * run["seconds"] / max(1, split["activities"])
        print(
            f"  worker ×{concurrency}: every region levelled in {run['seconds']:.1f} s "
            f"({run['applications']:,} applications stored, {run['delayed']:,} delayed by a "
            f"queue, {run['measures']} measures proposed; {per_k * 1000:.1f} ms per 1,000 "
            "activity rows)"
        )
    if workers in runs and workers != 1:
        print(
            f"  speed-up of ×{workers} over ×1: {runs[1]['seconds'] / runs[workers]['seconds']:.2f}"
        )


def _verdict(figures: dict, args) -> None:
    print()
    met = {True: "met", False: "MISSED"}
    largest = max(figures)
    split, _parts, runs = figures[largest]
    seconds = runs[args.workers]["seconds"]
    if largest >= TARGET_APPLICATIONS and args.regions == TARGET_REGIONS and args.workers == 2:
        print(
            f"Target: {TARGET_APPLICATIONS:,} applications over {TARGET_REGIONS} regions with "
            f"2 workers in ≤ {TARGET_SECONDS:.0f} s: {seconds:.1f} s "
            f"({met[seconds <= TARGET_SECONDS]})"
        )
    else:
        print(
            f"Target: needs --applications {TARGET_APPLICATIONS} --regions {TARGET_REGIONS} "
            f"--workers 2 (this run: {seconds:.1f} s for {largest:,})"
        )
    if len(figures) > 1:
        small = min(figures)
        rate = {
            n: 1000 * figures[n][2][args.workers]["seconds"] / figures[n][0]["activities"]
            for n in (small, largest)
        }
        print(
            f"Linear in the activities: {rate[small] * 1000:.1f} ms per 1,000 rows at "
            f"N = {small:,}, {rate[largest] * 1000:.1f} ms at N = {largest:,} "
            f"(ratio {rate[largest] / rate[small]:.2f}; 1.0 is linear)"
        )


if __name__ == "__main__":
    main()
