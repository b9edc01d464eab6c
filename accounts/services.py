"""Every write of the accounts app."""

import logging
from datetime import datetime
from smtplib import SMTPException

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from yekuo import bulk
from yekuo.lookups import any_of

from .models import LoginAttempt, Notification, NotificationKind

logger = logging.getLogger(__name__)


@transaction.atomic
def login_attempt_record(
    *, username: str, succeeded: bool, ip_address: str | None, now: datetime | None = None
) -> LoginAttempt:
    """Log one sign-in attempt and keep the user's failure counter in step with it."""
    now = now or timezone.now()
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    attempt = LoginAttempt.objects.create(
        username=username[:150], user=user, succeeded=succeeded, ip_address=ip_address
    )
    if user is not None:
        if succeeded:
            User.objects.filter(pk=user.pk).update(failed_login_count=0)
        else:
            User.objects.filter(pk=user.pk).update(
                failed_login_count=F("failed_login_count") + 1, last_failed_login_at=now
            )
    return attempt


def login_unlock(
    *,
    by,
    usernames: list[str] | None = None,
    ip_addresses: list[str] | None = None,
    pairs: list[tuple[str, str | None]] | None = None,
    now: datetime | None = None,
) -> int:
    """Clear the counted failures behind a lock, so the sign-in is open again at once.

    ``usernames`` clears a user name's failures from every address, ``ip_addresses`` an
    address's failures for every user name, ``pairs`` one user name from one address. The
    rows stay (audit) with who cleared them and when. Returns how many were cleared.
    """
    now = now or timezone.now()
    condition = Q(pk__in=[])
    if usernames:
        condition |= Q(username__in=usernames)
    if ip_addresses:
        condition |= Q(ip_address__in=ip_addresses)
    for username, ip_address in pairs or []:
        condition |= Q(username=username, ip_address=ip_address)
    cleared = LoginAttempt.objects.filter(
        condition, succeeded=False, cleared_at__isnull=True
    ).update(cleared_at=now, cleared_by=by)
    if usernames:
        get_user_model().objects.filter(username__in=usernames).update(failed_login_count=0)
    return cleared


def _mail_notifications(notification_ids: list[int]) -> None:
    """Mail those of these notifications meant for mail to their recipients, through one
    connection: a digest to those who take the digest, an event to those who take mail of
    events (``User.daily_digest``, ``User.mail_events``).

    Only the address and the text are read: a sweep mails thousands at once.
    """
    wanted = Q(kind=NotificationKind.DIGEST, recipient__daily_digest=True) | (
        ~Q(kind=NotificationKind.DIGEST) & Q(recipient__mail_events=True)
    )
    rows = (
        Notification.objects.filter(any_of("pk", notification_ids), wanted, by_mail=True)
        .exclude(recipient__email="")
        .order_by("pk")
        .values_list("recipient__email", "text")
    )
    connection = None
    for email, text in rows.iterator(chunk_size=2000):
        subject = text.splitlines()[0][:120]
        message = EmailMessage(subject=f"[业扩] {subject}", body=text, to=[email])
        try:
            if connection is None:
                connection = get_connection()
                connection.open()
            message.connection = connection
            message.send()
        except (OSError, SMTPException):
            # The in-app notification is the record; a mail server outage must not undo it.
            logger.exception("mail to %s failed", email)
    if connection is not None:
        try:
            connection.close()
        except (OSError, SMTPException):
            logger.exception("closing the mail connection failed")


@transaction.atomic
def notification_send(
    *,
    recipients,
    kind: str,
    text: str,
    application=None,
    dedupe_key: str = "",
    by_mail: bool = False,
) -> list[Notification]:
    """Notify each recipient once per ``dedupe_key``; with ``by_mail``, mail the new ones
    after commit (as their preferences allow)."""
    created = []
    for recipient in {r.pk: r for r in recipients if r is not None and r.is_active}.values():
        values = {"kind": kind, "text": text, "application": application, "by_mail": by_mail}
        if dedupe_key:
            notification, is_new = Notification.objects.get_or_create(
                recipient=recipient, dedupe_key=dedupe_key, defaults=values
            )
        else:
            notification = Notification.objects.create(recipient=recipient, **values)
            is_new = True
        if is_new:
            created.append(notification)
    if by_mail and created:
        ids = [n.pk for n in created]
        transaction.on_commit(lambda: _mail_notifications(ids))
    return created


def notification_send_many(items) -> int:
    """Store many notifications in a constant number of queries; return how many are new.

    ``items`` are (recipient, kind, application, text, dedupe_key, by_mail) tuples; a key
    already stored for the recipient, by this or any other transaction, is skipped, so a
    sweep that runs twice notifies once. The new ones meant for mail are mailed after
    commit. The rows go in as plain values: a sweep raises thousands at once.
    """
    wanted = {}
    for recipient, kind, application, text, key, by_mail in items:
        if recipient is not None and recipient.is_active:
            wanted.setdefault(
                (recipient.pk, key),
                (kind, application.pk if application else None, text, by_mail),
            )
    if not wanted:
        return 0
    # The database skips the stored keys (ON CONFLICT, on notification_once_per_key): an
    # index probe per row. A lookup of the keys beforehand would depend on the planner's
    # statistics, which lag the tens of thousands of rows a first sweep adds, and then scan
    # every notification once per batch.
    rows = [
        (recipient_id, kind, application_id, text, key, by_mail)
        for (recipient_id, key), (kind, application_id, text, by_mail) in wanted.items()
    ]
    ids = bulk.insert_rows(
        Notification,
        ["recipient", "kind", "application", "text", "dedupe_key", "by_mail"],
        rows,
        returning=True,
        ignore_conflicts=True,
    )
    if ids and any(row[-1] for row in rows):
        transaction.on_commit(lambda: _mail_notifications(ids))
    return len(ids)


def notification_preferences_set(*, user, mail_events: bool, daily_digest: bool) -> None:
    """Store what reaches ``user`` by mail besides the in-app list."""
    user.mail_events = mail_events
    user.daily_digest = daily_digest
    user.save(update_fields=["mail_events", "daily_digest"])


def notification_mark_read(*, notification_ids, by, now: datetime | None = None) -> int:
    """Mark the given notifications of ``by`` as read; return how many changed."""
    return Notification.objects.filter(pk__in=notification_ids, recipient=by, is_read=False).update(
        is_read=True, read_at=now or timezone.now()
    )
