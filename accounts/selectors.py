"""Every read of the accounts app that a page or an endpoint needs."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    Prefetch,
)
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import AccountManagerProfile, Department, LoginAttempt, Notification, Region, User


def login_recent_failures(
    *, username: str, ip_address: str | None, now: datetime | None = None
) -> int:
    """Count the failed sign-ins for a user name from one address within the window.

    Only failures after that user name's last success from the same address count, and
    none an administrator has cleared: a stranger's guesses from elsewhere never lock
    the real person out (issue 16, finding 5).
    """
    now = now or timezone.now()
    since = now - timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)
    attempts = LoginAttempt.objects.filter(username=username, at__gte=since, at__lte=now)
    attempts = (
        attempts.filter(ip_address=ip_address)
        if ip_address
        else attempts.filter(ip_address__isnull=True)
    )
    last_success = (
        attempts.filter(succeeded=True).order_by("-at").values_list("at", flat=True).first()
    )
    failures = attempts.filter(succeeded=False, cleared_at__isnull=True)
    if last_success is not None:
        failures = failures.filter(at__gt=last_success)
    return failures.count()


def login_address_failures(*, ip_address: str | None, now: datetime | None = None) -> int:
    """Count the failed sign-ins from one address for any user name within the window.

    A success from the address does not reset it: one known account must not buy an
    address more guesses at the others.
    """
    if not ip_address:
        return 0
    now = now or timezone.now()
    since = now - timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)
    return LoginAttempt.objects.filter(
        ip_address=ip_address,
        succeeded=False,
        cleared_at__isnull=True,
        at__gte=since,
        at__lte=now,
    ).count()


def supervisors():
    """Return the active people who supervise applications (supervisors and administrators)."""
    return User.objects.with_perm(
        "accounts.supervise_applications", include_superusers=True
    ).filter(is_active=True)


def department_staff(department_ids) -> dict[int, list]:
    """Return the active staff of each department who record its progress, in one query."""
    staff: dict[int, list] = {}
    users = User.objects.with_perm("accounts.record_department_progress").filter(
        is_active=True, department_id__in=[d for d in department_ids if d is not None]
    )
    for user in users:
        staff.setdefault(user.department_id, []).append(user)
    return staff


def account_manager_list(*, active_only: bool = False):
    """Return account-manager profiles with their users and regions, in two queries."""
    profiles = AccountManagerProfile.objects.select_related(
        "user", "user__department"
    ).prefetch_related(Prefetch("regions", queryset=Region.objects.order_by("code")))
    if active_only:
        profiles = profiles.filter(is_active=True, user__is_active=True)
    return profiles.order_by("user__username")


# --- Notifications panel --------------------------------------------------------------------

NOTIFICATION_PANEL_SIZE = 8


def notifications_unread(*, user, limit: int = NOTIFICATION_PANEL_SIZE) -> tuple[list, int]:
    """Return the newest unread notifications of ``user`` (up to ``limit``) and how many
    there are unread, in two queries. The panel shows their text and time: the
    application (a row of 60 columns, four of them JSON) is not read."""
    unread = Notification.objects.filter(recipient=user, is_read=False)
    newest = list(unread.order_by("-created_at", "-id")[:limit])
    count = len(newest) if len(newest) < limit else unread.count()
    return newest, count


def departments() -> list:
    """The active departments, in their order (to choose one in a form)."""
    return list(Department.objects.filter(is_active=True))


def mfa_device(*, user, confirmed: bool = True):
    """Return the user's TOTP device of the two-step sign-in (confirmed or not), or None."""
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()
