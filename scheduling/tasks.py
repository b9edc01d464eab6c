"""Background work of the scheduling app: learning the durations from history nightly."""

from celery import shared_task


@shared_task(name="scheduling.tasks.learn_durations")
def learn_durations() -> dict:
    """Learn every template activity's duration from the finished activities; return
    what was read and stored. Safe to run twice: the estimates are replaced in place."""
    from scheduling.services import durations_learn

    summary = durations_learn()
    return {
        "durations": summary.durations,
        "estimates": summary.estimates,
        "ignored": summary.ignored,
        "seconds": round(summary.seconds, 1),
    }
