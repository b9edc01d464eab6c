import argparse
from datetime import date, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from demo import people
from yekuo import plausible

EXIT_BAD_INPUT = 2


def _count(value: str) -> int:
    try:
        number = int(value, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 0, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 0, got {value!r}")
    return number


def _seed(value: str) -> int:
    try:
        return int(value, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None


def _implausible(day: date) -> str | None:
    """Return why ``day`` is outside the plausible window of dates, or None."""
    earliest, latest = plausible.date_window()
    if earliest <= day <= latest:
        return None
    return f"{day.isoformat()} is outside the plausible dates {earliest} to {latest}"


def _day(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {value!r}") from None
    if message := _implausible(day):
        raise argparse.ArgumentTypeError(message)
    return day


class Command(BaseCommand):
    help = (
        "Load the demo data set: regions, demo sign-ins and account managers, then "
        "--applications N service-connection applications with their history (stages, "
        "progress, suspensions, cancellations, reviews) up to --today. "
        "The same --seed, --today and starting database give the same data. Each run adds N "
        "more applications (new customers and numbers); with --once, a database that has the "
        "demo data already is left as it is."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # Bad input is one line: argparse's "error:" line without the usage before it (--help
        # still shows the usage), and a CommandError with status 2 under call_command.
        parser.print_usage = lambda file=None: None
        raise_or_exit = parser.error

        def error(message):
            if parser.called_from_command_line:
                raise_or_exit(message)
            raise CommandError(f"Error: {message}", returncode=EXIT_BAD_INPUT)

        parser.error = error
        return parser

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Do nothing when the demo data has been loaded before (used by make run).",
        )
        parser.add_argument(
            "--applications",
            type=_count,
            default=0,
            metavar="N",
            help="Create N demo applications (default 0); every run adds N more.",
        )
        parser.add_argument(
            "--seed",
            type=_seed,
            default=None,
            metavar="S",
            help="The random seed (default 2026): the same seed gives the same data.",
        )
        parser.add_argument(
            "--today",
            type=_day,
            default=None,
            metavar="YYYY-MM-DD",
            help="The day the history leads up to (default: today).",
        )

    def handle(self, *args, once=False, applications=0, seed=None, today=None, **options):
        # call_command passes keyword values without argparse's conversion.
        if isinstance(applications, bool) or not isinstance(applications, int) or applications < 0:
            raise CommandError(
                f"--applications: expected a whole number ≥ 0, got {applications!r}",
                returncode=EXIT_BAD_INPUT,
            )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise CommandError(
                f"--seed: expected a whole number, got {seed!r}", returncode=EXIT_BAD_INPUT
            )
        if today is not None and not isinstance(today, date):
            raise CommandError(
                f"--today: expected a date, got {today!r}", returncode=EXIT_BAD_INPUT
            )
        if today is not None and (message := _implausible(today)):
            raise CommandError(f"--today: {message}", returncode=EXIT_BAD_INPUT)
        if once and people.demo_is_loaded():
            self.stdout.write("Demo data already loaded; leaving it as it is.")
            return
        users = people.demo_people_load()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: {len(users)} users (password {people.DEMO_PASSWORD})."
            )
        )
        if applications:
            self._load_applications(applications, seed, today or timezone.localdate())

    def _load_applications(self, count: int, seed: int | None, today: date) -> None:
        # Imported here: loading the people alone needs none of the scheduling machinery.
        from demo import applications as applications_demo
        from demo import crews as crews_demo
        from demo import kpi as kpi_demo
        from scheduling.calendar import CalendarError
        from scheduling.services import durations_learn

        def progress(done: int, total: int, seconds: float) -> None:
            rate = done / seconds if seconds else 0
            self.stdout.write(f"applications: {done}/{total} ({rate:.0f}/s)")

        seed = applications_demo.DEFAULT_SEED if seed is None else seed
        self.stdout.write(f"Planning {count} applications (seed {seed}, up to {today:%Y-%m-%d})...")
        try:
            result = applications_demo.demo_applications_load(
                count=count, seed=seed, today=today, progress=progress
            )
        except (applications_demo.DemoDataError, CalendarError) as exc:
            raise CommandError(f"seed_demo: {exc}") from exc
        states = ", ".join(f"{state} {n}" for state, n in sorted(result.states.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.count} applications created in {result.seconds:.1f} s: {states}."
            )
        )
        days = kpi_demo.demo_kpi_history_load(today=today)
        self.stdout.write(
            f"KPI snapshots taken for {len(days)} days, {days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}."
        )
        # As the nightly task would have: the risk forecasts draw from what history says.
        learned = durations_learn(
            now=datetime.combine(today, time(23, 30), tzinfo=timezone.get_current_timezone())
        )
        self.stdout.write(
            f"Durations learned: {learned.estimates} estimates from {learned.durations} "
            f"finished activities in {learned.seconds:.1f} s."
        )
        self.stdout.write(f"Crews set up: {crews_demo.demo_crews_load()} added.")
