"""Every API error as ``application/problem+json`` (RFC 9457).

The body is ``{type, title, status, detail, errors}``: ``errors`` maps a field (dotted for
nested input, ``non_field_errors`` for the whole body) to its messages and is empty when
the error is not about a field. Domain errors of ``yekuo.errors`` and DRF's own errors go
through the same handler, so a client reads one shape whatever refused its request.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers, status
from rest_framework.views import exception_handler as drf_exception_handler

from yekuo import errors

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = gettext_lazy(
        "Send the If-Match header with the ETag of the application you read."
    )
    default_code = "precondition_required"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = gettext_lazy("The application changed since you read it: reload it.")
    default_code = "stale_version"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("This is not possible now.")
    default_code = "transition_not_allowed"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = gettext_lazy(
        "This Idempotency-Key was used for a different request: use a new key."
    )
    default_code = "idempotency_key_reused"


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = gettext_lazy(
        "The database cannot be reached. Nothing was changed; try again in a minute."
    )
    default_code = "database_unavailable"


# The database refusing connections or dropping one: an outage, not a bug in the request.
DATABASE_OUTAGE = (OperationalError, InterfaceError)


class NetworkTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The network is larger than this service computes.")
    default_code = "network_too_large"


class ComputationTooLong(exceptions.APIException):
    """A computation ran out of its time budget: within the size limits only an overloaded
    server does, so the client may retry later (503 with Retry-After)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = gettext_lazy("The computation takes too long: try again later.")
    default_code = "time_budget_exceeded"
    retry_after_seconds = 30


TITLES = {
    400: gettext_lazy("Invalid input"),
    401: gettext_lazy("Authentication required"),
    403: gettext_lazy("Not permitted"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    406: gettext_lazy("Not acceptable"),
    409: gettext_lazy("Not possible now"),
    412: gettext_lazy("Stale version"),
    413: gettext_lazy("Request too large"),
    415: gettext_lazy("Unsupported media type"),
    422: gettext_lazy("Idempotency key reused"),
    428: gettext_lazy("If-Match required"),
    429: gettext_lazy("Too many requests"),
    500: gettext_lazy("Server error"),
    503: gettext_lazy("Service unavailable"),
}


def problem_type(code: str) -> str:
    """Return the ``type`` URI of a problem: stable, one per error code."""
    return f"urn:yekuo:problem:{code.replace('_', '-')}"


def problem_body(status_code: int, code: str, detail: str, field_errors=None) -> dict:
    return {
        "type": problem_type(code),
        "title": str(TITLES.get(status_code, _("Error"))),
        "status": status_code,
        "detail": str(detail),
        "errors": field_errors or {},
    }


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """Return DRF's nested error detail as dotted field names → messages."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            flat.setdefault(prefix or "non_field_errors", []).extend(str(m) for m in detail)
        else:
            for index, item in enumerate(detail):
                flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return flat


def _from_domain(exc: errors.DomainError) -> exceptions.APIException:
    """Return the DRF exception with the HTTP status of a domain error."""
    if isinstance(exc, errors.InvalidInput):
        return exceptions.ValidationError(exc.errors or {"non_field_errors": [exc.message]})
    if isinstance(exc, errors.NotPermitted):
        return exceptions.PermissionDenied(exc.message)
    if isinstance(exc, errors.TransitionNotAllowed):
        conflict = Conflict(exc.message)
        conflict.reasons = exc.reasons
        return conflict
    if isinstance(exc, errors.StaleVersion):
        return PreconditionFailed(exc.message)
    return exceptions.ValidationError({"non_field_errors": [exc.message]})


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def _too_large_message() -> str:
    return _("The request body is larger than {limit} bytes: send less.").format(
        limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )


def bad_request_response(exception) -> JsonResponse:
    """Return the problem of a request Django refused before any API view ran (a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields): 413 or 400, never the HTML page."""
    if isinstance(exception, RequestDataTooBig):
        status_code, code = 413, "request_too_large"
        detail = _too_large_message()
        field_errors = {"body": [detail]}
    else:
        status_code, code = 400, "bad_request"
        detail = _("The request could not be read.")
        field_errors = {}
    return JsonResponse(
        problem_body(status_code, code, detail, field_errors),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def exception_handler(exc, context):
    """Return a problem-details response for every error an API view raises."""
    if isinstance(exc, errors.DomainError):
        exc = _from_domain(exc)
    elif isinstance(exc, DATABASE_OUTAGE):
        logger.error("database unavailable: %s: %s", type(exc).__name__, exc)
        exc = DatabaseUnavailable()
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge({"body": [_too_large_message()]})
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        field_errors = _flatten(exc.detail)
        first = next(iter(field_errors.values()), [""])
        detail = first[0] if first else _("Check the fields named in errors.")
        code = "invalid"
    else:
        field_errors = {}
        detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
        if isinstance(detail, dict | list):
            field_errors = _flatten(detail)
            detail = next(iter(field_errors.values()))[0]
        code = getattr(getattr(exc, "detail", None), "code", None) or getattr(
            exc, "default_code", "error"
        )
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            code = "not_authenticated"
        reasons = getattr(exc, "reasons", None)
        if reasons:
            field_errors = {"transition": reasons}
    response.data = problem_body(response.status_code, code, detail, field_errors)
    response.content_type = PROBLEM_CONTENT_TYPE
    retry_after = getattr(exc, "retry_after_seconds", None)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


class ProblemSerializer(serializers.Serializer):
    """An error (RFC 9457 problem details), for the OpenAPI schema."""

    type = serializers.CharField(help_text=gettext_lazy("A URI naming the kind of problem."))
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=gettext_lazy("Messages per field; empty when no field is at fault."),
    )


def problem_response(status_code: int, code: str, detail: str) -> JsonResponse:
    """Return a problem-details response built outside REST framework (middleware, the
    500 handler), for answers under ``/api/`` that no API view produced."""
    return JsonResponse(
        problem_body(status_code, code, detail),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )
