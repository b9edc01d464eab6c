"""Time the application page on the database the settings point at.

Run ``python -m applications.page_bench`` after ``python manage.py seed_demo --applications
100000`` (on PostgreSQL: ``DATABASE_URL=...``). For three readers of the demo data — the
supervisor (every application), an account manager (their own and their regions') and
department staff (the applications with their department's work) — it requests the pages
of ``--requests`` applications in progress that the reader may open, through the whole
Django stack in this process (middleware, sessions, the selector, the templates), and
prints the server time per request: p50, p95 and the slowest, against the 200 ms target
for p95. The first request of each reader is not counted (it loads the calendar and the
templates). Run ``ANALYZE`` after seeding: the planner needs current statistics.
"""

from __future__ import annotations

import argparse
import os
import random
import time

TARGET_P95_MS = 200.0
READERS = ["supervisor", "manager", "survey"]
IN_PROGRESS = ["survey", "design", "fees", "construction", "energization"]


def _percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m applications.page_bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=50, help="pages per reader (50)")
    parser.add_argument("--seed", type=int, default=1, help="which applications (1)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yekuo.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from accounts.models import User
    from applications.models import Application
    from applications.selectors import visible_applications

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    total = Application.objects.count()
    print(f"application page, {total} applications, {args.requests} requests per reader")
    rng = random.Random(args.seed)
    worst = 0.0
    for username in READERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            print(f"  {username}: no such user (run seed_demo first)")
            continue
        numbers = list(
            visible_applications(user)
            .filter(state__in=IN_PROGRESS)
            .order_by()
            .values_list("number", flat=True)[: args.requests * 20]
        )
        if not numbers:
            print(f"  {username}: no application in progress to open")
            continue
        sample = [rng.choice(numbers) for _ in range(args.requests + 1)]
        client = Client()
        client.force_login(user)
        times = []
        for i, number in enumerate(sample):
            start = time.perf_counter()
            response = client.get(f"/applications/{number}/")
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{username}: {number} answered {response.status_code}")
            if i:
                times.append(elapsed)
        times.sort()
        p95 = _percentile(times, 0.95)
        worst = max(worst, p95)
        print(
            f"  {username:<11} p50 {_percentile(times, 0.5):6.1f} ms   p95 {p95:6.1f} ms"
            f"   slowest {times[-1]:6.1f} ms"
        )
    verdict = "met" if worst <= TARGET_P95_MS else "MISSED"
    print(f"target p95 <= {TARGET_P95_MS:.0f} ms: {verdict} (worst p95 {worst:.1f} ms)")


if __name__ == "__main__":
    main()
