"""JSON errors under /api/: every error body has ``detail`` (in the request's language) and
a stable machine-readable ``code`` (DRF's: ``not_found``, ``permission_denied``,
``not_authenticated``, ``method_not_allowed``, ``conflict``, ...). Validation errors keep
DRF's field-by-field shape, each field's messages under its name, with ``code``
``invalid``. Unknown /api/ paths answer the same JSON 404 (``api_not_found``). The API
docs (Swagger UI, Redoc) come from drf-spectacular-sidecar's static files."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
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


@csrf_exempt  # a 404 whatever the method: nothing to protect, and no HTML CSRF page
def api_not_found(request, rest: str = ""):
    return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: JSON with a stable code under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("CSRF check failed."), "code": "csrf_failed"}, status=403)
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason=reason)


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


ERROR_SCHEMA = {
    "type": "object",
    "description": "An error: the message in the request's language and a stable code "
    "(validation errors also carry the messages field by field).",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
    },
    "required": ["code"],
    "additionalProperties": True,
}
ERROR_STATUSES = {
    "400": "Invalid input (code invalid), or a page number out of range",
    "401": "Not logged in (code not_authenticated)",
    "403": "Not allowed (code permission_denied or not_authenticated)",
    "404": "No such object, or no relation to its patient (code not_found)",
    "405": "Method not allowed (code method_not_allowed)",
    "406": "Not acceptable (code not_acceptable)",
    "415": "Unsupported media type (code unsupported_media_type)",
}


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation documents the JSON error
    bodies it can answer, so the schema matches the responses."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            # Errors come in the media types the operation renders (a FHIR action's
            # errors as application/fhir+json when that was asked for).
            types = {
                media
                for status_code, response in responses.items()
                if str(status_code).startswith("2")
                for media in (response.get("content") or {})
            } or {"application/json"}
            formats = [
                p.get("schema", {}).get("enum", [])
                for p in operation.get("parameters", [])
                if p.get("name") == "format"
            ]
            if any("fhir" in f for f in formats):
                types |= {"application/json", "application/fhir+json"}
                for status_code, response in responses.items():
                    if str(status_code).startswith("2"):
                        response["content"] = {
                            media: {"schema": {"type": "object", "additionalProperties": True}}
                            for media in sorted(types)
                        }
            content = {media: {"schema": ref} for media in sorted(types)}
            for code, description in ERROR_STATUSES.items():
                existing = responses.get(code)
                text = (existing or {}).get("description") or description
                responses[code] = {"description": text, "content": content}
            if "409" in responses:
                responses["409"]["content"] = content
    return result
