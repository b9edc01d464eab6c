"""Time the compiled CPM engine against the plain way, and its growth with the network size.

Run ``python -m benchmarks.cpm`` (no Django settings needed: only pure modules are used).
For the default template (``examples/networks/hv-single-10kv.json``, 16 activities) and for
a generated AON network of 2,000 activities (a seeded random DAG, each activity after the
first with 1 to 3 predecessors among the earlier ones), it prints the microseconds per
schedule of

- the compiled engine: :func:`scheduling.cpm.load_network` once, then
  :meth:`~scheduling.cpm.CompiledNetwork.evaluate` many times;
- the plain way: each time a networkx ``DiGraph`` is built, sorted with
  ``nx.topological_sort`` and both passes, the floats and the critical paths are computed in
  Python over it,

with the ratio plain/compiled for both sizes and the ratio of the 2,000-activity time to the
16-activity time of the compiled engine. Each figure is the best of several rounds, so that
another process on the machine slows a round down rather than the result. Both ways are
checked to give the same schedule before they are timed.

The plain way is handed the activity-level logic of the template (the AOA dummies already
resolved), which only flatters it.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx

from scheduling.cpm import CompiledNetwork, load_network

TEMPLATE = Path(__file__).resolve().parent.parent / "examples" / "networks" / "hv-single-10kv.json"

TARGET_TEMPLATE_SPEEDUP = 5.0
TARGET_GROWTH = 150.0

# {id: (duration, [(predecessor id, lag), ...])}: the input of the plain way.
Plain = dict[str, tuple[int, list[tuple[str, int]]]]


def generated_network(size: int, seed: int) -> dict[str, Any]:
    """Return the JSON of a random AON network of ``size`` activities.

    Activity ``i`` (after the first) has 1 to 3 predecessors among activities ``0..i-1``,
    one link in ten with a lag of 1 or 2 days; durations are 1 to 10 days.
    """
    rng = random.Random(seed)
    activities = []
    for i in range(size):
        preds = rng.sample(range(i), min(i, rng.randint(1, 3)))
        activities.append(
            {
                "id": f"T{i:04d}",
                "duration": rng.randint(1, 10),
                "predecessors": [
                    {"id": f"T{p:04d}", "lag": rng.randint(1, 2) if rng.random() < 0.1 else 0}
                    for p in sorted(preds)
                ],
            }
        )
    return {"name": f"generated, {size} activities, seed {seed}", "activities": activities}


def plain_input(compiled: CompiledNetwork) -> Plain:
    """Return the activity-level logic and durations of a compiled network."""
    return {
        activity: (
            compiled.spec(activity).duration,
            [(link.id, link.lag) for link in compiled.predecessors(activity)],
        )
        for activity in compiled.ids
    }


def plain_schedule(activities: Plain, planned_duration: int | None = None) -> dict[str, Any]:
    """Return the CPM schedule computed the plain way: a fresh networkx graph every time."""
    graph = nx.DiGraph()
    for activity, (duration, preds) in activities.items():
        graph.add_node(activity, duration=duration)
        for pred, lag in preds:
            graph.add_edge(pred, activity, lag=lag)
    order = list(nx.topological_sort(graph))
    nodes, edges = graph.nodes, graph.edges
    es: dict[str, int] = {}
    ef: dict[str, int] = {}
    for a in order:
        es[a] = max((ef[p] + edges[p, a]["lag"] for p in graph.predecessors(a)), default=0)
        ef[a] = es[a] + nodes[a]["duration"]
    tc = max(ef.values())
    tp = tc if planned_duration is None else planned_duration
    ls: dict[str, int] = {}
    lf: dict[str, int] = {}
    for a in reversed(order):
        lf[a] = min((ls[s] - edges[a, s]["lag"] for s in graph.successors(a)), default=tp)
        ls[a] = lf[a] - nodes[a]["duration"]
    tf = {a: ls[a] - es[a] for a in order}
    ff = {
        a: min((es[s] - edges[a, s]["lag"] for s in graph.successors(a)), default=tp) - ef[a]
        for a in order
    }
    least = min(tf.values())
    critical = {a: tf[a] == least for a in order}
    paths: list[list[str]] = []
    for start in order:
        if not critical[start] or any(
            critical[p] and es[start] == ef[p] + edges[p, start]["lag"]
            for p in graph.predecessors(start)
        ):
            continue
        stack = [[start]]
        while stack:
            path = stack.pop()
            last = path[-1]
            tight = [
                s
                for s in graph.successors(last)
                if critical[s] and es[s] == ef[last] + edges[last, s]["lag"]
            ]
            if not tight:
                paths.append(path)
            stack.extend([*path, s] for s in tight)
    return {
        "duration": tc,
        "planned_duration": tp,
        "critical_paths": sorted(paths),
        "activities": {
            a: {
                "es": es[a],
                "ef": ef[a],
                "ls": ls[a],
                "lf": lf[a],
                "tf": tf[a],
                "ff": ff[a],
                "critical": critical[a],
            }
            for a in activities
        },
    }


def best_microseconds(run: Callable[[], object], *, rounds: int, round_seconds: float) -> float:
    """Return the best, over ``rounds`` rounds, of the mean time of one call in µs."""
    calls = 1
    while True:  # calibrate: enough calls to fill about one round
        start = time.perf_counter()
        for _ in range(calls):
            run()
        elapsed = time.perf_counter() - start
        if elapsed >= round_seconds / 4:
            break
        calls *= 2
    calls = max(1, round(calls * round_seconds / elapsed))
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            run()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def measure(
    label: str, data: dict[str, Any], *, rounds: int, round_seconds: float
) -> dict[str, Any]:
    """Time both ways on one network, after checking that they agree."""
    compiled = load_network(data)
    plain = plain_input(compiled)
    expected = compiled.evaluate().as_dict()
    expected.pop("events", None)
    if plain_schedule(plain, compiled.planned_duration) != expected:
        raise AssertionError(f"{label}: the plain way and the compiled engine disagree")
    return {
        "label": label,
        "size": len(compiled.ids),
        "compiled": best_microseconds(
            compiled.evaluate, rounds=rounds, round_seconds=round_seconds
        ),
        "plain": best_microseconds(
            lambda: plain_schedule(plain, compiled.planned_duration),
            rounds=rounds,
            round_seconds=round_seconds,
        ),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cpm", description=__doc__)
    parser.add_argument("--size", type=int, default=2000, help="activities of the large network")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the large network")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per figure (best is kept)")
    parser.add_argument("--round-seconds", type=float, default=0.25, help="length of a round")
    args = parser.parse_args(argv)

    timing = {"rounds": args.rounds, "round_seconds": args.round_seconds}
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    rows = [
        measure("default template hv-single-10kv", template, **timing),
        measure(
            f"generated AON, seed {args.seed}", generated_network(args.size, args.seed), **timing
        ),
    ]

    print(f"CPM schedule, µs per schedule (best of {args.rounds} rounds)")
    print(
        f"{'network':<34} {'activities':>10} {'compiled':>10} {'plain':>10} {'plain/compiled':>15}"
    )
    for row in rows:
        print(
            f"{row['label']:<34} {row['size']:>10} {row['compiled']:>10.1f} {row['plain']:>10.1f} "
            f"{row['plain'] / row['compiled']:>14.1f}×"
        )
    small, large = rows
    speedup = small["plain"] / small["compiled"]
    growth = large["compiled"] / small["compiled"]
    met = {True: "met", False: "MISSED"}
    print()
    print(
        f"template, plain/compiled:   {speedup:7.1f}×  "
        f"(target ≥ {TARGET_TEMPLATE_SPEEDUP:g}×: {met[speedup >= TARGET_TEMPLATE_SPEEDUP]})"
    )
    print(
        f"compiled, {large['size']} / {small['size']} activities: {growth:7.1f}×  "
        f"(target ≤ {TARGET_GROWTH:g}×: {met[growth <= TARGET_GROWTH]})"
    )


if __name__ == "__main__":
    main()
