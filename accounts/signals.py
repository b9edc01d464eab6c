"""Receivers that turn authentication signals into service calls."""

from django.utils import timezone

from . import mfa, services
from .network import client_address
from .sessions import stamp_sign_in


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = credentials.get("username") or ""
    services.login_attempt_record(
        username=username, succeeded=False, ip_address=client_address(request)
    )


def on_logged_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        # A fresh sign-in counts as a recent password confirmation (accounts.sessions).
        stamp_sign_in(request.session, now=timezone.now())
        # Whether this session must pass a second step before it reaches any page.
        request.session[mfa.STEP] = mfa.decide(user)
    services.login_attempt_record(
        username=user.get_username(), succeeded=True, ip_address=client_address(request)
    )
