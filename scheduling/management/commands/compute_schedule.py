from typing import Any

from scheduling.cpm import load_network
from scheduling.management.commands._network import NetworkCommand


class Command(NetworkCommand):
    help = (
        "Print the CPM schedule of a network JSON file as JSON "
        "(format: examples/networks/README.md)."
    )
    name = "compute_schedule"

    def compute(self, network_data: Any, **options: Any) -> dict[str, Any]:
        return load_network(network_data).evaluate().as_dict()
