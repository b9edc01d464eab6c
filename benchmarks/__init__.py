"""Benchmarks of yekuo: tools run by hand, not part of the product.

Each module runs as ``python -m benchmarks.<name>`` from the project's root:

- :mod:`benchmarks.cpm`: the scheduling engine (pure Python, no database);
- :mod:`benchmarks.sweep`: whole deviation sweeps on scratch PostgreSQL databases;
- :mod:`benchmarks.pages`: the server time and queries of the busiest pages.
"""

import argparse


def whole_number(top: int):
    """An argparse type: a whole number from 1 to ``top``, refused by name otherwise."""

    def check(value: str) -> int:
        try:
            number = int(value, 10)
        except ValueError:
            number = 0
        if not 1 <= number <= top:
            raise argparse.ArgumentTypeError(
                f"expected a whole number from 1 to {top}, got {value!r}"
            )
        return number

    return check
