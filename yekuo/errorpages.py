"""Error pages in the site's layout: 403, 404, 405 and 500 say what happened, in the
reader's language, with a way back, in development as in production.

Django shows its own technical 404 page (with the URL list) whenever ``DEBUG`` is on, and
a bare "405" for a GET of a form's address; :class:`FramedErrorPagesMiddleware` replaces
those with the framed pages for everything outside the API (which answers problem details
of its own) and the static files.

A database outage (``OperationalError``, ``InterfaceError``) is a 503, not a 500: under
``/api/`` as problem details, elsewhere as the framed page, rendered without the
request's context (the navigation and the signed-in user need the database). A view's
outage is caught by :class:`FramedErrorPagesMiddleware` (with ``DEBUG`` on too); one in a
middleware (the session, the login check) reaches :func:`server_error`.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

from yekuo.api import problems
from yekuo.api.problems import DATABASE_OUTAGE, DatabaseUnavailable, problem_response

logger = logging.getLogger(__name__)

_PASSED = ("/api/", "/static/", "/healthz", "/readyz")
_API = "/api/"


def _render(request, status: int, title: str, message: str) -> HttpResponse:
    response = HttpResponse(
        loader.render_to_string(
            "errors/error.html",
            {"status": status, "title": title, "message": message},
            request=request,
        ),
        status=status,
    )
    response.framed = True
    return response


def bad_request(request, exception=None) -> HttpResponse:
    """Answer a request Django refused before any view ran (such as a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``): problem details under the API, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return problems.bad_request_response(exception)
    return defaults.bad_request(request, exception)


def page_not_found(request, exception=None) -> HttpResponse:
    return _render(
        request,
        404,
        _("Page not found"),
        _("There is no page at this address, or it is not yours to read."),
    )


def permission_denied(request, exception=None) -> HttpResponse:
    detail = str(exception) if exception and str(exception) else ""
    return _render(
        request,
        403,
        _("Not permitted"),
        detail or _("Your role does not permit this page or action."),
    )


def method_not_allowed(request) -> HttpResponse:
    return _render(
        request,
        405,
        _("Nothing to show at this address"),
        _("This address only takes a form's submission; go back to the page the form is on."),
    )


def csrf_failure(request, reason: str = "") -> HttpResponse:
    return _render(
        request,
        403,
        _("The form has expired"),
        _(
            "The page was open too long or you signed in elsewhere meanwhile. Nothing was "
            "changed: open the page again and send the form once more."
        ),
    )


def database_unavailable(request) -> HttpResponse:
    """Answer 503 for a database outage: problem details under the API, else the page."""
    if request.path.startswith(_API):
        return problem_response(
            503, DatabaseUnavailable.default_code, str(DatabaseUnavailable.default_detail)
        )
    response = HttpResponse(
        loader.render_to_string(
            "errors/error.html",
            {
                "status": 503,
                "title": _("Service unavailable"),
                "message": _(
                    "The database cannot be reached. Nothing you sent was saved; try "
                    "again in a minute."
                ),
            },
        ),
        status=503,
    )
    response["Retry-After"] = "60"
    response.framed = True
    return response


def server_error(request) -> HttpResponse:
    """Render the 500 page in the layout, or a plain one if even that fails; a database
    outage is a 503, and the API answers problem details."""
    exception = sys.exc_info()[1]
    if isinstance(exception, DATABASE_OUTAGE):
        return database_unavailable(request)
    if request.path.startswith(_API):
        return problem_response(500, "server_error", _("The error is logged; try again later."))
    try:
        return _render(
            request,
            500,
            _("Something went wrong"),
            _("The error is logged. Nothing you sent was half-applied; try again in a moment."),
        )
    except Exception:  # The page of last resort must not fail itself.
        logger.exception("the 500 page failed to render")
        return HttpResponse(
            "<!DOCTYPE html><title>500</title><h1>500</h1><p><a href='/'>yekuo</a></p>",
            status=500,
        )


class FramedErrorPagesMiddleware:
    """Frame the 404 and 405 answers that Django builds without the layout."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(response, "framed", False) or request.path.startswith(_PASSED):
            return response
        if response.status_code == 405 and not response.content:
            return method_not_allowed(request)
        if (
            response.status_code == 404
            and settings.DEBUG
            and response.get("Content-Type", "").startswith("text/html")
        ):
            return page_not_found(request)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_OUTAGE):
            logger.error("database unavailable: %s: %s", type(exception).__name__, exception)
            return database_unavailable(request)
        if request.path.startswith(_PASSED):
            return None
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return permission_denied(request, exception)
        return None
