"""Every write of the accounts app."""

import logging
from datetime import datetime, timedelta
from fractions import Fraction
from smtplib import SMTPException

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import ACTIVE_STATES, Application, AssignmentChange
from yekuo import bulk
from yekuo.lookups import any_of

from . import selectors
from .models import AccountManagerProfile, LoginAttempt, Notification

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


def _mail_notifications(notification_ids: list[int]) -> None:
    """Mail each of these notifications to its recipient, through one connection.

    Only the address and the text are read: a sweep mails thousands at once.
    """
    rows = (
        Notification.objects.filter(any_of("pk", notification_ids))
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
    *, recipients, kind: str, text: str, application=None, dedupe_key: str = ""
) -> list[Notification]:
    """Notify each recipient once per ``dedupe_key``; mail the new ones after commit."""
    created = []
    for recipient in {r.pk: r for r in recipients if r is not None and r.is_active}.values():
        if dedupe_key:
            notification, is_new = Notification.objects.get_or_create(
                recipient=recipient,
                dedupe_key=dedupe_key,
                defaults={"kind": kind, "text": text, "application": application},
            )
        else:
            notification = Notification.objects.create(
                recipient=recipient, kind=kind, text=text, application=application
            )
            is_new = True
        if is_new:
            created.append(notification)
    if created:
        ids = [n.pk for n in created]
        transaction.on_commit(lambda: _mail_notifications(ids))
    return created


def notification_send_many(items) -> int:
    """Store many notifications in a constant number of queries; return how many are new.

    ``items`` are (recipient, kind, application, text, dedupe_key) tuples; a key already
    stored for the recipient, by this or any other transaction, is skipped, so a sweep that
    runs twice notifies once. The new ones are mailed after commit. The rows go in as plain
    values: a sweep raises thousands at once.
    """
    wanted = {}
    for recipient, kind, application, text, key in items:
        if recipient is not None and recipient.is_active:
            wanted.setdefault(
                (recipient.pk, key), (kind, application.pk if application else None, text)
            )
    if not wanted:
        return 0
    # The database skips the stored keys (ON CONFLICT, on notification_once_per_key): an
    # index probe per row. A lookup of the keys beforehand would depend on the planner's
    # statistics, which lag the tens of thousands of rows a first sweep adds, and then scan
    # every notification once per batch.
    rows = [
        (recipient_id, kind, application_id, text, key)
        for (recipient_id, key), (kind, application_id, text) in wanted.items()
    ]
    ids = bulk.insert_rows(
        Notification,
        ["recipient", "kind", "application", "text", "dedupe_key"],
        rows,
        returning=True,
        ignore_conflicts=True,
    )
    if ids:
        transaction.on_commit(lambda: _mail_notifications(ids))
    return len(ids)


def notification_mark_read(*, notification_ids, by, now: datetime | None = None) -> int:
    """Mark the given notifications of ``by`` as read; return how many changed."""
    return Notification.objects.filter(pk__in=notification_ids, recipient=by, is_read=False).update(
        is_read=True, read_at=now or timezone.now()
    )


# --- Account-manager assignment (DESIGN §7) -------------------------------------------------

ASSIGNED = "assigned"
UNASSIGNED = "unassigned"
ALREADY_ASSIGNED = "already_assigned"
NOT_ACTIVE = "not_active"
MISSING = "missing"


