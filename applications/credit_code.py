"""The unified social credit code (统一社会信用代码) of GB 32100-2015.

Eighteen characters from a 31-character alphabet (the digits and the capital letters
without I, O, Z, S and V); the last one is a check character computed from the first 17
with the weights 3^i mod 31.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    """Return the check character for the first 17 characters of a code."""
    total = sum(
        ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True)
    )
    return ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    """Raise ValidationError unless ``value`` is a well-formed code with the right check."""
    if len(value) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(count)d."),
            code="length",
            params={"count": len(value)},
        )
    wrong = sorted({char for char in value if char not in ALPHABET})
    if wrong:
        raise ValidationError(
            _("The characters %(chars)s cannot appear in a unified social credit code."),
            code="alphabet",
            params={"chars": "、".join(wrong)},
        )
    expected = check_character(value[:17])
    if value[17] != expected:
        raise ValidationError(
            _("The check character is wrong: expected %(expected)s, found %(found)s."),
            code="check",
            params={"expected": expected, "found": value[17]},
        )
