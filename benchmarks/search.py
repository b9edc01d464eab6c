"""Time the search of the workspace and of the API at up to a million applications.

Run ``python -m benchmarks.search [--applications 1000000] [--database-url URL]
[--requests 30] [--keep] [--reuse]``.

It creates a scratch PostgreSQL database beside the one ``URL`` (or ``DATABASE_URL``)
names, migrates it and loads the demo people and 2,000 demo applications (``seed_demo``'s
loader). Search reads only the applications and their customers, so the rest of the N are
copies of those 2,000 rows, each with a new number and a new customer drawn by the demo's
own name and credit-code generator, written with COPY (about a minute per million). Then,
for texts a person types — two and four Chinese characters of a name, common and rare, a
fragment of a number and of a credit code, a text nobody has — it times, with the
database's answer only (the ORM's queries for the workspace's first page and its count,
exact up to ``API_EXACT_COUNT_LIMIT`` and PostgreSQL's estimate beyond):

- ``now``: ``applications.search.search_applications`` (candidates through the trigram
  and character-pair indexes of migration ``applications.0017``, then the page by key);
- ``one filter``: the condition as one OR over the application joined to its customer
  (what the search was before), with the same indexes present.

It prints the 50th and 95th percentiles in milliseconds and the matches of each text. The
target: p95 ≤ 100 ms at 1,000,000 applications for every text.
"""

from __future__ import annotations

import io
import os
import random
import statistics
import sys
import time

from benchmarks.pages import (
    _admin,
    _percentile,
    parse_scratch_arguments,
    scratch_arguments,
    scratch_url,
)

TARGET_P95_MS = 100.0
BASE = 2_000
CHUNK = 50_000


def _arguments(argv):
    parser = scratch_arguments(
        "python -m benchmarks.search", __doc__, applications=100_000, requests=30
    )
    return parse_scratch_arguments(parser, argv)


def _columns(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "AND column_name <> 'id' ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def _copies(count: int, seed: int) -> None:
    """Add ``count`` applications, each a copy of a seeded one with a new number and a new
    customer (name and credit code drawn by the demo's generator)."""
    from django.db import connection, transaction

    from demo import applications as demo

    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT credit_code FROM applications_customer")
        used_codes = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT a.id, a.voltage_class, r.code FROM applications_application a "
            "JOIN accounts_region r ON r.id = a.region_id ORDER BY a.id"
        )
        models = cursor.fetchall()
        customer_columns = [
            c for c in _columns(cursor, "applications_customer") if c not in ("name", "credit_code")
        ]
        application_columns = [
            c
            for c in _columns(cursor, "applications_application")
            if c not in ("number", "customer_id")
        ]
    started = time.perf_counter()
    for first in range(0, count, CHUNK):
        rows = io.StringIO()
        used_names: set[str] = set()  # names may repeat between chunks, as in life
        for i in range(first, min(count, first + CHUNK)):
            model_id, voltage_class, region_code = models[i % len(models)]
            customer = demo._customer(
                rng,
                voltage_class=voltage_class,
                region_code=region_code,
                used_codes=used_codes,
                used_names=used_names,
            )
            rows.write(
                f"{i}\t{model_id}\tYKB{i:09d}\t{customer['name']}\t{customer['credit_code']}\n"
            )
        copied_customer = ", ".join(f"c.{c}" for c in customer_columns)
        copied_application = ", ".join(f"a.{c}" for c in application_columns)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE copies (i integer, model_id bigint, number text, name text,"
                " credit_code text, customer_id bigint) ON COMMIT DROP"
            )
            with cursor.copy(
                "COPY copies (i, model_id, number, name, credit_code) FROM STDIN"
            ) as copy:
                copy.write(rows.getvalue())
            cursor.execute(
                "WITH made AS ("
                " INSERT INTO applications_customer"
                f" (name, credit_code, {', '.join(customer_columns)})"
                f" SELECT t.name, t.credit_code, {copied_customer} FROM copies t"
                " JOIN applications_application m ON m.id = t.model_id"
                " JOIN applications_customer c ON c.id = m.customer_id"
                " RETURNING id, credit_code)"
                " UPDATE copies SET customer_id = made.id FROM made"
                " WHERE made.credit_code = copies.credit_code"
            )
            cursor.execute(
                "INSERT INTO applications_application"
                f" (number, customer_id, {', '.join(application_columns)})"
                f" SELECT t.number, t.customer_id, {copied_application} FROM copies t"
                " JOIN applications_application a ON a.id = t.model_id"
            )
        done = min(count, first + CHUNK)
        print(f"  copies: {done}/{count} ({time.perf_counter() - started:.0f} s)", flush=True)


