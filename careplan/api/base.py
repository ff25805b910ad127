"""The API's shared parts: the access-log channel, the error responses documented on every
view, idempotency keys, the page log, and ``ApiViewSetMixin`` (the other apps' APIs build on
them)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation.trans_real import parse_accept_lang_header
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.settings import api_settings

from .. import access
from ..models import AccessLog

API = AccessLog.Channel.API
Action = AccessLog.Action

NOT_FOUND = OpenApiResponse(description="No such object, or no relation to its patient.")
FORBIDDEN = OpenApiResponse(
    description="Not logged in, staff without two-factor authentication, or read-only access."
)


# --- Helpers ------------------------------------------------------------------------------


def _accept_language(request: Request) -> str | None:
    """The first supported language of an explicit ``Accept-Language`` header."""
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _q in parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return None


def _api_validation_error(exc: DjangoValidationError) -> serializers.ValidationError:
    """A model's ``full_clean`` error as a 400 body, field by field."""
    detail = serializers.as_serializer_error(exc)
    if NON_FIELD_ERRORS in detail:
        detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
    return serializers.ValidationError(detail)


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "A UUID you make for this one submit. Sending the same request again with the "
        "same key (a retry after a timeout, a double click) stores nothing new and answers "
        "with what the first one stored."
    ),
)


def _idempotency_key(request: Request) -> uuid.UUID | None:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise serializers.ValidationError(
            {
                "Idempotency-Key": [
                    _("Give a UUID, for example %(example)s.") % {"example": uuid.uuid4()}
                ]
            }
        ) from None


def _log_page(user, objects: Iterable, *, patient_id_of: Callable[[object], int]) -> None:
    """One access-log row per patient on the page (naming the first object shown), one
    query. Rows carry ``acting_unit_id`` from ``access.with_acting_unit``."""
    first: dict[int, object] = {}
    for obj in objects:
        first.setdefault(patient_id_of(obj), obj)
    access.log_list(
        user=user,
        rows=[(pid, getattr(obj, "acting_unit_id", None), obj) for pid, obj in first.items()],
        channel=API,
    )


class ApiViewSetMixin:
    """Shared by every viewset here: an explicit ``Accept-Language`` header wins over the
    user's saved language (messages, labels, section texts), and ids are numbers. Extra
    actions take ``**kwargs``: the router adds ``format`` for a suffix (``…/fhir.json``)."""

    lookup_value_regex = r"\d+"

    def initial(self, request: Request, *args, **kwargs) -> None:
        language = _accept_language(request)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        super().initial(request, *args, **kwargs)  # type: ignore[misc]


class PatientRefSerializer(serializers.Serializer):
    """Whose plan it is: id and name only (never the personal identity number)."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
