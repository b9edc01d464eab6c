"""Text that a spreadsheet would run as a formula is written as text (CSV injection)."""

from datetime import date
from decimal import Decimal

import pytest

from yekuo.spreadsheets import safe_cell, safe_row


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"],
)
def test_text_starting_a_formula_gets_an_apostrophe(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["国网客户经理", "", "a=b", 12, -3, 2.5, Decimal("-1.5"), None])
def test_other_values_are_left_as_they_are(value):
    assert safe_cell(value) == value


def test_a_row_is_made_safe_cell_by_cell():
    assert safe_row(["=1", date(2026, 5, 1), -4]) == ["'=1", date(2026, 5, 1), -4]
