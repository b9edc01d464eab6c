"""Write a batch's changes: each kind of row through the services of the app that owns it."""

from __future__ import annotations

from datetime import datetime

from scheduling import services as schedule_services
from scheduling.models import Proposal

from .analyse import BatchChanges


def store_changes(changes: BatchChanges, *, now: datetime) -> int:
    """Store the forecasts, deviations and proposals of a batch; return how many
    proposals were added. (Its risk forecasts are stored by :func:`store_risks`, once
    they are done.)"""
    schedule_services.activity_forecasts_store(changes.forecasts)
    keys = schedule_services.deviations_open([row.values for row in changes.new_deviations])
    for row, pk in zip(changes.new_deviations, keys, strict=True):
        row.pk = pk
    schedule_services.deviations_update(changes.updated_deviations)
    schedule_services.deviations_resolve(
        deviation_ids=[row.pk for row in changes.resolved_deviations], now=now
    )
    # Superseded first: the new proposal of a measure takes the place the old one held.
    schedule_services.proposals_supersede(proposal_ids=changes.superseded_proposals)
    schedule_services.proposals_add(
        [
            (
                application_id,
                row.pk,
                item.kind,
                measure,
                list(item.activities),
                new_finish,
                item.days_recovered,
                {**dict(item.detail), "departments": list(item.departments)},
                basis,
                basis_finish,
                Proposal.Status.PROPOSED,
                "",
            )
            for row, application_id, measure, item, new_finish, basis, basis_finish in (
                changes.new_proposals
            )
        ]
    )
    return len(changes.new_proposals)


def store_risks(changes: BatchChanges) -> None:
    """Store the risk forecasts of a batch (scheduling's ApplicationRisk)."""
    schedule_services.risk_forecasts_store([(pk, *values) for pk, values in changes.risks.items()])
