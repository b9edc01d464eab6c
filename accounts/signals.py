"""Receivers that turn authentication signals into service calls."""

from . import services


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = credentials.get("username") or ""
    services.login_attempt_record(
        username=username, succeeded=False, ip_address=_client_ip(request)
    )


def on_logged_in(sender, request, user, **kwargs) -> None:
    services.login_attempt_record(
        username=user.get_username(), succeeded=True, ip_address=_client_ip(request)
    )
