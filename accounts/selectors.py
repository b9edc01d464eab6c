"""Every read of the accounts app that a page or an endpoint needs."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from django.conf import settings
from django.db.models import (
    Case,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from applications.models import ACTIVE_STATES, Application
from yekuo.domain import CustomerClass

from .models import AccountManagerProfile, LoginAttempt, Region


def login_recent_failures(*, username: str, now: datetime | None = None) -> int:
    """Count failed sign-ins for a user name since its last success, within the window."""
    now = now or timezone.now()
    since = now - timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)
    attempts = LoginAttempt.objects.filter(username=username, at__gte=since)
    last_success = (
        attempts.filter(succeeded=True).order_by("-at").values_list("at", flat=True).first()
    )
    failures = attempts.filter(succeeded=False)
    if last_success is not None:
        failures = failures.filter(at__gt=last_success)
    return failures.count()


def supervisors():
    """Return the active people who supervise applications (supervisors and administrators)."""
    from .models import User

    return User.objects.with_perm(
        "accounts.supervise_applications", include_superusers=True
    ).filter(is_active=True)


def department_staff(department_ids) -> dict[int, list]:
    """Return the active staff of each department who record its progress, in one query."""
    from .models import User

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


# --- Account-manager load -------------------------------------------------------------------

# How much of a manager's capacity one active application takes. An important customer
# (重要客户) and a dual-source high-voltage connection each need about twice the
# coordination of an ordinary one (two supply points to plan, more reviews and
# inspections, closer follow-up), so they count 2; every other application counts 1.
HEAVY_APPLICATION_WEIGHT = 2
APPLICATION_WEIGHT = 1


def application_weight(*, is_important: bool, customer_class: str) -> int:
    """Return how much of a manager's capacity one application takes."""
    if is_important or customer_class == CustomerClass.HV_DUAL:
        return HEAVY_APPLICATION_WEIGHT
    return APPLICATION_WEIGHT


def _weight_expression():
    """Return ``application_weight`` as an SQL expression over application rows."""
    return Case(
        When(
            Q(is_important=True) | Q(customer_class=CustomerClass.HV_DUAL),
            then=Value(HEAVY_APPLICATION_WEIGHT),
        ),
        default=Value(APPLICATION_WEIGHT),
        output_field=IntegerField(),
    )


def manager_weighted_loads(*, user_ids) -> dict[int, int]:
    """Return the weighted active applications of each manager (by user id), in one query.

    A manager holding no active application is absent from the result (load 0).
    """
    rows = (
        Application.objects.filter(account_manager_id__in=list(user_ids), state__in=ACTIVE_STATES)
        .order_by()
        .values("account_manager_id")
        .annotate(load=Sum(_weight_expression()))
        .values_list("account_manager_id", "load")
    )
    return dict(rows)


@dataclass(frozen=True)
class ManagerLoad:
    profile: AccountManagerProfile
    load: int
    capacity: int

    @property
    def ratio(self) -> Fraction:
        return Fraction(self.load, self.capacity)

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.load)


def account_manager_loads() -> list[ManagerLoad]:
    """Return each active manager with weighted load and capacity, in two queries.

    The load is computed in the database (a subquery per profile row), the regions are
    prefetched; the number of queries does not grow with the number of managers.
    """
    load = (
        Application.objects.filter(account_manager_id=OuterRef("user_id"), state__in=ACTIVE_STATES)
        .order_by()
        .values("account_manager_id")
        .annotate(load=Sum(_weight_expression()))
        .values("load")
    )
    profiles = account_manager_list(active_only=True).annotate(
        weighted_load=Coalesce(Subquery(load, output_field=IntegerField()), Value(0))
    )
    return [
        ManagerLoad(profile=profile, load=profile.weighted_load, capacity=profile.capacity)
        for profile in profiles
    ]


def unassigned_applications():
    """Return the supervisors' queue: active applications without a manager, oldest first."""
    return (
        Application.objects.filter(account_manager__isnull=True, state__in=ACTIVE_STATES)
        .select_related("customer", "region")
        .order_by("created_at", "id")
    )


# --- Notifications panel --------------------------------------------------------------------

NOTIFICATION_PANEL_SIZE = 8


def notifications_unread(*, user, limit: int = NOTIFICATION_PANEL_SIZE) -> tuple[list, int]:
    """Return the newest unread notifications of ``user`` (up to ``limit``) and how many
    there are unread, in two queries."""
    from .models import Notification

    unread = Notification.objects.filter(recipient=user, is_read=False)
    newest = list(unread.select_related("application").order_by("-created_at", "-id")[:limit])
    count = len(newest) if len(newest) < limit else unread.count()
    return newest, count
