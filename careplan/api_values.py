"""The values of DRF's read-only fields (CharField, ChoiceField, DateField, and
DateTimeField in ISO 8601 in the current time zone, DRF's defaults), for serializers that
write their output out instead of going through DRF's per-field path (a field lookup
each, a signature check of callables such as ``get_phase_display``): see
``careplan.api.PlanSerializer.to_representation``."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


def text(value) -> str | None:
    return None if value is None else str(value)


def choice(value):
    return value if value in ("", None) else str(value)


def choice_label(choices: type[models.Choices], value) -> str | None:
    """``get_FOO_display()``: the label in the active language, else the value (without
    hashing every lazy label of the choices, as Django does per call)."""
    if value is None:
        return None
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def date(value) -> str | None:
    if not value:
        return None
    return value if isinstance(value, str) else value.isoformat()


def datetime(value) -> str | None:
    if not value:
        return None
    if isinstance(value, str):
        return value
    iso = value.astimezone(timezone.get_current_timezone()).isoformat()
    return iso[:-6] + "Z" if iso.endswith("+00:00") else iso
