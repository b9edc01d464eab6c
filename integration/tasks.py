"""Background work of the integration app: sending the outbound events."""

from celery import shared_task


@shared_task(name="integration.tasks.deliver_webhooks")
def deliver_webhooks() -> dict[str, int]:
    """Send the webhook deliveries due now; send itself again while more are due.

    Safe to run twice and at once on several workers: each delivery is leased to the one
    that took it, and a delivery sent twice (a worker that died after sending) is the
    at-least-once the receivers expect, with the same ``webhook-id``.
    """
    from integration.delivery import deliveries_send

    counts = deliveries_send()
    if counts["more"]:
        deliver_webhooks.delay()
    return counts