def _texts() -> list[tuple[str, str]]:
    """(what, text) of the searches timed, drawn from the loaded rows."""
    from applications.models import Application, Customer

    common = "有限"
    from applications.models import ACTIVE_STATES

    active = Customer.objects.filter(applications__state__in=ACTIVE_STATES).order_by("pk")
    middle = min(BASE, active.count()) // 2
    name, credit_code = active.values_list("name", "credit_code")[middle]
    rare_pair = (
        next(
            name[i : i + 2]
            for i in range(len(name) - 1)
            if Customer.objects.filter(name__contains=name[i : i + 2]).count() < 500
        )
        if Customer.objects.count() < 200_000
        else name[2:4]
    )
    number = Application.objects.order_by("-pk").values_list("number", flat=True)[0]
    return [
        ("2 characters, common", common),
        ("2 characters of a name", rare_pair),
        ("4 characters of a name", name[2:6]),
        ("whole name", name),
        ("number fragment", number[-6:]),
        ("credit code fragment", credit_code[-8:]),
        ("nobody's text", "电力铁塔"),
        ("number beginning", "YK"),
    ]


def _one_filter(queryset, text: str):
    from django.db.models import Q

    return queryset.filter(
        Q(number__icontains=text)
        | Q(customer__name__icontains=text)
        | Q(customer__credit_code__icontains=text)
    )


def _time(search, user, text: str, requests: int) -> tuple[float, float, int]:
    from applications.selectors import WORKSPACE_PAGE_SIZE, workspace_applications
    from yekuo.api.pagination import BoundedCountPaginator

    def once() -> int:
        # The workspace's first page and its count, as the page takes them.
        queryset = search(workspace_applications(user), text)
        page = BoundedCountPaginator(queryset, WORKSPACE_PAGE_SIZE).get_page(1)
        list(page.object_list)
        return page.paginator.count

    matches = once()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        once()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), _percentile(times, 0.95), matches


def main(argv=None) -> int:
    args = _arguments(argv)
    url, name, maintenance = scratch_url(args.database_url, "_search")
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
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from accounts.models import User
        from applications.models import Application
        from applications.search import search_applications
        from demo import applications as demo_applications
        from demo import people

        call_command("migrate", verbosity=0)
        if not args.reuse:
            people.demo_people_load()
            base = min(BASE, args.applications)
            demo_applications.demo_applications_load(
                count=base, seed=args.seed, today=timezone.localdate()
            )
            _copies(args.applications - base, args.seed)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE applications_customer")
            cursor.execute("VACUUM ANALYZE applications_application")
        count = Application.objects.count()
        supervisor = User.objects.get(username="supervisor")
        print(
            f"\n{count} applications; the supervisor's workspace searched, {args.requests} "
            f"times each (page of 25 and count); load {os.getloadavg()[0]:.1f}; "
            f"target p95 ≤ {TARGET_P95_MS:.0f} ms"
        )
        print(
            f"{'text':<26} {'matches':>8} {'now p50':>8} {'p95':>8}"
            f" {'one filter p50':>15} {'p95':>8}"
        )
        worst = 0.0
        for what, text in _texts():
            p50, p95, matches = _time(search_applications, supervisor, text, args.requests)
            old50, old95, _matches = _time(
                _one_filter, supervisor, text, max(3, args.requests // 10)
            )
            worst = max(worst, p95)
            print(
                f"{what:<26} {matches:8d} {p50:8.1f} {p95:8.1f} {old50:15.1f} {old95:8.1f}",
                flush=True,
            )
        verdict = "met" if worst <= TARGET_P95_MS else "NOT met"
        print(f"worst p95 {worst:.1f} ms; target {verdict} (load {os.getloadavg()[0]:.1f})")
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
