"""Background work of the applications app: the nightly KPI snapshot, the morning digest,
assignment and the analysis of deviations."""

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
    from applications.idempotency import purge_expired

    return purge_expired()


@shared_task(name="applications.tasks.send_daily_digest")
def send_daily_digest() -> int:
    """Send the supervisors' morning digest; return how many were sent.

    Safe to run twice: a digest is keyed by its day and person.
    """
    from applications.digest import daily_digest_send

    return daily_digest_send()


# Account-manager assignment. Both tasks only call a service that selects rows by their
# current state, so a task run twice (a redelivery after ``acks_late``, a retry) assigns
# nothing twice.


@shared_task(name="applications.tasks.assign_account_manager")
def assign_account_manager(application_id: int) -> str:
    """Give an application without a manager its accountable account manager."""
    from applications import assignment

    return assignment.account_manager_assign(application_id=application_id)


@shared_task(name="applications.tasks.assign_unassigned")
def assign_unassigned(older_than_minutes: int = 5) -> dict[str, int]:
    """Assign every application waiting for a manager, in one set-based pass: the catch-up
    beat runs rarely (``ASSIGNMENT_CATCH_UP_MINUTES``), and the answer to a manager's new
    room (``older_than_minutes=0``)."""
    from applications import assignment

    return assignment.account_manager_assign_waiting(older_than_minutes=older_than_minutes)


def assign_unassigned_on_capacity_change(**kwargs) -> None:
    """Assign what waits once a manager has more room (a receiver of
    ``accounts.signals.account_manager_capacity_changed``, which is sent after commit)."""
    from yekuo.celery import enqueue_on_commit

    enqueue_on_commit(assign_unassigned, older_than_minutes=0)


# The deviation sweep: a fan-out over batches of application ids.


@shared_task(name="applications.tasks.sweep_deviations")
def sweep_deviations() -> int:
    """Split the applications in progress into batches, region by region, and send one
    task per batch: the workers on the sweep's queue share them."""
    from applications.sweep import sweep_batches

    batches = sweep_batches()
    for batch in batches:
        sweep_batch.delay(batch)
    level_capacity.delay()
    return sum(map(len, batches))


@shared_task(name="applications.tasks.level_capacity")
def level_capacity() -> int:
    """Send one levelling task per active region: regions share no crew, so each is
    levelled on its own, and the workers on the heavy queue share them."""
    from accounts.models import Region

    regions = list(Region.objects.filter(is_active=True).values_list("pk", flat=True))
    for region_id in regions:
        level_region.delay(region_id)
    return len(regions)


@shared_task(name="applications.tasks.level_region")
def level_region(region_id: int, today: str | None = None) -> dict:
    """Level one region's applications in progress against its crews and store the
    results (safe to run twice: it computes what is)."""
    from datetime import date

    from django.utils import timezone

    from accounts.models import Region
    from applications import capacity

    region = Region.objects.filter(pk=region_id).first()
    if region is None:  # gone since the fan-out: nothing to level
        return {"region": None, "applications": 0, "delayed": 0}
    day = date.fromisoformat(today) if today else timezone.localdate()
    result, stored, measures = capacity.region_level_and_store(region, today=day)
    delayed = sum(1 for p in result.found.projects.values() if p.delay > 0) if result.found else 0
    return {
        "region": region.code,
        "applications": stored,
        "delayed": delayed,
        "measures": len(measures),
    }


@shared_task(name="applications.tasks.sweep_batch")
def sweep_batch(application_ids: list[int], as_of: str | None = None) -> dict:
    """Analyse one batch of applications (safe to run twice).

    ``as_of`` (an ISO 8601 moment with its offset) sweeps as at that moment rather than
    now: the benchmark sweeps its seeded day through a real worker with it.
    """
    from datetime import datetime

    from applications.sweep import deviation_sweep_batch

    now = datetime.fromisoformat(as_of) if as_of else None
    return deviation_sweep_batch(application_ids=application_ids, now=now).as_dict()


def sweep_deviations_on_calendar_change(**kwargs) -> None:
    """Analyse every application in progress once the calendar has changed (a receiver of
    ``scheduling.signals.calendar_changed``, which is sent after commit)."""
    from yekuo.celery import enqueue_on_commit

    enqueue_on_commit(sweep_deviations)


def level_region_on_crew_change(sender, instance, **kwargs) -> None:
    """Level a region again once a change of its crews commits (a receiver of the saves of
    ``scheduling.Crew`` and ``scheduling.CrewCapacityChange``): its applications' finishes
    with shared crews and the measures proposed then hold for the crews as they are."""
    from yekuo.celery import enqueue_on_commit

    region_id = getattr(instance, "region_id", None) or instance.crew.region_id
    enqueue_on_commit(level_region, region_id)


@shared_task(name="applications.tasks.reanalyse_application")
def reanalyse_application(application_id: int) -> dict:
    """Analyse one application as the sweep would (when the analysis in the transaction of
    a change failed). Safe to run twice: it computes what is, and writes only changes."""
    from applications.sweep import application_reanalyse

    return application_reanalyse(application_id=application_id).as_dict()


@shared_task(name="applications.tasks.archive_old_rows")
def archive_old_rows(before: str | None = None) -> dict[str, int]:
    """Move what was finished with before ``before`` (ISO day; by default
    ``ARCHIVE_AFTER_DAYS`` ago) into the archive tables; return how many rows of each kind.

    Safe to run twice, or to stop halfway: each batch selects its rows by their current
    state. Heavy work for its own queue: a first run at a province's scale moves hundreds
    of thousands of rows.
    """
    from datetime import date, datetime

    from django.utils import timezone

    from applications.archiving import archive_cutoff, archive_old_rows

    if before:
        cutoff = datetime.combine(
            date.fromisoformat(before), datetime.min.time(), tzinfo=timezone.get_current_timezone()
        )
    else:
        cutoff = archive_cutoff()
    return archive_old_rows(before=cutoff)
