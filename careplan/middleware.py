"""Cross-cutting request handling: security headers, idle timeout, language, staff MFA,
no-store caching for pages with patient data."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from careplan.api import _accept_language
from careplan.eid.adapter import form_action_origins, is_strong_session

from .models import Role

_MFA_FREE_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/healthz")


def session_has_mfa(request: HttpRequest) -> bool:
    """This session passed a second factor: TOTP, or a staff e-ID login whose IdP asserted
    a strong authentication context (careplan.eid)."""
    from allauth.account.authentication import get_authentication_records

    if is_strong_session(request):
        return True
    return any(r.get("method") == "mfa" for r in get_authentication_records(request, request.user))


def content_security_policy() -> str:
    """The site's policy; form-action also allows the e-ID providers (a login button's
    and the logout's answer redirects to the IdP)."""
    origins = form_action_origins()
    if not origins:
        return settings.CONTENT_SECURITY_POLICY
    return settings.CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", "form-action 'self' " + " ".join(origins), 1
    )


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response


class SessionIdleTimeoutMiddleware:
    """Log out after ``CAREPLAN_SESSION_IDLE_SECONDS`` without a request, and in any case
    ``CAREPLAN_SESSION_ABSOLUTE_SECONDS`` after the session's first logged-in request
    (activity does not keep a session alive for ever)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            started = request.session.get("session_started")
            if started is None:
                request.session["session_started"] = now
            elif now - started > settings.CAREPLAN_SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(request, _("You were logged out: please log in again."))
                return redirect(f"{settings.LOGIN_URL_PATH}?next={request.path}")
            last = request.session.get("last_activity")
            if last is not None and now - last > settings.CAREPLAN_SESSION_IDLE_SECONDS:
                logout(request)
                messages.info(request, _("You were logged out after a while without activity."))
                return redirect(f"{settings.LOGIN_URL_PATH}?next={request.path}")
            if last is None or now - last > 60:
                request.session["last_activity"] = now
        return self.get_response(request)


class UserLanguageMiddleware:
    """Logged-in users get their own language unless they switched in this session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class StaffMfaRequiredMiddleware:
    """Staff reach nothing but the account pages until they have MFA and this session was
    confirmed with it. allauth does not enforce this by itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and user.role == Role.STAFF
            and not request.path.startswith(_MFA_FREE_PREFIXES)
            and not session_has_mfa(request)
        ):
            if request.path.startswith("/api/"):
                # The API's rule, before any viewset runs: an explicit Accept-Language wins.
                with translation.override(_accept_language(request) or translation.get_language()):
                    detail = _("Two-factor authentication is required for staff.")
                return JsonResponse({"detail": detail, "code": "mfa_required"}, status=403)
            from allauth.mfa.utils import is_mfa_enabled

            if is_mfa_enabled(user):
                # Logged in some other way than allauth's two-step login: start over.
                logout(request)
                return redirect(f"{settings.LOGIN_URL_PATH}?next={request.path}")
            messages.warning(
                request,
                _("Staff must turn on two-factor authentication before they can see patients."),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


class NoStoreMiddleware:
    """Pages shown to a logged-in user may hold patient data: never cache them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated or request.path.startswith(("/admin/", "/api/")):
            response.headers["Cache-Control"] = "no-store, private"
            response.headers["Pragma"] = "no-cache"
        return response


NUL_REFUSED = gettext_lazy(
    "What you sent contains an invisible control character (NUL) that cannot be stored. "
    "Go back, remove it (type the text again, or paste it as plain text) and send again."
)


def _contains_nul(values) -> bool:
    return any("\x00" in value for value in values if isinstance(value, str))


class FormInputMiddleware:
    """Every posted form, project-wide (web, admin), before any view sees it:

    - line breaks as stored: browsers post every textarea with CR LF; the database keeps
      LF, so an unchanged text compares equal and is not taken for an edit;
    - a NUL character anywhere in the query string or a form value is refused with a
      400 and a clear message (PostgreSQL cannot store it; it used to be a 500).

    JSON bodies of the API get the same NUL check, and a depth limit, in
    ``careplan.parsers.SafeJSONParser``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _contains_nul(v for _k, values in request.GET.lists() for v in [_k, *values]):
            return self._refuse(request)
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            post = request.POST
            if _contains_nul(v for k, values in post.lists() for v in [k, *values]):
                return self._refuse(request)
            if any("\r" in v for _k, values in post.lists() for v in values):
                normalized = post.copy()
                for key, values in post.lists():
                    normalized.setlist(
                        key, [v.replace("\r\n", "\n").replace("\r", "\n") for v in values]
                    )
                normalized._mutable = False
                request.POST = normalized
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": str(NUL_REFUSED), "code": "invalid"}, status=400)
        from django.shortcuts import render

        return render(request, "error.html", {"status": 400, "detail": NUL_REFUSED}, status=400)
