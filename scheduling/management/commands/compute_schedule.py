from typing import Any

from scheduling.management.commands._network import NetworkCommand
from scheduling.selectors import network_schedule


class Command(NetworkCommand):
    help = (
        "Print the CPM schedule of a network JSON file as JSON "
        "(format: examples/networks/README.md)."
    )
    name = "compute_schedule"

    def compute(self, network_data: Any, **options: Any) -> dict[str, Any]:
        return network_schedule(network_data)
