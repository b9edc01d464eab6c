"""Time the levelling of shared capacity (scheduling.levelling) over many applications.

Run ``python -m benchmarks.levelling [--applications 10000 100000] [--regions 20]
[--processes 2]`` (pure modules only: no Django settings needed).

Each application is the default template (``examples/networks/hv-single-10kv.json``, 16
activities and a dummy), accepted on one of the last 150 working days and recorded as
planned up to today (finished activities, one running, the rest to come). Per region the
applications share five resources: the survey crew (C, 现场勘查, and J), the design crew
(F), the inspection crew (L), the metering crew (P), each with room for about 80 % of what
the region's applications ask of it, and the weekly review meeting (G, Wednesdays) with
slots for most of a week's plans: enough queueing for the scheme to work at.

It prints, for each N: the activities placed, the seconds of levelling all of them in one
process (N = 10,000 in one region: target ≤ 10 s), and per thousand activities (linear in
N when that stays flat); then for the largest N, the regions levelled by ``--processes``
processes at once (each region is independent: the unit a Celery worker takes), against
the target of ≤ 60 s for 100,000 applications over 20 regions with 2 workers.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from scheduling.cpm import Progress, load_network
from scheduling.levelling import Project, Resource, level

TEMPLATE = Path(__file__).resolve().parent.parent / "examples" / "networks" / "hv-single-10kv.json"
TARGET_ONE_REGION = 10.0  # seconds for 10,000 applications in one region, one process
TARGET_PROVINCE = 60.0  # seconds for 100,000 over 20 regions with 2 workers
TODAY = 150  # the global working day levelled as of
CREWS = {"survey": ("C", "J"), "design": ("F",), "inspection": ("L",), "metering": ("P",)}
MEETING_WEEKDAY = 2


def weekday_of(day: int) -> int:
    return day % 5


def _projects(count: int, seed: int, region: int) -> list[Project]:
    compiled = load_network(json.loads(TEMPLATE.read_text(encoding="utf-8")))
    plan = compiled.evaluate()
    rng = random.Random(f"{seed}:{region}")
    demands = {code: {f"{kind}-{region}": 1} for kind, codes in CREWS.items() for code in codes}
    demands["G"] = {f"meeting-{region}": 1}
    projects = []
    for n in range(count):
        day0 = rng.randrange(0, TODAY)
        as_of = TODAY - day0
        progress = {}
        for code, times in plan.activities.items():
            if times.ef <= as_of:
                progress[code] = Progress(times.es, times.ef)
            elif times.es < as_of:
                progress[code] = Progress(actual_start=times.es)
        committed = plan.duration + rng.randrange(0, 6)
        projects.append(
            Project(
                key=(region, n),
                compiled=compiled,
                day0=day0,
                as_of=as_of,
                progress=progress,
                planned_duration=committed,
                committed=committed,
                meeting_weekday=MEETING_WEEKDAY,
                demands=demands,
            )
        )
    return projects


def _resources(count: int, region: int) -> list[Resource]:
    # Each application asks about one activity-day of each crew per 150 working days per
    # activity-day of its work there: room for 80 % of it a day.
    per_day = count / TODAY
    work = {"survey": 1 + 3, "design": 4, "inspection": 3, "metering": 1}
    resources = [
        Resource(f"{kind}-{region}", max(1, round(0.8 * per_day * days)))
        for kind, days in work.items()
    ]
    resources.append(
        Resource(f"meeting-{region}", max(1, round(0.9 * per_day * 5)), weekday=MEETING_WEEKDAY)
    )
    return resources


def level_region(count: int, seed: int, region: int) -> tuple[int, float, int]:
    """Level one region of ``count`` applications; return (activities, seconds, delayed)."""
    projects = _projects(count, seed, region)
    resources = _resources(count, region)
    started = time.perf_counter()
    found = level(projects, resources, weekday_of=weekday_of)
    seconds = time.perf_counter() - started
    activities = sum(len(p.compiled.ids) for p in projects)
    delayed = sum(1 for p in found.projects.values() if p.delay > 0)
    return activities, seconds, delayed


def _count(value: str) -> int:
    try:
        number = int(value, 10)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {value!r}")
    return number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.levelling", description=__doc__)
    parser.add_argument(
        "--applications", type=_count, nargs="+", default=[10_000, 100_000], metavar="N"
    )
    parser.add_argument("--regions", type=_count, default=20, metavar="R")
    parser.add_argument("--processes", type=_count, default=2, metavar="P")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    met = {True: "met", False: "MISSED"}
    print("Levelling shared capacity, serial schedule generation, one process")
    print(f"{'applications':>12} {'activities':>11} {'seconds':>8} {'ms/1000 act.':>13} delayed")
    for n in sorted(args.applications):
        activities, seconds, delayed = level_region(n, args.seed, 0)
        per_thousand = 1000 * 1000 * seconds / activities
        print(f"{n:>12,} {activities:>11,} {seconds:>8.2f} {per_thousand:>13.1f} {delayed:>7,}")
        if n == 10_000:
            print(
                f"  target: 10,000 in one region ≤ {TARGET_ONE_REGION:g} s: "
                f"{met[seconds <= TARGET_ONE_REGION]}"
            )
    largest = max(args.applications)
    per_region = largest // args.regions
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.processes) as pool:
        done = list(
            pool.map(
                level_region,
                [per_region] * args.regions,
                [args.seed] * args.regions,
                range(1, args.regions + 1),
            )
        )
    wall = time.perf_counter() - started
    placed = sum(a for a, _s, _d in done)
    print(
        f"{largest:,} applications over {args.regions} regions, {args.processes} processes: "
        f"{placed:,} activities in {wall:.1f} s (each region {min(s for _a, s, _d in done):.2f}"
        f"–{max(s for _a, s, _d in done):.2f} s, generation included in the wall time)"
    )
    if largest == 100_000 and args.regions == 20 and args.processes == 2:
        print(f"  target: ≤ {TARGET_PROVINCE:g} s with 2 workers: {met[wall <= TARGET_PROVINCE]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
