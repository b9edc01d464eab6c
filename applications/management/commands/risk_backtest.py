"""Back-test the probability of keeping the promise on finished applications."""

from applications.backtest import ACCEPTANCE, backtest
from applications.models import ApplicationState
from yekuo.commands import RefusingCommand


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


class Command(RefusingCommand):
    help = (
        "Forecast finished applications again as at acceptance and at the start of each "
        "stage, from what was recorded by then, and compare with what happened: prints the "
        "Brier score per checkpoint and the reliability table by tenth of probability."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=2000, help="The most recent N finished (default 2000)."
        )
        parser.add_argument(
            "--samples", type=int, default=500, help="Runs per forecast (default 500)."
        )
        parser.add_argument("--seed", type=int, default=0, help="The random seed (default 0).")

    def handle(self, *args, limit=2000, samples=500, seed=0, **options):
        if limit < 1:
            self.refuse("--limit must be at least 1")
        if not 1 <= samples <= 100_000:
            self.refuse("--samples must be from 1 to 100000")
        result = backtest(limit=limit, samples=samples, seed=seed)
        if not result.applications:
            self.refuse(
                "no finished application to test against (energized or closed, every "
                "activity finished): there is no history yet"
            )
        self.stdout.write(
            f"{result.applications} finished applications, {samples} runs per forecast; "
            "durations learned from a history that includes them (in-sample)"
        )
        # The checkpoint last: its name may be Chinese, of another width.
        self.stdout.write(f"{'forecasts':>9s} {'Brier':>7s}  checkpoint")
        for name, checkpoint in result.checkpoints.items():
            if not checkpoint.forecasts:
                continue
            label = name if name == ACCEPTANCE else str(ApplicationState(name).label)
            self.stdout.write(
                f"{len(checkpoint.forecasts):9d} {_share(checkpoint.brier):>7s}  {label}"
            )
        every = result.all
        self.stdout.write(f"{len(every.forecasts):9d} {_share(every.brier):>7s}  all")
        self.stdout.write("reliability: forecast P(on time) → share that kept the promise")
        self.stdout.write(f"{'forecast':10s} {'count':>6s} {'mean':>6s} {'observed':>9s}")
        for decile in result.reliability():
            band = f"{decile.low:.1f}–{decile.low + 0.1:.1f}"
            self.stdout.write(
                f"{band:10s} {decile.count:6d} {_share(decile.mean_forecast):>6s} "
                f"{_share(decile.observed):>9s}"
            )
