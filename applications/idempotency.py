"""Safe retries: a POST sent again with the same ``Idempotency-Key`` acts once.

The key row is the lock. It is inserted first, inside the transaction that does the
work; a concurrent request with the same key blocks on the unique index until the first
commits, then finds the row and replays the stored response (or, when the first failed
and rolled back, does the work itself). Only successful responses are stored: a refused
request leaves no key behind, so the client can correct it and retry with the same key.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from yekuo.api.problems import IdempotencyKeyReused
from yekuo.api.schema import KEY_PATTERN

from .models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# The headers of a response that a replay repeats.
KEPT_HEADERS = ("Location", "ETag")


def key_lifetime() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    text = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(text.encode()).hexdigest()


class _Refused(Exception):
    """Carry an unsuccessful response out of the transaction, which then rolls back."""

    def __init__(self, response: Response) -> None:
        self.response = response


def idempotent(request, perform: Callable[[], Response]) -> Response:
    """Run ``perform`` once per ``Idempotency-Key`` of this user; replay it afterwards.

    ``perform`` returns the response or raises; it runs inside this function's
    transaction, so the key row and the work commit together.
    """
    key = request.headers.get(HEADER)
    if key is None:
        return perform()
    if not re.fullmatch(KEY_PATTERN, key):
        raise ValidationError(
            {
                HEADER: [
                    _(
                        "The Idempotency-Key must be 1 to 255 visible ASCII characters "
                        "without spaces."
                    )
                ]
            }
        )
    fingerprint = _fingerprint(request)
    now = timezone.now()
    try:
        with transaction.atomic():
            IdempotencyKey.objects.filter(
                user=request.user, key=key, created_at__lt=now - key_lifetime()
            ).delete()
            row, created = IdempotencyKey.objects.get_or_create(
                user=request.user,
                key=key,
                defaults={
                    "method": request.method,
                    "path": request.path[:255],
                    "request_hash": fingerprint,
                    "created_at": now,
                },
            )
            if not created:
                return _replay(row, fingerprint)
            response = perform()
            if not 200 <= response.status_code < 300:
                raise _Refused(response)
            row.response_status = response.status_code
            row.response_body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
            row.response_headers = {h: response[h] for h in KEPT_HEADERS if h in response}
            row.save(update_fields=["response_status", "response_body", "response_headers"])
            return response
    except _Refused as refused:
        return refused.response


def _replay(row: IdempotencyKey, fingerprint: str) -> Response:
    if row.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return Response(
        row.response_body,
        status=row.response_status,
        headers={**row.response_headers, REPLAYED_HEADER: "true"},
    )


def purge_expired(*, now=None) -> int:
    """Delete the keys older than their lifetime; return how many."""
    now = now or timezone.now()
    deleted, _rows = IdempotencyKey.objects.filter(created_at__lt=now - key_lifetime()).delete()
    return deleted
