"""The deviation sweep as Celery tasks: a fan-out over batches of application ids."""

from celery import shared_task


@shared_task(name="scheduling.tasks.sweep_deviations")
def sweep_deviations() -> int:
    """Split the active applications into batches and send one task per batch."""
    from django.conf import settings

    from applications.models import WORK_STATES, Application

    ids = list(
        Application.objects.filter(state__in=WORK_STATES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    size = settings.SWEEP_BATCH_SIZE
    for start in range(0, len(ids), size):
        sweep_batch.delay(ids[start : start + size])
    return len(ids)


@shared_task(name="scheduling.tasks.sweep_batch")
def sweep_batch(application_ids: list[int], as_of: str | None = None) -> dict:
    """Forecast one batch and upsert its deviations (safe to run twice).

    ``as_of`` (an ISO 8601 moment with its offset) sweeps as at that moment rather than
    now: the benchmark sweeps its seeded day through a real worker with it.
    """
    from datetime import datetime

    from scheduling import services

    now = datetime.fromisoformat(as_of) if as_of else None
    return services.deviation_sweep_batch(application_ids=application_ids, now=now).as_dict()
