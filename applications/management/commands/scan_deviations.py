"""Run one deviation sweep in this process and print what it did."""

import time

from django.core.management.base import BaseCommand

from applications.sweep import deviation_sweep


class Command(BaseCommand):
    help = (
        "Forecast every application in progress, upsert its deviations and check its time "
        "limits, in this process; print applications scanned, deviations opened and "
        "resolved by severity, and the time taken."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="Applications per batch (default: the SWEEP_BATCH_SIZE setting).",
        )

    def handle(self, *args, batch_size=None, **options):
        if batch_size is not None and batch_size < 1:
            self.stderr.write("scan_deviations: --batch-size must be at least 1")
            raise SystemExit(2)
        started = time.perf_counter()
        stats = deviation_sweep(batch_size=batch_size)
        elapsed = time.perf_counter() - started

        def by_severity(counter):
            return ", ".join(f"{s} {counter.get(s, 0)}" for s in ("red", "amber", "info"))

        rate = stats.applications / elapsed if elapsed else 0
        self.stdout.write(f"applications scanned: {stats.applications}")
        self.stdout.write(f"unchanged since the last sweep: {stats.unchanged}")
        self.stdout.write(f"deviations opened: {by_severity(stats.opened)}")
        self.stdout.write(f"deviations resolved: {by_severity(stats.resolved)}")
        self.stdout.write(f"deviations updated: {stats.updated}")
        self.stdout.write(f"proposals stored: {stats.proposals}")
        self.stdout.write(f"notifications: {stats.notifications}")
        self.stdout.write(f"elapsed: {elapsed:.2f} s ({rate:.0f} applications/s)")
