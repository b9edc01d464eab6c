"""The assessment as a spreadsheet: Excel (openpyxl) and CSV (UTF-8 with a BOM, so Excel
reads the Chinese names)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from yekuo.spreadsheets import safe_row

from .kpi import CUSTOMER_SCOPE, REVIEW_SCORES, Assessment, AssessmentRow
from .models import KpiScope


def _score_labels() -> dict[str, str]:
    return {
        "quality": _("Quality score"),
        "safety": _("Safety score"),
        "efficiency": _("Efficiency score"),
        "satisfaction": _("Satisfaction score"),
    }


def header() -> list[str]:
    labels = _score_labels()
    return [
        _("Scope"),
        _("Name"),
        pgettext("applications", "Accepted"),
        _("Energized"),
        _("On time"),
        _("On-time rate (%)"),
        _("Late"),
        _("Average delay (working days)"),
        _("Worst delay (working days)"),
        _("Delay caused (working days)"),
        _("Limits exceeded"),
        _("Complaints"),
        _("Substantiated complaints"),
        _("Reviews"),
        *(labels[name] for name in REVIEW_SCORES),
    ]


def _row(row: AssessmentRow) -> list:
    scope = _("Customer side") if row.scope == CUSTOMER_SCOPE else KpiScope(row.scope).label
    return [
        str(scope),
        row.name,
        row.accepted,
        row.finished,
        row.on_time,
        row.on_time_rate,
        row.late,
        row.average_delay,
        row.worst_delay,
        row.delay_caused,
        row.limits_exceeded,
        row.complaints,
        row.complaints_substantiated,
        row.reviews,
        *(row.average_score(name) for name in REVIEW_SCORES),
    ]


def rows(assessment: Assessment) -> list[list]:
    every = [*assessment.managers, *assessment.departments]
    if assessment.whole:
        every.append(assessment.customer)
    return [_row(row) for row in every]


def filename(assessment: Assessment, extension: str) -> str:
    return f"assessment-{assessment.start:%Y%m%d}-{assessment.end:%Y%m%d}.{extension}"


def assessment_csv(assessment: Assessment) -> bytes:
    """Return the assessment as CSV in UTF-8 with a byte-order mark; empty figures are blank."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Period"), f"{assessment.start:%Y-%m-%d}", f"{assessment.end:%Y-%m-%d}"])
    writer.writerow(safe_row(header()))
    for values in rows(assessment):
        writer.writerow(safe_row("" if v is None else v for v in values))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def assessment_xlsx(assessment: Assessment) -> bytes:
    """Return the assessment as an Excel workbook: one sheet, numbers stored as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Assessment")[:31]
    sheet.append([_("Period"), assessment.start, assessment.end])
    sheet["B1"].number_format = sheet["C1"].number_format = "yyyy-mm-dd"
    sheet.append(safe_row(header()))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for values in rows(assessment):
        sheet.append(safe_row(float(v) if isinstance(v, Decimal) else v for v in values))
    sheet.freeze_panes = "C3"
    for index, title in enumerate(header(), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, len(title) + 4)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
