from typing import Any

from scheduling.management.commands._network import NetworkCommand
from scheduling.selectors import network_delay_analysis


def _whole_days(value: Any) -> Any:
    """Return ``value`` as an int when it is a decimal integer string; leave the rest as given.

    The engine then refuses anything that is not a whole, non-negative number of days, with
    the same message whether the value came from the command line or from ``call_command``.
    """
    if isinstance(value, str):
        try:
            return int(value, 10)
        except ValueError:
            return value
    return value


class Command(NetworkCommand):
    help = (
        "Print what happens when one activity of a network JSON file takes DAYS working "
        "days longer: floats, the slip of the total duration and of its successors, as JSON."
    )
    name = "analyse_delay"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--activity", required=True, metavar="ID", help="The activity id.")
        parser.add_argument(
            "--delay", required=True, metavar="DAYS", help="The delay in whole working days."
        )

    def compute(
        self, network_data: Any, *, activity: str, delay: Any, **options: Any
    ) -> dict[str, Any]:
        return network_delay_analysis(network_data, activity=activity, delay=_whole_days(delay))
