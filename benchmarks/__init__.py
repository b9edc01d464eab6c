"""Benchmarks of yekuo: tools run by hand, not part of the product.

Each module runs as ``python -m benchmarks.<name>`` from the project's root:

- :mod:`benchmarks.cpm`: the scheduling engine (pure Python, no database);
- :mod:`benchmarks.sweep`: whole deviation sweeps on scratch PostgreSQL databases;
- :mod:`benchmarks.pages`: the server time and queries of the busiest pages.
"""
