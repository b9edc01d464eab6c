"""How long a signed-in session lasts, and password confirmation before sensitive actions.

A session ends after ``SESSION_IDLE_MINUTES`` without a request and, however busy,
``SESSION_ABSOLUTE_HOURS`` after the sign-in. Assigning, re-planning and exporting
additionally need the password to have been entered within ``REAUTH_MINUTES``
(the sign-in itself counts). The moments are kept in the session as POSIX seconds.
"""

from datetime import datetime
from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

SIGNED_IN_AT = "yekuo_signed_in_at"
ACTIVE_AT = "yekuo_active_at"
CONFIRMED_AT = "yekuo_password_confirmed_at"

# Last activity is written back at most this often, not on every request.
ACTIVITY_RESOLUTION_SECONDS = 60


def stamp_sign_in(session, *, now: datetime) -> None:
    """Start the clocks of a new sign-in: issued, active and password confirmed now."""
    moment = now.timestamp()
    session[SIGNED_IN_AT] = moment
    session[ACTIVE_AT] = moment
    session[CONFIRMED_AT] = moment


def stamp_password_confirmed(session, *, now: datetime) -> None:
    session[CONFIRMED_AT] = now.timestamp()


def session_expired(session, *, now: datetime) -> bool:
    """Whether the session has been idle too long or has outlived its absolute lifetime."""
    moment = now.timestamp()
    signed_in = session.get(SIGNED_IN_AT)
    active = session.get(ACTIVE_AT, signed_in)
    if signed_in is None:
        return False
    return (
        moment - active > settings.SESSION_IDLE_MINUTES * 60
        or moment - signed_in > settings.SESSION_ABSOLUTE_HOURS * 3600
    )


def password_recently_confirmed(session, *, now: datetime) -> bool:
    confirmed = session.get(CONFIRMED_AT)
    return confirmed is not None and now.timestamp() - confirmed <= settings.REAUTH_MINUTES * 60


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _client_redirect(request, url: str):
    """Redirect the page, also when htmx asked for a fragment (it would swap the target in)."""
    if _is_htmx(request):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


class SessionLimitsMiddleware:
    """Sign out a session that has been idle or alive too long (after the messages middleware).

    Pages are sent to the sign-in with a message and the page as ``next``; under
    ``/api/`` the request goes on unauthenticated, so the API answers 401 as for anyone
    without credentials. A session from before these stamps existed starts its clocks now.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and SIGNED_IN_AT in request.session:
            now = timezone.now()
            if session_expired(request.session, now=now):
                logout(request)
                if not request.path.startswith("/api/"):
                    messages.info(request, _("Your session has ended. Please sign in again."))
                    login = redirect_to_login(request.get_full_path())
                    return _client_redirect(request, login["Location"])
            elif now.timestamp() - request.session.get(ACTIVE_AT, 0) >= ACTIVITY_RESOLUTION_SECONDS:
                request.session[ACTIVE_AT] = now.timestamp()
        elif request.user.is_authenticated:
            stamp_sign_in(request.session, now=timezone.now())
        return self.get_response(request)


def _return_target(request, *, page_on_get: bool = False) -> str:
    """Where to come back after the confirmation: this page, or for a form post the page
    the form was on (the post itself is not replayed). ``page_on_get``: the same address
    shows the form's page (a re-plan), the way back when the browser sent no referer."""
    if request.method in {"GET", "HEAD"}:
        return request.get_full_path()
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return f"{parts.path}?{parts.query}" if parts.query else parts.path
    if page_on_get:
        return request.get_full_path()
    return reverse(settings.LOGIN_REDIRECT_URL)


def recent_password_required(view=None, *, methods: tuple[str, ...] | None = None):
    """Ask for the password again before this view unless it was given recently.

    ``methods`` limits the check to those HTTP methods (a page whose POST is the
    sensitive action). The person comes back to the page after confirming.
    """

    def decorator(view_func):
        @wraps(view_func)
        def wrapper(request, *args, **kwargs):
            if (methods is None or request.method in methods) and not (
                password_recently_confirmed(request.session, now=timezone.now())
            ):
                page_on_get = methods is not None and "GET" not in methods
                query = urlencode({"next": _return_target(request, page_on_get=page_on_get)})
                return _client_redirect(request, f"{reverse('password_confirm')}?{query}")
            return view_func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator
