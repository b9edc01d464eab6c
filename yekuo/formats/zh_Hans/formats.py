"""Dates as Chinese readers write them (``FORMAT_MODULE_PATH``): 2026年12月3日, and 3月5日
without the year (Django's own month-day format pads the month: 03月5日)."""

DATE_FORMAT = "Y年n月j日"
SHORT_DATE_FORMAT = "Y年n月j日"
MONTH_DAY_FORMAT = "n月j日"
YEAR_MONTH_FORMAT = "Y年n月"
DATETIME_FORMAT = "Y年n月j日 H:i"
SHORT_DATETIME_FORMAT = "Y年n月j日 H:i"
