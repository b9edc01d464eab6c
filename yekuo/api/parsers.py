"""The API's JSON parser: bounded in size, nesting depth and number length.

DRF's own parser reads the body straight from the request stream, past Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE``, and decodes with the recursive ``json`` module, so a body
nested 100,000 deep or a number of thousands of digits reached the server as a 500. This
parser reads at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes (413 beyond), scans the raw bytes
for the nesting depth without recursion before decoding (400 beyond
``API_JSON_MAX_DEPTH``), and refuses numbers longer than ``API_JSON_MAX_NUMBER_DIGITS``
characters while decoding (400).
"""

from __future__ import annotations

import codecs
import json
import math
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

# A backslash with the character it escapes, a quote, or a bracket: the only bytes that
# matter for the depth of a JSON text. Brackets inside strings do not count.
_SIGNIFICANT = re.compile(rb'\\.|["\[\]{}]', re.DOTALL)
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")
_QUOTE = ord('"')


class _NumberOutOfRange(ValueError):
    pass


class _NumberTooLong(ValueError):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.length = len(text)


def nesting_depth(raw: bytes, limit: int) -> int:
    """Return the nesting depth of the JSON text ``raw``, stopping once it passes ``limit``.

    A loop over the quotes, escapes and brackets found by one regular expression: linear in
    the size of the body and without recursion whatever the depth. Invalid JSON gets some
    depth; the decoder refuses it afterwards.
    """
    depth = deepest = 0
    in_string = False
    for match in _SIGNIFICANT.finditer(raw):
        token = match.group()
        if len(token) == 2:
            continue
        byte = token[0]
        if byte == _QUOTE:
            in_string = not in_string
        elif in_string:
            continue
        elif byte in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif byte in _CLOSE:
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    """Parse JSON within the size, depth and number bounds of the settings."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            # Django's own error for a body over the limit; the API answers it with 413.
            raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
        max_depth = settings.API_JSON_MAX_DEPTH
        if nesting_depth(raw, max_depth) > max_depth:
            raise exceptions.ParseError(
                {
                    "body": [
                        _("The JSON is nested more than {limit} levels deep.").format(
                            limit=max_depth
                        )
                    ]
                }
            )
        max_digits = settings.API_JSON_MAX_NUMBER_DIGITS

        def bounded(convert):
            def parse_number(text: str):
                if len(text) > max_digits:
                    raise _NumberTooLong(text)
                value = convert(text)
                if not math.isfinite(value):
                    # 1e400 is a float overflow: infinity, which no answer can render.
                    raise _NumberOutOfRange(text)
                return value

            return parse_number

        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
            return json.loads(
                text,
                parse_int=bounded(int),
                parse_float=bounded(float),
                parse_constant=strict_constant if self.strict else None,
            )
        except _NumberTooLong as error:
            raise exceptions.ParseError(
                {
                    "body": [
                        _(
                            "A number in the JSON has {length} characters; at most {limit} "
                            "are accepted."
                        ).format(length=error.length, limit=max_digits)
                    ]
                }
            ) from error
        except _NumberOutOfRange as error:
            raise exceptions.ParseError(
                {"body": [_("A number in the JSON is too large: {number}").format(number=error)]}
            ) from error
        except RecursionError as error:
            # Only reached if the depth scan was fooled by invalid JSON.
            raise exceptions.ParseError({"body": [_("The JSON is nested too deeply.")]}) from error
        except ValueError as error:
            raise exceptions.ParseError(
                {"body": [_("The body is not valid JSON: {error}").format(error=error)]}
            ) from error
