from django.core.management.base import BaseCommand

from accounts import demo


class Command(BaseCommand):
    help = "Load the demo data set: regions, demo sign-ins and account managers."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Do nothing when the demo data has been loaded before (used by make run).",
        )

    def handle(self, *args, once=False, **options):
        if once and demo.demo_is_loaded():
            self.stdout.write("Demo data already loaded; leaving it as it is.")
            return
        users = demo.demo_people_load()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: {len(users)} users (password {demo.DEMO_PASSWORD})."
            )
        )
