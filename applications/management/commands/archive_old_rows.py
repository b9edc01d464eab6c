"""Move what is finished with and old enough into the archive tables; print what moved."""

import time
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone

from applications.archiving import archive_cutoff, archive_eligible, archive_old_rows
from yekuo.commands import RefusingCommand

KINDS = ("deviations", "proposals", "notifications", "events", "deliveries")


class Command(RefusingCommand):
    help = (
        "Move resolved deviations, superseded and dismissed proposals, read "
        "notifications and delivered outbound events finished with before a day into "
        "their archive tables, in batches; they stay readable on the application page, "
        "in the API and in the admin. Prints how many rows of each moved (or, with "
        "--dry-run, would move)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--before",
            metavar="YYYY-MM-DD",
            help=(
                "Archive what was finished with before this day (default: ARCHIVE_AFTER_DAYS "
                "days before today). Today at the latest."
            ),
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="Rows per transaction (default: the ARCHIVE_BATCH_SIZE setting).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would move; move nothing."
        )

    def handle(self, *args, before=None, batch_size=None, dry_run=False, **options):
        today = timezone.localdate()
        if before is None:
            cutoff = archive_cutoff(today=today)
        else:
            try:
                day = date.fromisoformat(before)
            except ValueError:
                self.refuse(f"--before must be a day as YYYY-MM-DD, not {before!r}")
            if day > today:
                self.refuse(f"--before {day} is after today ({today}): nothing is finished then")
            cutoff = datetime.combine(
                day, datetime.min.time(), tzinfo=timezone.get_current_timezone()
            )
        if batch_size is not None and batch_size < 1:
            self.refuse("--batch-size must be at least 1")
        self.stdout.write(f"finished with before: {cutoff.date()}")
        started = time.perf_counter()
        if dry_run:
            counts = archive_eligible(before=cutoff)
            verb = "would move"
        else:
            counts = archive_old_rows(before=cutoff, batch_size=batch_size)
            verb = "moved"
        for kind in KINDS:
            self.stdout.write(f"{kind} {verb}: {counts[kind]}")
        size = batch_size or settings.ARCHIVE_BATCH_SIZE
        self.stdout.write(
            f"elapsed: {time.perf_counter() - started:.2f} s (batches of {size} rows)"
        )
