"""Sending the outbound events: what is due, signed, in order, with backoff.

``deliveries_send`` takes the deliveries due now (each application's events to one
subscription in their order, a later one waiting while an earlier one is pending), posts
them several at once, and records each answer: a success, or a failure scheduled again
after the next wait of ``WEBHOOK_RETRY_SCHEDULE`` with jitter. A delivery that used every
attempt (more than 24 hours) is given up, and its subscription paused and its owner told.
"""

from __future__ import annotations

import json
import logging
import random
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import NotificationKind
from accounts.services import notification_send

from .models import Delivery, DeliveryStatus, Event, Subscription
from .signing import signature_headers

logger = logging.getLogger(__name__)

USER_AGENT = "yekuo-webhooks/1"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
ANSWER_KEPT = 300  # characters of a failed answer kept in the delivery log


def subscription_secrets(subscription: Subscription, now: datetime) -> list[str]:
    """Return the secrets that sign now: the current one, and the previous one during the
    overlap of a rotation."""
    secrets = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and expires > now:
        secrets.append(subscription.previous_secret)
    return secrets


def event_body(event: Event) -> bytes:
    """Return the delivery's body: the event as a CloudEvents JSON document."""
    document = {
        "specversion": "1.0",
        "id": event.event_id,
        "source": settings.WEBHOOK_SOURCE,
        "type": event.type,
        "subject": event.subject,
        "time": event.occurred_at.isoformat(),
        "datacontenttype": "application/json",
        "data": event.data,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Answer:
    """What one attempt got: the HTTP status (None when there was no answer) and why it
    failed (empty on success)."""

    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # A redirect is an answer that did not accept the event.


_opener = urllib.request.build_opener(_NoRedirect)


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST ``body`` to ``url``; return the answer, never raise."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            return Answer(response.status)
    except urllib.error.HTTPError as exc:
        text = exc.read(ANSWER_KEPT).decode("utf-8", "replace")
        return Answer(exc.code, f"HTTP {exc.code}: {text}".strip())
    except (OSError, ValueError) as exc:  # refused, timed out, unreachable, bad address
        return Answer(None, f"{type(exc).__name__}: {exc}"[:ANSWER_KEPT])


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta | None:
    """Return how long to wait after the ``attempts``-th failed attempt (None: give up).

    The waits of ``WEBHOOK_RETRY_SCHEDULE``, each moved by up to a fifth either way so
    that the deliveries that failed together do not come back together.
    """
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    if attempts > len(schedule):
        return None
    factor = (rng or random).uniform(0.8, 1.2)
    return timedelta(seconds=schedule[attempts - 1] * factor)


def _due(now: datetime):
    earlier_pending = Delivery.objects.filter(
        subscription=OuterRef("subscription"),
        application_id=OuterRef("application_id"),
        status=DeliveryStatus.PENDING,
        pk__lt=OuterRef("pk"),
    )
    return (
        Delivery.objects.filter(
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=now,
            subscription__is_active=True,
            subscription__paused_at__isnull=True,
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        # Each application's events in order: only the first pending one of its group.
        .exclude(Exists(earlier_pending))
        .order_by("next_attempt_at", "pk")
    )


@transaction.atomic
def _claim(now: datetime, limit: int) -> list[Delivery]:
    """Take up to ``limit`` due deliveries for this worker until their lease ends."""
    ids = list(
        _due(now)
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", flat=True)[:limit]
    )
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 2 + 30)
    Delivery.objects.filter(pk__in=ids).update(locked_until=lease)
    return list(
        Delivery.objects.filter(pk__in=ids)
        .select_related("event", "subscription")
        .order_by("next_attempt_at", "pk")
    )


def _request(delivery: Delivery, now: datetime) -> tuple[str, bytes, dict[str, str]]:
    body = event_body(delivery.event)
    headers = {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": USER_AGENT,
        **signature_headers(
            secrets=subscription_secrets(delivery.subscription, now),
            message_id=delivery.event.event_id,
            # The moment of sending, which receivers compare with their clock.
            sent_at=timezone.now(),
            body=body,
        ),
    }
    return delivery.subscription.url, body, headers


@transaction.atomic
def _record(delivery: Delivery, answer: Answer, now: datetime) -> None:
    attempts = delivery.attempts + 1
    fields = {
        "attempts": attempts,
        "last_attempt_at": now,
        "last_status_code": answer.status,
        "last_error": answer.error,
        "locked_until": None,
    }
    if answer.ok:
        fields.update(status=DeliveryStatus.SUCCEEDED, delivered_at=now, next_attempt_at=None)
    else:
        wait = retry_delay(attempts)
        if wait is None:
            fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
        else:
            fields.update(next_attempt_at=now + wait)
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    if fields.get("status") == DeliveryStatus.FAILED:
        _pause(delivery, attempts, answer, now)


def _pause(delivery: Delivery, attempts: int, answer: Answer, now: datetime) -> None:
    """Pause the subscription of a delivery given up, and tell its owner once."""
    subscription = Subscription.objects.select_for_update().get(pk=delivery.subscription_id)
    if subscription.paused_at is not None:
        return
    reason = _("%(attempts)s attempts to deliver %(event)s failed; the last: %(error)s") % {
        "attempts": attempts,
        "event": delivery.event.event_id,
        "error": answer.error or answer.status,
    }
    subscription.paused_at = now
    subscription.paused_reason = reason[:300]
    subscription.save(update_fields=["paused_at", "paused_reason", "updated_at"])
    notification_send(
        recipients=[subscription.owner],
        kind=NotificationKind.WEBHOOK_PAUSED,
        text=_(
            "The webhook subscription “%(name)s” (%(url)s) is paused: %(reason)s. Events wait "
            "for it; resume it once the receiver answers again."
        )
        % {"name": subscription.name, "url": subscription.url, "reason": reason},
        dedupe_key=f"webhook-paused:{subscription.pk}:{now.isoformat()}",
        by_mail=True,
    )


def deliveries_send(
    *,
    now: datetime | None = None,
    limit: int | None = None,
    post: Callable[[str, bytes, dict[str, str], float], Answer] = http_post,
) -> dict[str, int]:
    """Send the deliveries due now, up to ``limit`` (``WEBHOOK_BATCH_SIZE``), several at
    once (``WEBHOOK_SENDERS``); return how many succeeded and failed, and whether more
    are due (``more``: the caller sends again)."""
    now = now or timezone.now()
    limit = limit or settings.WEBHOOK_BATCH_SIZE
    claimed = _claim(now, limit)
    if not claimed:
        return {"succeeded": 0, "failed": 0, "more": 0}
    requests = [_request(d, now) for d in claimed]
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    with ThreadPoolExecutor(max_workers=min(settings.WEBHOOK_SENDERS, len(requests))) as pool:
        answers = list(pool.map(lambda r: post(*r, timeout), requests))
    counts = {"succeeded": 0, "failed": 0, "more": int(len(claimed) == limit)}
    for delivery, answer in zip(claimed, answers, strict=True):
        _record(delivery, answer, now)
        counts["succeeded" if answer.ok else "failed"] += 1
        if not answer.ok:
            logger.info(
                "delivery %s of %s to %s failed: %s",
                delivery.pk,
                delivery.event.event_id,
                delivery.subscription.url,
                answer.error,
            )
    return counts
