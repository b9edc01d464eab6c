"""Every write of the accounts app."""

import hashlib
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from smtplib import SMTPException

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from yekuo import archive, bulk
from yekuo.errors import InvalidInput, NotPermitted
from yekuo.lookups import any_of

from . import events
from .models import (
    AccountManagerProfile,
    ApiToken,
    ArchivedNotification,
    LoginAttempt,
    Notification,
    NotificationKind,
    TokenScope,
)

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


def mfa_enrolment_start(*, user) -> TOTPDevice:
    """Return the user's device being enrolled, creating it (a new secret) if none is."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


@transaction.atomic
def mfa_enrolment_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm an enrolment with the first code of the app; False if the code is wrong.

    A confirmed device replaces any earlier one: one authenticator per person.
    """
    if not device.verify_token(token):
        return False
    TOTPDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    logger.info("two-step sign-in enrolled for user %s", device.user_id)
    return True


def mfa_code_check(*, device: TOTPDevice, token: str, ip_address: str | None) -> bool:
    """Check a code of the second step; a wrong code counts as a failed sign-in."""
    if device.verify_token(token):
        return True
    login_attempt_record(
        username=device.user.get_username(), succeeded=False, ip_address=ip_address
    )
    return False


def mfa_devices_remove(*, users, by) -> int:
    """Remove the two-step devices of these users (their own choice, or an administrator's
    reset after a lost phone); logged. Returns how many people had one."""
    user_ids = [user.pk for user in users]
    had = set(TOTPDevice.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))
    TOTPDevice.objects.filter(user_id__in=user_ids).delete()
    for user_id in sorted(had):
        logger.warning("two-step sign-in removed for user %s by user %s", user_id, by.pk)
    return len(had)


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


def account_manager_capacity_changed() -> None:
    """Tell whoever listens (``accounts.events.account_manager_capacity_changed``) that
    account managers may have more room. Call it once the change has committed."""
    events.account_manager_capacity_changed.send(sender=AccountManagerProfile)


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


# --- API tokens ----------------------------------------------------------------------------

TOKEN_PREFIX = "yk_"


def api_token_digest(key: str) -> str:
    """Return the stored digest of a key. Keys are long random strings, so a plain SHA-256
    is enough: nothing can be guessed from it, and it is looked up by its prefix."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_prefix(key: str) -> str:
    """Return the part of a key that finds its row: ``yk_`` and 8 characters, or the first
    8 characters of a key issued before tokens were named."""
    return key[: len(TOKEN_PREFIX) + 8] if key.startswith(TOKEN_PREFIX) else key[:8]


@transaction.atomic
def api_token_create(
    *, user, name: str, scope: str, days: int | None = None, by=None, now: datetime | None = None
) -> tuple[ApiToken, str]:
    """Make a token for ``user`` and return it with its key, which is shown only now."""
    name = (name or "").strip()
    days = settings.API_TOKEN_DEFAULT_DAYS if days is None else days
    errors = {}
    if not name:
        errors["name"] = _("Name the system that will use the token.")
    elif len(name) > 80:
        errors["name"] = _("A token's name has at most 80 characters.")
    if scope not in TokenScope.values:
        errors["scope"] = _("The scope is “read” or “write”.")
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        errors["days"] = _("A token is valid for 1 to %(max)d days.") % {
            "max": settings.API_TOKEN_MAX_DAYS
        }
    if not user.is_active:
        errors["user"] = _("%(user)s cannot sign in, so cannot have a token.") % {"user": user}
    if errors:
        raise InvalidInput(errors)
    now = now or timezone.now()
    while True:
        prefix = TOKEN_PREFIX + secrets.token_hex(4)
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        digest=api_token_digest(key),
        scope=scope,
        created_at=now,
        created_by=by,
        expires_at=now + timedelta(days=days),
    )
    logger.info("API token %s (%s) made for %s by %s", prefix, scope, user, by)
    return token, key


@transaction.atomic
def api_token_revoke(*, token_id: int, by, now: datetime | None = None) -> ApiToken:
    """Revoke a token at once; revoking twice keeps the first time."""
    token = ApiToken.objects.select_for_update().get(pk=token_id)
    if not (by.is_superuser or by.has_perm("accounts.change_apitoken") or by == token.user):
        raise NotPermitted(_("Only an administrator or the token's own user may revoke it."))
    if token.revoked_at is None:
        token.revoked_at = now or timezone.now()
        token.revoked_by = by
        token.save(update_fields=["revoked_at", "revoked_by"])
        logger.info("API token %s revoked by %s", token.prefix, by)
    return token


def api_token_used(token: ApiToken, *, now: datetime) -> None:
    """Note when a token was last used, at most once a minute per token."""
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


# --- Archive (yekuo.archive) ----------------------------------------------------------------


def notifications_to_archive(*, before: datetime, live_states: Iterable[str]):
    """Return the notifications read before ``before`` that may leave the hot table.

    An unread one stays. So does one whose deduplication key may still be asked for:
    the key of a notification about an application in one of ``live_states`` (the
    sweep raises its red deviation or time limit again while it lasts, and must find the
    key to stay silent). A key without an application names a day (the digest), which
    does not come back.
    """
    keyed_live = ~Q(dedupe_key="") & Q(application__state__in=list(live_states))
    return (
        Notification.objects.filter(is_read=True)
        .filter(Q(read_at__lt=before) | Q(read_at__isnull=True, created_at__lt=before))
        .exclude(keyed_live)
    )


def archive_notifications(*, before: datetime, batch_size: int, live_states: Iterable[str]) -> int:
    """Move the notifications read before ``before`` into the archive table (see
    :func:`notifications_to_archive` for those that stay)."""
    return archive.move_in_batches(
        Notification,
        ArchivedNotification,
        lambda: notifications_to_archive(before=before, live_states=live_states),
        batch_size=batch_size,
    )
