"""What other systems are told of the applications' changes (integration's events).

Each function builds an event's data from rows its caller already holds (no query) and
stores it in the caller's transaction through ``integration.services``: a change rolled
back tells nobody. The data name things as the API does (numbers, codes, user names) and
carry nothing a subscriber could not read through the API.
"""

from __future__ import annotations

from datetime import date, datetime

from integration.models import EventType
from integration.services import Outbound, event_emit, events_emit


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def application_data(application) -> dict:
    """The application as an event carries it (its customer and manager already read)."""
    manager = application.account_manager
    return {
        "number": application.number,
        "state": application.state,
        "business_type": application.business_type,
        "customer_class": application.customer_class,
        "voltage_class": application.voltage_class,
        "requested_capacity_kva": application.requested_capacity_kva,
        "customer": {
            "name": application.customer.name,
            "credit_code": application.customer.credit_code,
        },
        "account_manager": manager.username if manager else None,
        "committed_finish_date": _day(application.committed_finish_date),
        "forecast_finish_date": _day(application.forecast_finish_date),
        "time_limit_status": application.time_limit_status,
        "version": application.version,
    }


def told(type_: str, application, data: dict, *, now: datetime | None = None) -> None:
    """Tell of a change of ``application`` whose data the caller has made (numbers,
    codes, user names, as the API shows them)."""
    _emit(type_, application, {"number": application.number, **data}, now)


def _emit(type_: str, application, data: dict, now: datetime | None) -> None:
    event_emit(type_, application_id=application.pk, subject=application.number, data=data, now=now)


def application_created(application, *, now: datetime | None = None) -> None:
    _emit(
        EventType.APPLICATION_CREATED,
        application,
        {**application_data(application), "accepted_at": _moment(application.accepted_at)},
        now,
    )


def application_transitioned(
    application, *, transition: str, from_state: str, by, note: str, now: datetime
) -> None:
    _emit(
        EventType.APPLICATION_TRANSITIONED,
        application,
        {
            **application_data(application),
            "transition": transition,
            "from_state": from_state,
            "to_state": application.state,
            "by": by.username,
            "note": note,
            "at": _moment(now),
        },
        now,
    )


def applications_assigned(rows: list[tuple], *, by=None, now: datetime | None = None) -> None:
    """Tell of new account managers: ``rows`` of (application, manager, previous manager
    or None, the reason); ``by`` None for automatic assignment."""
    events_emit(
        [
            Outbound(
                EventType.APPLICATION_ASSIGNED,
                application.pk,
                application.number,
                {
                    "number": application.number,
                    "account_manager": manager.username,
                    "previous_account_manager": previous.username if previous else None,
                    "by": by.username if by else None,
                    "reason": reason,
                    "at": _moment(now),
                },
            )
            for application, manager, previous, reason in rows
        ],
        now=now,
    )


def activity_progressed(
    application,
    activity,
    *,
    start: date | None,
    finish: date | None,
    passed: bool,
    remaining: int | None,
    note: str,
    by,
    now: datetime,
) -> None:
    told(
        EventType.ACTIVITY_PROGRESSED,
        application,
        {
            "activity": {"code": activity.code, "name": activity.name},
            "actual_start": _day(start),
            "actual_finish": _day(finish) if passed else None,
            "inspection_failed_on": _day(finish) if finish and not passed else None,
            "remaining": remaining,
            "note": note,
            "by": by.username,
            "forecast_finish_date": _day(application.forecast_finish_date),
            "committed_finish_date": _day(application.committed_finish_date),
            "at": _moment(now),
        },
        now=now,
    )


def proposal_accepted(application, proposal, *, by, reason: str, now: datetime) -> None:
    told(
        EventType.PROPOSAL_ACCEPTED,
        application,
        {
            "proposal": proposal.pk,
            "kind": proposal.kind,
            "activities": proposal.activities,
            "by": by.username,
            "reason": reason,
            "at": _moment(now),
        },
        now=now,
    )


def baseline_replaced(
    application, *, baseline_version: int, by, reason: str, now: datetime
) -> None:
    told(
        EventType.BASELINE_REPLACED,
        application,
        {
            "baseline_version": baseline_version,
            "by": by.username,
            "reason": reason,
            "committed_finish_date": _day(application.committed_finish_date),
            "forecast_finish_date": _day(application.forecast_finish_date),
            "at": _moment(now),
        },
        now=now,
    )


def _deviation_data(application, row, code: str | None, finishes: dict) -> dict:
    data = {"number": application.number, "deviation": row.pk, "activity": code}
    found = getattr(row, "found", None)
    if found is None:  # resolved: the facts it last had
        return {**data, "severity": row.severity, "delay": row.delay}
    finish = finishes.get(application.pk, (None, None))[0]
    return {
        **data,
        "severity": found.severity,
        "delay": found.delay,
        "total_float": found.total_float,
        "free_float": found.free_float,
        "critical": found.critical,
        "successor_slip": found.successor_delay,
        "total_slip": found.total_duration_delay,
        "commitment_overrun": found.commitment_overrun,
        "forecast_finish_date": _day(finish),
    }


def sweep_told(
    deviations: list[tuple], limits: list[tuple], *, finishes: dict, now: datetime
) -> None:
    """Tell of what an analysis (the sweep's or a change's) found: the deviations opened,
    changed and resolved (``deviations``: type, row, application, activity code), and the
    time limits newly nearly used or exceeded (``limits``: application, reading)."""
    items = [
        Outbound(
            type_,
            application.pk,
            application.number,
            _deviation_data(application, row, code, finishes),
        )
        for type_, row, application, code in deviations
    ]
    items += [
        Outbound(
            EventType.TIME_LIMIT_WARNING
            if reading.status == "warning"
            else EventType.TIME_LIMIT_EXCEEDED,
            application.pk,
            application.number,
            {"number": application.number, **reading._asdict()},
        )
        for application, reading in limits
    ]
    events_emit(items, now=now)
