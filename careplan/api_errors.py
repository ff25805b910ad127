"""JSON errors under /api/: every error body has ``detail`` (in the request's language) and
a stable machine-readable ``code`` (DRF's: ``not_found``, ``permission_denied``,
``not_authenticated``, ``method_not_allowed``, ``conflict``, ...). Validation errors keep
DRF's field-by-field shape, each field's messages under its name, with ``code``
``invalid``. Unknown /api/ paths answer the same JSON 404 (``api_not_found``). The API
docs (Swagger UI, Redoc) come from drf-spectacular-sidecar's static files."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework import exceptions, status
from rest_framework.views import exception_handler


class Conflict(exceptions.APIException):
    """The request contradicts the object's state (e.g. answers to a completed
    questionnaire)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict"
    default_code = "conflict"


def api_exception_handler(exc, context):
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(response.data, dict):
            response.data.setdefault("code", "invalid")
        else:
            response.data = {"detail": response.data, "code": "invalid"}
        return response
    code = "error"
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
    elif response.status_code == status.HTTP_404_NOT_FOUND:
        code = "not_found"
    elif response.status_code == status.HTTP_403_FORBIDDEN:
        code = "permission_denied"
    if isinstance(response.data, dict):
        response.data["code"] = code
    return response


def api_not_found(request, rest: str = ""):
    return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)


# The docs pages run Swagger UI / Redoc from our static files: scripts only from 'self';
# both libraries set styles from script, so these two pages allow inline styles (and Redoc
# its search worker from a blob).
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; worker-src 'self' blob:; font-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


class _DocsCSP:
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CSP
        return response


class SwaggerView(_DocsCSP, SpectacularSwaggerSplitView):
    pass


class RedocView(_DocsCSP, SpectacularRedocView):
    pass
