"""Background work of the applications app: the nightly KPI snapshot."""

from celery import shared_task


@shared_task(name="applications.tasks.snapshot_kpis")
def snapshot_kpis(day: str | None = None) -> int:
    """Store the KPI snapshot of ``day`` (ISO date; today when absent); return the rows.

    Safe to run twice: the snapshot of a day is one row per manager and department,
    updated in place.
    """
    from datetime import date

    from applications.kpi import kpi_snapshot_take

    return kpi_snapshot_take(day=date.fromisoformat(day) if day else None)


@shared_task(name="applications.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Delete the API's Idempotency-Key records older than their lifetime; return how many.

    Safe to run twice: it selects rows by their age.
    """
    from yekuo.api.idempotency import purge_expired

    return purge_expired()
