"""Two-step sign-in (TOTP through django-otp): who must give a code, and the gate.

After the password, a person with a confirmed device gives the 6-digit code of their
authenticator app before the session counts as verified (``user.is_verified()``); a
person in one of ``MFA_REQUIRED_ROLES`` without a device enrols one first. Until then
the session reaches only the second step, the enrolment, the sign-out and the probes.
API tokens are not sessions and are not held here.

What a session needs is decided once, at the sign-in (``decide``), and kept in the
session, so that pages of people without a device cost no extra query.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from yekuo.api.problems import problem_response

from . import selectors
from .roles import roles_of
from .sessions import _client_redirect

STEP = "yekuo_second_step"
NONE, VERIFY, ENROL = "none", "verify", "enrol"

# Reachable while the second step is pending (static files are served before this).
OPEN_PATHS = ("/healthz", "/readyz", "/i18n/", "/static/")


def required_for(user) -> bool:
    """Whether the user's role obliges them to use a second step."""
    required = set(settings.MFA_REQUIRED_ROLES)
    return bool(required) and bool(roles_of(user) & required)


def decide(user) -> str:
    """What this user's session needs after the password: nothing, a code or an enrolment."""
    if selectors.mfa_device(user=user) is not None:
        return VERIFY
    if required_for(user):
        return ENROL
    return NONE


def pending_step(request) -> str | None:
    """The step this session still has to pass (``VERIFY`` or ``ENROL``), or None."""
    user = request.user
    if not user.is_authenticated:
        return None
    step = request.session.get(STEP)
    if step is None:
        step = request.session[STEP] = decide(user)
    if step == NONE or user.is_verified():
        return None
    return step


class SecondStepMiddleware:
    """Send a signed-in but not yet verified session to its second step (or enrolment)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        step = pending_step(request)
        if step is not None and not self._open(request, step):
            if request.path.startswith("/api/"):
                return problem_response(
                    403,
                    "second_step_required",
                    _("Give the code of the two-step sign-in in the browser first."),
                )
            target = reverse("mfa_verify" if step == VERIFY else "mfa_enrol")
            query = urlencode({"next": request.get_full_path()})
            return _client_redirect(request, f"{target}?{query}")
        return self.get_response(request)

    @staticmethod
    def _open(request, step: str) -> bool:
        path = request.path
        return path.startswith(OPEN_PATHS) or path in {
            reverse("mfa_verify" if step == VERIFY else "mfa_enrol"),
            reverse("logout"),
            reverse("login"),
        }
