"""Outbound events: the subscriptions, the events written with the change they
describe, and replays.

``events_emit`` stores an event and one delivery per subscription that wants it, in the
caller's transaction: a change rolled back emits nothing, and a change committed is told
(at least once) even if the broker is down when it commits; a worker sends it on commit
(``delivery.deliveries_send``). Replays are new deliveries that name the one they repeat.
Events finished with (every delivery delivered or given up) move to the archive tables
after ``ARCHIVE_AFTER_DAYS`` (``archive_events``); they can no longer be replayed then.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from yekuo import archive
from yekuo.celery import enqueue_on_commit
from yekuo.errors import InvalidInput, NotPermitted, TransitionNotAllowed

from .models import (
    ArchivedDelivery,
    ArchivedEvent,
    Delivery,
    DeliveryStatus,
    Event,
    EventType,
    Subscription,
)
from .signing import secret_new
from .tasks import deliver_webhooks


@dataclass(frozen=True)
class Outbound:
    """One event to emit: its type, the application it concerns and what it says."""

    type: str
    application_id: int | None
    subject: str
    data: dict


# Subscriptions.


def _clean_subscription(*, name: str, url: str, event_types) -> tuple[str, str, list[str]]:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Name the system that receives the events.")]
    elif len(name) > 80:
        errors["name"] = [_("The name is at most 80 characters long.")]
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        errors["url"] = [_("Give an http or https address, e.g. https://crm.example.cn/hooks.")]
    elif len(url) > 500:
        errors["url"] = [_("The address is at most 500 characters long.")]
    elif parts.username or parts.password:
        errors["url"] = [_("Put no user name or password in the address.")]
    if event_types is None:
        event_types = []
    if not isinstance(event_types, list | tuple) or not all(
        isinstance(t, str) for t in event_types
    ):
        errors["event_types"] = [_("Give the event types as a list of names.")]
    else:
        unknown = sorted(set(event_types) - set(EventType.values))
        if unknown:
            errors["event_types"] = [
                _("There is no event type %(names)s; the types are %(known)s.")
                % {"names": "、".join(unknown), "known": "、".join(EventType.values)}
            ]
    if errors:
        raise InvalidInput(errors)
    return name, url, sorted(set(event_types))


def _check_owner(subscription: Subscription, by) -> None:
    if not (subscription.owner_id == by.pk or by.has_perm("integration.change_subscription")):
        raise NotPermitted(
            _("Only the owner of “%(name)s” may change it.") % {"name": subscription.name}
        )


@transaction.atomic
def subscription_create(
    *,
    name: str,
    url: str,
    event_types=None,
    is_active: bool = True,
    by,
    owner=None,
    now: datetime | None = None,
) -> Subscription:
    """Subscribe ``url`` to ``event_types`` (every event when empty); return it with a new
    secret. ``owner`` (default ``by``) is told when deliveries keep failing."""
    name, url, event_types = _clean_subscription(name=name, url=url, event_types=event_types)
    owner = owner or by
    # A retried request must not subscribe the address twice (every event would go twice).
    if Subscription.objects.filter(owner=owner, url=url, is_active=True).exists():
        raise InvalidInput(
            {"url": [_("%(url)s is subscribed already: change that subscription.") % {"url": url}]}
        )
    return Subscription.objects.create(
        name=name,
        url=url,
        event_types=event_types,
        is_active=is_active,
        owner=owner,
        secret=secret_new(),
        created_by=by,
        created_at=now or timezone.now(),
    )


def _locked_subscription(subscription_id: int, by) -> Subscription:
    try:
        subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
    except Subscription.DoesNotExist:
        raise InvalidInput(
            {"subscription": [_("There is no subscription %(id)s.") % {"id": subscription_id}]}
        ) from None
    _check_owner(subscription, by)
    return subscription


@transaction.atomic
def subscription_update(*, subscription_id: int, changes: dict, by) -> Subscription:
    """Change the name, address, event types or active flag of a subscription."""
    subscription = _locked_subscription(subscription_id, by)
    unknown = set(changes) - {"name", "url", "event_types", "is_active"}
    if unknown:
        raise InvalidInput({f: [_("This field cannot be changed.")] for f in sorted(unknown)})
    is_active = changes.get("is_active", subscription.is_active)
    if not isinstance(is_active, bool):
        raise InvalidInput({"is_active": [_("Say true or false.")]})
    name, url, event_types = _clean_subscription(
        name=changes.get("name", subscription.name),
        url=changes.get("url", subscription.url),
        event_types=changes.get("event_types", subscription.event_types),
    )
    subscription.name, subscription.url = name, url
    subscription.event_types, subscription.is_active = event_types, is_active
    subscription.save()
    return subscription


@transaction.atomic
def subscription_rotate_secret(
    *, subscription_id: int, by, overlap: timedelta | None = None, now: datetime | None = None
) -> Subscription:
    """Give the subscription a new secret; the old one signs as well during ``overlap``
    (``WEBHOOK_SECRET_OVERLAP_HOURS``), while the receiver changes its key."""
    now = now or timezone.now()
    if overlap is None:
        overlap = timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
    subscription = _locked_subscription(subscription_id, by)
    in_overlap = (
        subscription.previous_secret
        and subscription.previous_secret_expires_at is not None
        and subscription.previous_secret_expires_at > now
    )
    # A rotation during another's overlap (a retried request whose answer was lost) keeps
    # the secret the receiver still holds signing; the one it may never have seen goes.
    if not in_overlap:
        subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = now + overlap
    subscription.secret = secret_new()
    subscription.save()
    return subscription


@transaction.atomic
def subscription_resume(*, subscription_id: int, by, now: datetime | None = None) -> Subscription:
    """Resume a paused subscription: what waited is sent now, in order."""
    now = now or timezone.now()
    subscription = _locked_subscription(subscription_id, by)
    if subscription.paused_at is None:
        raise InvalidInput(
            {"subscription": [_("“%(name)s” is not paused.") % {"name": subscription.name}]}
        )
    subscription.paused_at = None
    subscription.paused_reason = ""
    subscription.save()
    subscription.deliveries.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=now)
    _send_soon()
    return subscription


# Emitting.


def _send_soon() -> None:
    enqueue_on_commit(deliver_webhooks)


def events_emit(items: Iterable[Outbound], *, now: datetime | None = None) -> int:
    """Store these events and their deliveries in the current transaction; return how
    many deliveries were made. Events no active subscription wants are not stored.

    Three queries whatever the number of events: the subscriptions, the events, the
    deliveries; a worker is asked to send them when the transaction commits.
    """
    items = list(items)
    if not items:
        return 0
    now = now or timezone.now()
    subscriptions = list(Subscription.objects.filter(is_active=True).only("pk", "event_types"))
    wanted = [(item, [s for s in subscriptions if s.wants(item.type)]) for item in items]
    wanted = [(item, subs) for item, subs in wanted if subs]
    if not wanted:
        return 0
    events = Event.objects.bulk_create(
        [
            Event(
                event_id=f"msg_{uuid.uuid4().hex}",
                type=item.type,
                application_id=item.application_id,
                subject=item.subject,
                data=item.data,
                occurred_at=now,
            )
            for item, _subs in wanted
        ]
    )
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(
                event=event,
                subscription=subscription,
                application_id=item.application_id,
                next_attempt_at=now,
                created_at=now,
            )
            for event, (item, subs) in zip(events, wanted, strict=True)
            for subscription in subs
        ]
    )
    _send_soon()
    return len(deliveries)


def event_emit(
    type: str, *, application_id: int | None, subject: str, data: dict, now: datetime | None = None
) -> int:
    """Store one event (see :func:`events_emit`)."""
    return events_emit([Outbound(type, application_id, subject, data)], now=now)


# Replays.


@transaction.atomic
def delivery_replay(*, delivery_id: int, by, now: datetime | None = None) -> Delivery:
    """Send a delivery's event again, as a new delivery (the old one keeps its log)."""
    now = now or timezone.now()
    try:
        delivery = Delivery.objects.select_related("subscription").get(pk=delivery_id)
    except Delivery.DoesNotExist:
        if ArchivedDelivery.objects.filter(pk=delivery_id).exists():
            message = _(
                "Delivery %(id)s is archived with its event: it can no longer be sent again."
            )
        else:
            message = _("There is no delivery %(id)s.")
        raise InvalidInput({"delivery": [message % {"id": delivery_id}]}) from None
    _check_owner(delivery.subscription, by)
    if delivery.status == DeliveryStatus.PENDING:
        raise TransitionNotAllowed(
            [_("Delivery %(id)s is still pending: it is sent on its own.") % {"id": delivery.pk}]
        )
    replay = Delivery.objects.create(
        event_id=delivery.event_id,
        subscription_id=delivery.subscription_id,
        application_id=delivery.application_id,
        next_attempt_at=now,
        replay_of=delivery,
        replayed_by=by,
        created_at=now,
    )
    _send_soon()
    return replay


