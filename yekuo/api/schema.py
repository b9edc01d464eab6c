"""The OpenAPI schema: every operation documents the problems it can answer with."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import AllowAny

from .problems import PROBLEM_CONTENT_TYPE, TITLES, ProblemSerializer

# An Idempotency-Key: visible ASCII without spaces (a UUID, say), as a header value
# survives every proxy.
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"

IF_MATCH = OpenApiParameter(
    name="If-Match",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description=gettext_lazy(
        'The ETag of the application as last read, e.g. W/"3". Required: without it the '
        "answer is 428, with an older version 412."
    ),
)
IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    type={"type": "string", "pattern": KEY_PATTERN, "minLength": 1, "maxLength": 255},
    description=gettext_lazy(
        "Any unique string (a UUID). A retry with the same key and body within 24 hours "
        "replays the first successful response instead of acting twice; the same key with "
        "another body is refused with 422."
    ),
)


class AutoSchema(SpectacularAutoSchema):
    """Add the problem responses to every operation.

    Every operation can answer 401, 403 and 429; one with a path parameter 404; one that
    takes a body or query filters 400. A view lists what else its methods answer (409,
    412, 422, 428) in ``problem_statuses = {"post": [409, ...]}``.
    """

    def _problem_statuses(self) -> list[int]:
        method = self.method.lower()
        statuses = {403, 429}
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses.add(401)
        if "{" in self.path:
            statuses.add(404)
        if method in {"post", "put", "patch"}:
            # 413: a body over DATA_UPLOAD_MAX_MEMORY_SIZE.
            statuses.update({400, 413, 415})
        if method == "get" and getattr(self.view, "filterset_class", None):
            statuses.add(400)
        if (
            method == "get"
            and self._is_list_view()
            and getattr(self.view, "pagination_class", None)
        ):
            # A page past the end is 404; an unreadable page_size is 400.
            statuses.update({400, 404})
        statuses.update(getattr(self.view, "problem_statuses", {}).get(method, []))
        return sorted(statuses)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status_code in self._problem_statuses():
            response = self._get_response_for_code(
                ProblemSerializer, str(status_code), [PROBLEM_CONTENT_TYPE], direction
            )
            response["description"] = str(TITLES.get(status_code, ""))
            responses.setdefault(str(status_code), response)
        return responses
