"""Optimistic locking over HTTP: the ETag of an application is its version.

The ETag is weak (``W/"<version>"``) because the representation depends on the language
asked for while the version names the state of the application. ``If-Match`` compares
weakly: ``W/"3"`` and ``"3"`` both name version 3.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from .problems import PreconditionFailed, PreconditionRequired

_ENTITY_TAG = re.compile(r'\s*(?:W/)?"(\d+)"\s*')


def etag(version: int) -> str:
    return f'W/"{version}"'


def if_match_version(request) -> int:
    """Return the version named by ``If-Match``; 428 without it, 412 when unreadable."""
    header = request.headers.get("If-Match")
    if header is None or not header.strip():
        raise PreconditionRequired()
    match = _ENTITY_TAG.fullmatch(header)
    if match is None:
        raise PreconditionFailed(
            _('If-Match must be the ETag of the application, e.g. W/"3"; it was %(value)s.')
            % {"value": header[:40]}
        )
    return int(match.group(1))
