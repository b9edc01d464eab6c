"""What other systems are told: their subscriptions, the events written in the transaction
of the change they describe (the outbox), and each delivery of an event to a subscriber.

Rows are never deleted: a subscription is deactivated, a delivery keeps its attempts, and
a replay is a new delivery that names the one it repeats. An event older than
``ARCHIVE_AFTER_DAYS`` whose deliveries are all finished moves with them into the archive
tables (yekuo.archive), where the admin still reads them.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yekuo.archive import archive_model

User = settings.AUTH_USER_MODEL


class EventType(models.TextChoices):
    """The events yekuo sends, named as integrators subscribe to them."""

    APPLICATION_CREATED = "application.created", _("Application accepted")
    APPLICATION_TRANSITIONED = "application.transitioned", _("Application moved to a stage")
    APPLICATION_ASSIGNED = "application.assigned", _("Account manager assigned")
    ACTIVITY_PROGRESSED = "activity.progressed", _("Progress recorded on an activity")
    DEVIATION_OPENED = "deviation.opened", _("Deviation opened")
    DEVIATION_UPDATED = "deviation.updated", _("Deviation changed")
    DEVIATION_RESOLVED = "deviation.resolved", _("Deviation resolved")
    PROPOSAL_ACCEPTED = "proposal.accepted", _("Corrective measure accepted")
    BASELINE_REPLACED = "baseline.replaced", _("Plan re-planned")
    TIME_LIMIT_WARNING = "time_limit.warning", _("Time limit nearly used")
    TIME_LIMIT_EXCEEDED = "time_limit.exceeded", _("Time limit exceeded")
    APPLICATION_UPDATED = "application.updated", _("Application details changed")
    DOCUMENT_UPLOADED = "document.uploaded", _("Document handed in")
    DEVIATION_ANSWERED = "deviation.answered", _("Deviation answered")
    REVIEW_RECORDED = "review.recorded", _("Post-completion review recorded")
    COMPLAINT_RECORDED = "complaint.recorded", _("Customer complaint recorded")
    FOLLOW_UP_RAISED = "follow_up.raised", _("Follow-up raised")
    FOLLOW_UP_CLOSED = "follow_up.closed", _("Follow-up closed")
    CUSTOMER_REQUESTED = "customer.requested", _("Request from the customer's page")


class Subscription(models.Model):
    """An integrating system's wish to be told of some events at one address.

    The secret signs every delivery (Standard Webhooks). After a rotation the previous
    secret signs as well until ``previous_secret_expires_at``, so the receiver can change
    its key without losing a message. A subscription whose deliveries keep failing is
    paused (``paused_at``) and its owner told; resuming it sends what waited, in order.
    """

    name = models.CharField(_("name"), max_length=80, help_text=_("Which system, e.g. 营销系统."))
    owner = models.ForeignKey(
        User,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="webhook_subscriptions",
        help_text=_("Told when the deliveries keep failing."),
    )
    url = models.URLField(_("address"), max_length=500)
    event_types = models.JSONField(
        _("event types"),
        default=list,
        blank=True,
        help_text=_("The events sent to it; empty for every event."),
    )
    secret = models.CharField(_("signing secret"), max_length=80, editable=False)
    previous_secret = models.CharField(max_length=80, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(
        _("previous secret valid until"), null=True, blank=True, editable=False
    )
    is_active = models.BooleanField(_("active"), default=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True, editable=False)
    paused_reason = models.CharField(_("why paused"), max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True, editable=False
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class Event(models.Model):
    """One change told to other systems, stored in the transaction of the change.

    ``event_id`` is the ``webhook-id`` of every delivery of it and the CloudEvents ``id``:
    a receiver that has seen it has seen the event, however often it arrives.
    """

    event_id = models.CharField(_("event id"), max_length=40, unique=True, editable=False)
    type = models.CharField(_("type"), max_length=40, choices=EventType.choices)
    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    subject = models.CharField(_("subject"), max_length=80, blank=True)
    data = models.JSONField(_("data"), default=dict)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("outbound event")
        verbose_name_plural = _("outbound events")

    def __str__(self) -> str:
        return f"{self.type} {self.subject}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be delivered")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Given up")


class Delivery(models.Model):
    """One event for one subscription: its attempts, the last answer, and when next.

    Deliveries of one application's events to one subscription go out in the order of the
    events: a later one waits while an earlier one is still pending.
    """

    event = models.ForeignKey(
        Event, verbose_name=_("event"), on_delete=models.PROTECT, related_name="deliveries"
    )
    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("subscription"),
        on_delete=models.PROTECT,
        related_name="deliveries",
        db_index=False,
    )
    # The event's application, here for the order per application and its index.
    application_id = models.BigIntegerField(null=True, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # A worker sending it holds it until then; one that died mid-way leaves it to another.
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last answer"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    replay_of = models.ForeignKey(
        "self",
        verbose_name=_("replay of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replays",
    )
    replayed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            # The order per application: is an earlier one still pending?
            models.Index(
                fields=["subscription", "application_id", "id"],
                condition=models.Q(status="pending"),
                name="delivery_pending_order",
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="delivery_pending_due",
            ),
            models.Index(fields=["subscription", "-id"], name="delivery_by_subscription"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription}"


ArchivedEvent = archive_model(
    Event,
    name="ArchivedEvent",
    verbose_name=_("archived outbound event"),
    verbose_name_plural=_("archived outbound events"),
    indexed=["occurred_at"],
)
ArchivedDelivery = archive_model(
    Delivery,
    name="ArchivedDelivery",
    verbose_name=_("archived webhook delivery"),
    verbose_name_plural=_("archived webhook deliveries"),
    indexed=["subscription", "event"],
    # Its event and the delivery it repeats are archived with it.
    unconstrained=["event", "replay_of"],
)
