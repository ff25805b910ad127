"""Long lists on the patient's and relative's pages, rendered in Python rather than by
the template engine's loop (as the trend table does): the engine costs about 0.1 ms per
row of a link, a title and a date, most of it one ``reverse()`` and the ``date`` filter's
month name per row. These helpers give the same text for a fraction of that:

- ``route``: ``reverse(name, args=[*fixed, pk])`` for many pks, with one ``reverse()``;
- ``day_month``: ``{{ value|date:"j F" }}`` / ``"j F Y"`` with the month names of the
  active language looked up once (local time, as the filter shows it);
- ``iso``: ``{{ value|date:"c" }}`` (local time).

Call them per request (they capture the active language and the script prefix).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS

# An integer no primary key reaches: reversed once, then replaced by each row's pk.
_MARK = 987654321987654321


def route(name: str, *fixed) -> Callable[[int], str]:
    """``lambda pk: reverse(name, args=[*fixed, pk])`` for an ``int`` last argument, with
    one ``reverse()`` whatever the number of rows."""
    prefix, _mark, suffix = reverse(name, args=[*fixed, _MARK]).rpartition(str(_MARK))
    return lambda pk: f"{prefix}{int(pk)}{suffix}"


def _local(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def iso(value: datetime | None) -> str:
    """``{{ value|date:"c" }}``."""
    return "" if value is None else _local(value).isoformat()


def day_month(*, year: bool = False) -> Callable[[datetime | None], str]:
    """``{{ value|date:"j F" }}`` (``"j F Y"`` with ``year``) in the active language."""
    months = {n: str(name) for n, name in MONTHS.items()}

    def label(value: datetime | None) -> str:
        if value is None:
            return ""
        value = _local(value)
        text = f"{value.day} {months[value.month]}"
        return f"{text} {value.year:04d}" if year else text

    return label
