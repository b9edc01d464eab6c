"""Cells safe to open in a spreadsheet: text that would start a formula is kept as text.

A name such as ``=HYPERLINK("http://x","y")`` typed into the application becomes a live
formula when a CSV or an Excel workbook is opened (CSV injection). Following OWASP's
advice, every text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is prefixed with an apostrophe, which spreadsheets show as text. Numbers, dates and
empty cells are left as they are. Every export writes its cells through ``safe_cell``.
"""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Return ``value`` with a leading apostrophe if it is text a spreadsheet would read
    as a formula; any other value unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(values) -> list:
    """Return the row with every cell passed through ``safe_cell``."""
    return [safe_cell(value) for value in values]
