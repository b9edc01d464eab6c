"""Time and measure the critical paths of a "ladder" network, listed in full and bounded.

Run ``python -m benchmarks.ladder [--stages 20] [--listed 20] [--bounded-only]`` (no Django
settings needed: only the pure engine is used). A ladder of k stages of two equal parallel
activities has 2^k critical paths. For each way it prints the seconds, the peak memory
traced by :mod:`tracemalloc` and the size of the JSON answer:

- in full: every critical path listed (what ``POST /api/v1/schedule/compute/`` answered
  before its paths were bounded; ``compute_schedule`` still prints them all);
- bounded: the count by dynamic programming and the first ``--listed`` paths (what the
  endpoint answers now).

tracemalloc slows allocation down, so the seconds are higher than without it; the ratio
between the two ways is what matters. The full listing of k = 20 takes seconds and hundreds
of megabytes: use ``--bounded-only`` to skip it.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from scheduling.cpm import load_network


def ladder(stages: int) -> dict[str, Any]:
    """Return the JSON of ``stages`` stages of two equal parallel activities."""
    activities = []
    previous: list[str] = []
    for stage in range(stages):
        pair = [f"S{stage:02d}{side}" for side in "ab"]
        activities += [
            {"id": activity, "duration": 1, "predecessors": previous} for activity in pair
        ]
        previous = pair
    return {"activities": activities}


def in_full(network: dict[str, Any], listed: int) -> str:
    return json.dumps(load_network(network).evaluate().as_dict())


def bounded(network: dict[str, Any], listed: int) -> str:
    schedule = load_network(network).evaluate()
    result = schedule.as_dict(critical_paths=schedule.critical.first(listed))
    result["critical_path_count"] = schedule.critical.count
    result["critical_paths_truncated"] = schedule.critical.count > listed
    return json.dumps(result)


def measure(way: Callable[[dict[str, Any], int], str], network: dict, listed: int) -> tuple:
    """Return (seconds, peak bytes traced, answer bytes) of one run of ``way``."""
    tracemalloc.start()
    started = time.perf_counter()
    answer = way(network, listed)
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak, len(answer.encode())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=int, default=20)
    parser.add_argument("--listed", type=int, default=20)
    parser.add_argument("--bounded-only", action="store_true")
    args = parser.parse_args(argv)
    network = ladder(args.stages)
    body = len(json.dumps(network).encode())
    print(f"ladder of {args.stages} stages: {2 * args.stages} activities, {body:,} bytes")
    ways = (
        [("bounded", bounded)]
        if args.bounded_only
        else [("in full", in_full), ("bounded", bounded)]
    )
    for label, way in ways:
        seconds, peak, size = measure(way, network, args.listed)
        print(
            f"{label:>8}: {seconds:8.3f} s  peak {peak / 2**20:9.1f} MiB  "
            f"answer {size / 2**20:9.3f} MiB"
        )


if __name__ == "__main__":
    main()
