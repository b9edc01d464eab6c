"""Shared rows of the page tests: applications, deviations and notifications."""

from django.utils import timezone

from applications import dashboard_counts
from scheduling.models import Deviation


def open_deviation(application, code, *, severity, delay=2, status="open"):
    """Store a deviation on activity ``code`` as the sweep would (only the page reads it),
    counted as the sweep counts it."""
    activity = application.activities.get(code=code)
    now = timezone.now()
    with dashboard_counts.tracked([application.pk]):
        return Deviation.objects.create(
            application=application,
            activity=activity,
            department=activity.department,
            detected_at=now,
            updated_at=now,
            delay=delay,
            total_float=0,
            free_float=0,
            critical=severity == "red",
            total_slip=delay if severity == "red" else 0,
            successor_slip=delay if severity != "info" else 0,
            commitment_overrun=delay if severity == "red" else 0,
            severity=severity,
            status=status,
            resolved_at=now if status == "resolved" else None,
        )
