"""Level every region's applications in progress against its shared crews and meeting."""

from datetime import date

from django.utils import timezone

from accounts.models import Region
from applications import capacity
from yekuo.commands import RefusingCommand


class Command(RefusingCommand):
    help = (
        "Schedule each region's applications in progress against the crews and the review "
        "meeting they share, store each application's finish with shared crews and its "
        "waits and the measures that would help most, and print per region what waited, "
        "the most helpful measure and which crews are missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--region", default="", help="A region's code (default: every one).")
        parser.add_argument(
            "--today", default="", help="The day levelled as of, YYYY-MM-DD (default: today)."
        )

    def handle(self, *args, region="", today="", **options):
        try:
            day = date.fromisoformat(today) if today else timezone.localdate()
        except ValueError:
            self.refuse(f"--today: expected a date YYYY-MM-DD, got {today!r}")
        regions = Region.objects.filter(is_active=True).order_by("code")
        if region:
            regions = regions.filter(code=region)
            if not regions:
                self.refuse(f"--region: no active region {region!r}")
        for each in regions:
            result, stored, measures = capacity.region_level_and_store(each, today=day)
            self.stdout.write(self._line(each, result, stored, measures))

    @staticmethod
    def _line(region, result, stored: int, measures) -> str:
        if result.found is None:
            return f"{region.code}: no application in progress"
        delayed = [p for p in result.found.projects.values() if p.delay > 0]
        line = f"{region.code}: {stored} applications levelled, {len(delayed)} finish later"
        if delayed:
            line += f" (at most +{max(p.delay for p in delayed)} working days)"
        over = {
            result.crews.get(key, key): len(result.found.over_capacity(key))
            for key in result.found.demand
        }
        busy = ", ".join(f"{name} {days} d" for name, days in sorted(over.items()) if days)
        if busy:
            line += f"; over capacity: {busy}"
        if measures:
            best = measures[0]
            line += (
                f"; most helpful: {best.measure.kind} of {result.crews[best.measure.resource]}"
                f" ({best.helped} earlier, {best.days_saved} working days,"
                f" {len(best.kept)} commitments kept)"
            )
        if result.missing:
            lacking = ", ".join(f"{name} ({n})" for name, n in sorted(result.missing.items()))
            line += f"; no crew set up: {lacking}"
        return line
