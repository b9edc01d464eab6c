"""Tell people what a batch found: red deviations, and time limits at 80 % and past 100 %.

Each event reaches the person answerable for it: the account manager (in the application
and by mail for a new red deviation or an exceeded limit), and the staff of the departments
that hold a red activity or staff it jointly (in the application only). Supervisors are
not told event by event: their morning digest (``applications.digest``) sums up their
scope. Each
notification has a key, and a key is sent to a person once, so a sweep that runs twice
notifies once. Their texts are stored in the site's first language, whichever
reader's change started the analysis.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import Notification
from accounts.selectors import department_staff
from accounts.services import notification_send_many
from scheduling import explanations
from scheduling import selectors as schedule_selectors
from scheduling.timelimits import worst_reading, worst_status
from yekuo.domain import CLOCKS, Clock

from ..selectors import clock_work, time_limit_readings
from .read import of_applications


def notify_red(red_alerts) -> int:
    """Tell the manager (by mail too) and the owning department about red deviations.

    ``red_alerts`` are (deviation, application, activity) of the deviations that turned
    red; the deviations' keys are set (they are stored first).
    """
    # Not a decorator: an override keeps the language it restores on itself.
    with override(explanations.STORED_LANGUAGE):
        return _notify_red(red_alerts)


def _notify_red(red_alerts) -> int:
    if not red_alerts:
        return 0
    joint = schedule_selectors.joint_departments_of(activity.id for _r, _a, activity in red_alerts)
    departments = {
        activity.id: [activity.department_id, *joint.get(activity.id, [])]
        for _r, _a, activity in red_alerts
    }
    staff = department_staff({d for ids in departments.values() for d in ids})
    items = []
    for row, application, activity in red_alerts:
        recipients = [
            (application.account_manager, True),
            *(
                (person, False)
                for department_id in departments[activity.id]
                for person in staff.get(department_id, [])
            ),
        ]
        text = _("%(number)s %(customer)s: %(explanation)s") % {
            "number": application.number,
            "customer": application.customer_name,
            "explanation": explanations.analysis_text(
                explanations.label(activity, activity.code), row.found
            ),
        }
        key = f"red:{row.pk}"
        for recipient, by_mail in recipients:
            if recipient is not None:
                items.append((recipient, "deviation_red", application, text, key, by_mail))
    return notification_send_many(items)


def check_time_limits(
    applications, by_application, log, calendar, today, limits, told: list
) -> tuple[int, dict[int, tuple[str, str]]]:
    """Read the time limits of a batch's applications: warn at 80 % and alarm past 100 % of
    each limit, each once per application, to its account manager (an exceeded limit by
    mail too), and add each such reading to ``told`` (application, reading) for other
    systems. Return how many were notified and each application's worst status with the
    clock it is about, which the batch stores."""
    with override(explanations.STORED_LANGUAGE):
        return _check_time_limits(applications, by_application, log, calendar, today, limits, told)


def _check_time_limits(
    applications, by_application, log, calendar, today, limits, told
) -> tuple[int, dict[int, tuple[str, str]]]:
    ids = [application.pk for application in applications]
    sent: set[tuple[int, str]] | None = None
    items = []
    statuses: dict[int, tuple[str, str]] = {}
    for application in applications:
        readings = time_limit_readings(
            application,
            work=clock_work(by_application[application.pk]),
            log=log[application.pk],
            limits=limits,
            today=today,
            working_days=calendar.working_days_in,
        )
        worst = worst_reading(readings)
        statuses[application.pk] = (worst_status(readings), worst.clock if worst else "")
        for reading in readings.values():
            if reading.status not in ("warning", "exceeded"):
                continue
            if sent is None:
                # An application stays past a limit for weeks, so most of these were sent by
                # an earlier sweep; found by application, they are skipped before their
                # text is written (notification_send_many would skip them only after).
                sent = set(
                    Notification.objects.filter(
                        of_applications(ids), kind__in=["limit_warning", "limit_exceeded"]
                    )
                    .order_by()
                    .values_list("recipient_id", "dedupe_key")
                )
            key = f"limit:{application.pk}:{reading.clock}:{reading.status}"
            if reading.status == "warning":
                text = _("%(number)s: %(clock)s has used %(used)d of %(limit)d working days.")
            else:
                text = _(
                    "%(number)s: %(clock)s is past its limit: %(used)d of %(limit)d working days."
                )
            manager = application.account_manager
            if manager is None or (manager.pk, key) in sent:
                continue
            label = Clock(reading.clock).label if reading.clock in CLOCKS else _("Whole process")
            text = text % {
                "number": application.number,
                "clock": label,
                "used": reading.used,
                "limit": reading.limit,
            }
            by_mail = reading.status == "exceeded"
            items.append((manager, f"limit_{reading.status}", application, text, key, by_mail))
            told.append((application, reading))
    return (notification_send_many(items) if items else 0), statuses