def account_manager_assign(*, application_id: int, now: datetime | None = None) -> str:
    """Give an active application without a manager the eligible manager with the least load.

    Eligible: an active profile of an active user that serves the application's region,
    is qualified for its voltage class and has room for the application's weight
    (``selectors.application_weight``). The lowest weighted load / capacity wins; ties go
    to the manager assigned least recently (never assigned first), then by user name. The
    reason is logged with the change and the manager is notified.

    Return ``"assigned"``, or ``"unassigned"`` when nobody is eligible: the application
    then waits in the supervisors' queue and they are notified; that is not an error.
    ``"already_assigned"``, ``"not_active"`` and ``"missing"`` change nothing, so running
    this twice assigns once.

    The application row and then the eligible profiles stay locked until commit: two
    assignments at once to the same managers run one after the other, and the second
    counts the load the first added, so nobody is filled past capacity. Profiles are
    locked in id order, so two assignments cannot deadlock on them.
    """
    now = now or timezone.now()
    with transaction.atomic():
        application = (
            Application.objects.select_for_update(of=("self",))
            .select_related("customer", "region")
            .filter(pk=application_id)
            .first()
        )
        if application is None:
            logger.warning("application %s to assign does not exist", application_id)
            return MISSING
        if application.account_manager_id is not None:
            return ALREADY_ASSIGNED
        if application.state not in ACTIVE_STATES:
            return NOT_ACTIVE

        serving = list(
            AccountManagerProfile.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(is_active=True, user__is_active=True, regions=application.region_id)
            .order_by("pk")
        )
        # A JSON list: filtered here because SQLite cannot ask whether it contains a value.
        qualified = [p for p in serving if application.voltage_class in (p.voltage_classes or [])]
        loads = selectors.manager_weighted_loads(user_ids=[p.user_id for p in qualified])
        weight = selectors.application_weight(
            is_important=application.is_important, customer_class=application.customer_class
        )
        candidates = [
            (Fraction(loads.get(p.user_id, 0), p.capacity), p)
            for p in qualified
            if loads.get(p.user_id, 0) + weight <= p.capacity
        ]
        if not candidates:
            _notify_unassigned(application, serving=serving, qualified=qualified)
            return UNASSIGNED

        candidates.sort(
            key=lambda c: (
                c[0],
                c[1].last_assigned_at is not None,
                c[1].last_assigned_at or now,
                c[1].user.username,
            )
        )
        lowest, profile = candidates[0]
        tied = sum(1 for ratio, _p in candidates if ratio == lowest) > 1
        params = {
            "region": application.region,
            "voltage": application.get_voltage_class_display(),
            "load": loads.get(profile.user_id, 0),
            "capacity": profile.capacity,
        }
        if tied:
            reason = (
                _(
                    "Assigned automatically: serves %(region)s, qualified for %(voltage)s, "
                    "load %(load)s/%(capacity)s (the lowest; of equal loads, the longest "
                    "without a new assignment)."
                )
                % params
            )
        else:
            reason = (
                _(
                    "Assigned automatically: serves %(region)s, qualified for %(voltage)s, "
                    "load %(load)s/%(capacity)s (the lowest)."
                )
                % params
            )

        # Conditional, for SQLite, which ignores row locks: another run that assigned the
        # application meanwhile leaves nothing to update here.
        updated = Application.objects.filter(
            pk=application.pk, account_manager__isnull=True
        ).update(
            account_manager=profile.user,
            assigned_at=now,
            version=F("version") + 1,
            updated_at=now,
        )
        if not updated:
            return ALREADY_ASSIGNED
        AccountManagerProfile.objects.filter(pk=profile.pk).update(last_assigned_at=now)
        AssignmentChange.objects.create(
            application=application,
            from_manager=None,
            to_manager=profile.user,
            reason=reason,
            by=None,
            at=now,
        )
        notification_send(
            recipients=[profile.user],
            kind="assigned",
            text=_("%(number)s (%(customer)s) is assigned to you. %(reason)s")
            % {"number": application.number, "customer": application.customer, "reason": reason},
            application=application,
            dedupe_key=f"assigned:{application.pk}:{profile.user_id}",
        )
    logger.info("application %s assigned to %s", application.number, profile.user.username)
    return ASSIGNED


def _notify_unassigned(application, *, serving, qualified) -> None:
    """Tell every supervisor (once per application) that nobody can take ``application``."""
    params = {
        "number": application.number,
        "customer": application.customer,
        "region": application.region,
        "voltage": application.get_voltage_class_display(),
    }
    if not serving:
        why = _("no active account manager serves %(region)s.") % params
    elif not qualified:
        why = (
            _("no active account manager serving %(region)s is qualified for %(voltage)s.") % params
        )
    else:
        why = (
            _(
                "every account manager serving %(region)s and qualified for %(voltage)s "
                "is at capacity."
            )
            % params
        )
    text = _(
        "%(number)s (%(customer)s, %(region)s, %(voltage)s) has no account manager: "
        "%(why)s Assign one from the unassigned queue."
    ) % {**params, "why": why}
    User = get_user_model()
    supervisors = list(User.objects.with_perm("accounts.assign_account_manager").order_by("pk"))
    if not supervisors:
        logger.error("nobody may assign account managers; %s stays unassigned", application.number)
    notification_send(
        recipients=supervisors,
        kind="unassigned",
        text=text,
        application=application,
        dedupe_key=f"unassigned:{application.pk}",
    )
    logger.warning("application %s left unassigned: %s", application.number, why)


def account_manager_assign_sweep(
    *, now: datetime | None = None, older_than_minutes: int = 5
) -> dict[str, int]:
    """Assign every active application that has waited for a manager longer than the minutes.

    The on-commit task assigns within seconds; this catches the applications whose
    message never arrived (broker down at commit, a lost message). Each application gets
    its own transaction, so the locks of one are not held while the next is assigned.
    Return how many were assigned and how many still have nobody eligible.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=older_than_minutes)
    application_ids = list(
        selectors.unassigned_applications()
        .filter(created_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    counts = {ASSIGNED: 0, UNASSIGNED: 0}
    for application_id in application_ids:
        status = account_manager_assign(application_id=application_id, now=now)
        if status in counts:
            counts[status] += 1
    return counts
