"""Every write of the accounts app."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import LoginAttempt


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
