"""Every read of the accounts app that a page or an endpoint needs."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

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


def account_manager_list(*, active_only: bool = False):
    """Return account-manager profiles with their users and regions, in two queries."""
    profiles = AccountManagerProfile.objects.select_related(
        "user", "user__department"
    ).prefetch_related(Prefetch("regions", queryset=Region.objects.order_by("code")))
    if active_only:
        profiles = profiles.filter(is_active=True, user__is_active=True)
    return profiles.order_by("user__username")
