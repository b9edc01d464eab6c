"""Background work of the accounts app: account-manager assignment (DESIGN §7).

Both tasks only call a service that selects rows by their current state, so a task run
twice (a redelivery after ``acks_late``, a retry) assigns nothing twice.
"""

from celery import shared_task


@shared_task(name="accounts.tasks.assign_account_manager")
def assign_account_manager(application_id: int) -> str:
    """Give an application without a manager its accountable account manager."""
    from accounts import services

    return services.account_manager_assign(application_id=application_id)


@shared_task(name="accounts.tasks.assign_unassigned")
def assign_unassigned() -> dict[str, int]:
    """Assign the applications whose assignment message was lost (run by beat)."""
    from accounts import services

    return services.account_manager_assign_sweep()
