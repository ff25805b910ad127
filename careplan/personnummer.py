"""Swedish personal identity numbers: parsing, validation, masking.

Accepted input: YYYYMMDD-NNNN, YYYYMMDDNNNN, YYMMDD-NNNN (or + for 100+ years), YYMMDDNNNN.
Stored as twelve digits (YYYYMMDDNNNN). Samordningsnummer (day + 60) are accepted.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

_PATTERN = re.compile(
    r"^([0-9]{2})?([0-9]{2})([0-9]{2})([0-9]{2})([-+]?)([0-9]{3})([0-9])$", re.ASCII
)
#: Dashes typed in other scripts or by word processors (hyphen, minus, en dash, full-width).
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2212\uff0d"), "-")


def ascii_digits(value: str) -> str:
    """Any Unicode decimal digit (Arabic-Indic, full-width, ...) as its ASCII digit, so
    the same number typed on another keyboard is the same person."""
    value = unicodedata.normalize("NFKC", value).translate(_DASHES)
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in value
    )


def luhn_ok(digits: str) -> bool:
    """Luhn check over the ten digits YYMMDDNNNC."""
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def normalize(value: str, *, today: dt.date | None = None) -> str:
    """Return the twelve-digit form, or raise ValidationError with a clear message."""
    raw = "".join(ascii_digits(value or "").split())
    m = _PATTERN.match(raw)
    if not m:
        raise ValidationError(
            _("Enter the personal identity number as YYYYMMDD-NNNN (12 digits)."),
            code="format",
        )
    century, yy, mm, dd, sep, serial, check = m.groups()
    today = today or timezone.localdate()
    if century is None:
        year = 2000 + int(yy)
        if year > today.year:
            year -= 100
        if sep == "+":
            year -= 100
    else:
        year = int(century + yy)
    day = int(dd)
    if day > 60:  # samordningsnummer
        day -= 60
    try:
        born = dt.date(year, int(mm), day)
    except ValueError:
        raise ValidationError(
            _("The date in the personal identity number does not exist."), code="date"
        ) from None
    if born > today:
        raise ValidationError(
            _("The date in the personal identity number is in the future."), code="date"
        )
    if not luhn_ok(f"{yy}{mm}{dd}{serial}{check}"):
        raise ValidationError(
            _("The check digit of the personal identity number is wrong. Check for typos."),
            code="checksum",
        )
    return f"{year:04d}{mm}{dd}{serial}{check}"


def validate_personnummer(value: str) -> None:
    normalize(value)


def masked(value: str) -> str:
    """YYYYMMDD-XXXX: the date is shown, the last four digits never."""
    if len(value) != 12:
        return "********-****"
    return f"{value[:8]}-****"


def formatted(value: str) -> str:
    return f"{value[:8]}-{value[8:]}" if len(value) == 12 else value


def with_check_digit(nine_digits_yymmddnnn: str) -> str:
    """Compute the Luhn digit for YYMMDDNNN (used for synthetic demo and test data)."""
    for c in "0123456789":
        if luhn_ok(nine_digits_yymmddnnn + c):
            return c
    raise ValueError("unreachable")
