"""The archive run (yekuo.archive): what is finished with leaves the hot tables.

Each owning app moves its own rows (``scheduling.services.archive_deviations``,
``accounts.services.archive_notifications``, ``integration.services.archive_events``); this
module says when, and which
applications still count as live for the notifications' keys.
"""

import logging
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from accounts.services import archive_notifications, notifications_to_archive
from integration import services as integration_services
from scheduling import services as schedule_services
from scheduling.models import Proposal

from .models import ACTIVE_STATES

logger = logging.getLogger(__name__)


def archive_cutoff(*, today: date | None = None) -> datetime:
    """Return the start of the day ``ARCHIVE_AFTER_DAYS`` before ``today``: rows finished
    with before it are old enough to archive."""
    today = today or timezone.localdate()
    day = today - timedelta(days=settings.ARCHIVE_AFTER_DAYS)
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def archive_eligible(*, before: datetime) -> dict[str, int]:
    """Count what :func:`archive_old_rows` would move now (the deviations' own proposals
    counted with the proposals)."""
    deviations = schedule_services.deviations_to_archive(before=before)
    return {
        "deviations": deviations.count(),
        "proposals": (
            Proposal.objects.filter(deviation__in=deviations.values("pk")).count()
            + schedule_services.proposals_to_archive(before=before)
            .exclude(deviation__in=deviations.values("pk"))
            .count()
        ),
        "notifications": notifications_to_archive(before=before, live_states=ACTIVE_STATES).count(),
        "events": integration_services.events_to_archive(before=before).count(),
        "deliveries": integration_services.deliveries_to_archive(before=before).count(),
    }


def archive_old_rows(*, before: datetime, batch_size: int | None = None) -> dict[str, int]:
    """Move the resolved deviations, decided proposals, read notifications and the outbound
    events whose deliveries are finished (with those deliveries), finished with before
    ``before``, into their archive tables; return how many of each moved.

    Each table moves in batches of ``batch_size`` rows (default ``ARCHIVE_BATCH_SIZE``),
    one transaction each; rows are chosen by their current state, so a run repeated or
    stopped halfway moves each row once. Nothing that counts as live moves: a deviation
    not resolved, an open or accepted proposal of a deviation that stays, an unread
    notification, an event with a delivery still pending.
    """
    batch_size = batch_size or settings.ARCHIVE_BATCH_SIZE
    moved = schedule_services.archive_deviations(before=before, batch_size=batch_size)
    moved["notifications"] = archive_notifications(
        before=before, batch_size=batch_size, live_states=ACTIVE_STATES
    )
    moved.update(integration_services.archive_events(before=before, batch_size=batch_size))
    logger.info("archived rows finished with before %s: %s", before.isoformat(), moved)
    return moved
