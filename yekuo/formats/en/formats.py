"""English dates as Django writes them (Dec. 3, 2026; December 3), stated here so that the
two languages' formats are read in one place (``FORMAT_MODULE_PATH``)."""

DATE_FORMAT = "N j, Y"
SHORT_DATE_FORMAT = "m/d/Y"
MONTH_DAY_FORMAT = "F j"
YEAR_MONTH_FORMAT = "F Y"
DATETIME_FORMAT = "N j, Y, P"
SHORT_DATETIME_FORMAT = "m/d/Y P"
