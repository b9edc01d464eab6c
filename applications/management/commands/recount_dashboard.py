"""Count the dashboard's figures again from the rows, or check the kept counts."""

from django.core.management.base import BaseCommand, CommandError

from applications.dashboard_counts import dashboard_counts_check, dashboard_counts_recount

# Exit status of ``--check`` when a count differs from the rows.
EXIT_DIFFERENT = 1


class Command(BaseCommand):
    help = (
        "Count the unresolved deviations and active applications the supervisors' dashboard "
        "shows again from their rows and store the counts (a repair); with --check, only "
        "compare the kept counts with the rows and list every difference."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Compare only; exit 1 when a count differs from the rows.",
        )

    def handle(self, *args, check=False, **options):
        if check:
            differences = dashboard_counts_check()
            for d in differences:
                self.stdout.write(f"{d.table} {d.key}: kept {d.stored}, rows say {d.counted}")
            if differences:
                raise CommandError(
                    f"{len(differences)} counts differ from the rows: run recount_dashboard",
                    returncode=EXIT_DIFFERENT,
                )
            self.stdout.write(self.style.SUCCESS("The dashboard's counts match the rows."))
            return
        deviation_keys, application_keys = dashboard_counts_recount()
        self.stdout.write(
            self.style.SUCCESS(
                f"Counted again: {deviation_keys} deviation keys, {application_keys} "
                "application keys."
            )
        )