@transaction.atomic
def deliveries_replay_range(
    *, subscription_id: int, since: datetime, until: datetime, by, now: datetime | None = None
) -> int:
    """Send again every event the subscription was sent that occurred in [since, until);
    return how many. Each event once, in order, whatever its earlier deliveries did."""
    now = now or timezone.now()
    if since >= until:
        raise InvalidInput({"until": [_("The end of the range must come after its start.")]})
    subscription = _locked_subscription(subscription_id, by)
    archived = (
        ArchivedEvent.objects.filter(
            occurred_at__gte=since,
            occurred_at__lt=until,
            pk__in=ArchivedDelivery.objects.filter(subscription=subscription).values("event_id"),
        )
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )
    if archived is not None:
        raise InvalidInput(
            {
                "since": [
                    _(
                        "Events of this subscription up to %(when)s are archived and can no "
                        "longer be sent again; start the range after it."
                    )
                    % {"when": timezone.localtime(archived).strftime("%Y-%m-%d %H:%M")}
                ]
            }
        )
    originals = (
        Delivery.objects.filter(
            subscription=subscription,
            replay_of__isnull=True,
            event__occurred_at__gte=since,
            event__occurred_at__lt=until,
        )
        .order_by("event_id")
        .values_list("pk", "event_id", "application_id")
    )
    replays = Delivery.objects.bulk_create(
        [
            Delivery(
                event_id=event_id,
                subscription=subscription,
                application_id=application_id,
                next_attempt_at=now,
                replay_of_id=pk,
                replayed_by=by,
                created_at=now,
            )
            for pk, event_id, application_id in originals
        ]
    )
    if replays:
        _send_soon()
    return len(replays)


# The archive.


def events_to_archive(*, before: datetime):
    """The events that occurred before ``before`` with no delivery still pending."""
    pending = Delivery.objects.filter(event=OuterRef("pk"), status=DeliveryStatus.PENDING)
    return Event.objects.filter(occurred_at__lt=before).exclude(Exists(pending))


def deliveries_to_archive(*, before: datetime):
    """The deliveries that move with :func:`events_to_archive`."""
    return Delivery.objects.filter(event__in=events_to_archive(before=before).values("pk"))


def archive_events(*, before: datetime, batch_size: int) -> dict[str, int]:
    """Move the events of :func:`events_to_archive`, each with all its deliveries (replays
    included), into the archive tables; return how many of each moved."""
    deliveries = 0

    def with_deliveries(event_ids: list[int]) -> None:
        nonlocal deliveries
        deliveries += archive.move_children(Delivery, ArchivedDelivery, "event_id", event_ids)

    events = archive.move_in_batches(
        Event,
        ArchivedEvent,
        lambda: events_to_archive(before=before),
        batch_size=batch_size,
        along=with_deliveries,
    )
    return {"events": events, "deliveries": deliveries}
