"""Who an e-ID login is: match the verified identity to someone the care team registered.

Patients are matched by personal identity number to their Patient record (an account is
created for the Patient then, never a Patient); relatives by the e-ID they bound while
accepting an invitation; staff by HSA-id to an existing staff account (never created).
Anything else is refused with a clear page and a log line without the number.
"""

from __future__ import annotations

import logging
from typing import NoReturn

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount, SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from careplan import services
from careplan.models import Patient, Role, User
from contacts import services as contacts_services
from contacts.views import SESSION_KEY

from .config import PATIENT, STAFF
from .provider import NONCE_STATE_KEY, IdentityError

logger = logging.getLogger("careplan.eid")

#: Session key: this session's login was an e-ID login with a strong authentication
#: context ({"user": pk, "acr": ...}); it counts as two-factor (careplan.middleware).
STRONG_SESSION_KEY = "careplan_eid_strong"
#: Session key: the provider id of this session's e-ID login (for RP-initiated logout).
PROVIDER_SESSION_KEY = "careplan_eid_provider"


def refuse(
    request: HttpRequest, *, reason: str, message: str, status: int = 403, **log
) -> NoReturn:
    """Stop the login: a clear page, a log line (never the number in clear)."""
    details = " ".join(f"{k}={v}" for k, v in sorted(log.items()) if v)
    logger.warning("e-ID login refused: %s %s", reason, details)
    response = render(
        request, "eid/refused.html", {"message": message, "reason": reason}, status=status
    )
    raise ImmediateHttpResponse(response)


def _uid_ref(uid: str) -> str:
    """A short, non-reversible reference for the log (the uid is already a keyed hash)."""
    return uid[:12]


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # Accounts are resolved (or created for a registered Patient) in pre_social_login;
        # an e-ID login that reaches sign-up has matched no one.
        return False

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ) -> None:
        extra_context = extra_context or {}
        if isinstance(exception, IdentityError):
            refuse(
                request,
                reason=exception.code,
                message=_(
                    "Your organisation's login did not give us your HSA-id, so you could "
                    "not be logged in. Nothing was saved."
                )
                if provider.who == STAFF
                else _(
                    "Your e-ID did not give us a valid personal identity number, so you "
                    "could not be logged in. Nothing was saved."
                ),
                status=400,
                provider=provider.app.provider_id,
            )
        if error == "cancelled":
            return
        if exception is None and "state_id" in extra_context:
            reason = "state_unknown_or_used"
        else:
            reason = "token_invalid" if exception is not None else str(error or "unknown")
        refuse(
            request,
            reason=reason,
            message=_(
                "The login could not be verified, so you were not logged in. Nothing was "
                "saved. Start again from the login page."
            ),
            status=400,
            provider=provider.app.provider_id,
            error=type(exception).__name__ if exception is not None else "",
            detail=str(exception or "")[:200],
        )

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        provider = sociallogin.account.get_provider()
        provider_id = provider.app.provider_id
        uid = sociallogin.account.uid
        id_token = (sociallogin.account.extra_data or {}).get("id_token") or {}
        expected_nonce = (sociallogin.state or {}).get(NONCE_STATE_KEY)
        if not expected_nonce or id_token.get("nonce") != expected_nonce:
            refuse(
                request,
                reason="nonce_mismatch",
                message=_(
                    "The login could not be verified, so you were not logged in. Nothing was "
                    "saved. Start again from the login page."
                ),
                status=400,
                provider=provider_id,
            )
        identity = getattr(sociallogin, "careplan_identity", None)
        if identity is None:  # pragma: no cover - set by EidProvider for every login
            refuse(request, reason="no_identity", message=_("You could not be logged in."))
        if provider.who == STAFF:
            user = self._staff_user(request, identity, provider_id=provider_id, uid=uid)
        elif sociallogin.state.get("process") == AuthProcess.CONNECT:
            user = self._connecting_user(request, identity, uid=uid, provider_id=provider_id)
        else:
            user = self._patient_or_relative(request, identity, uid=uid, provider_id=provider_id)
        if not user.is_active:
            refuse(
                request,
                reason="inactive",
                message=_("Your account is switched off. Contact your clinic."),
                provider=provider_id,
                uid=_uid_ref(uid),
            )
        if sociallogin.is_existing and sociallogin.user.pk != user.pk:
            refuse(
                request,
                reason="bound_to_other_account",
                message=_("This e-ID belongs to another account here. Contact your clinic."),
                provider=provider_id,
                uid=_uid_ref(uid),
            )
        self._remember(request, provider, user, id_token)
        if sociallogin.state.get("process") == AuthProcess.CONNECT:
            return  # allauth's connect flow saves the binding to request.user
        if not sociallogin.is_existing:
            sociallogin.connect(request, user)

    # --- who ------------------------------------------------------------------------------

    def _staff_user(self, request, hsa_id: str, *, provider_id: str, uid: str) -> User:
        user = User.objects.filter(role=Role.STAFF, hsa_id=hsa_id).first()
        if user is None or not user.is_staff:
            refuse(
                request,
                reason="unknown_staff",
                message=_(
                    "There is no care team account here for your HSA-id. Ask your "
                    "administrator to add it to your account."
                ),
                provider=provider_id,
                uid=_uid_ref(uid),
            )
        return user

    def _patient_or_relative(self, request, number: str, *, uid: str, provider_id: str) -> User:
        patient = Patient.objects.select_related("user").filter(personnummer=number).first()
        bound = (
            SocialAccount.objects.select_related("user")
            .filter(provider__in=patient_provider_ids(), uid=uid)
            .first()
        )
        if patient is not None:
            if patient.user is None and bound is not None and bound.user.role == Role.RELATIVE:
                # A relative here who became a patient: the same account, now both.
                user = services.patient_login_from_eid(patient=patient, relative=bound.user)
            else:
                user = patient.user or services.patient_login_from_eid(patient=patient)
            if bound is not None and bound.user_id != user.pk:
                refuse(
                    request,
                    reason="bound_to_other_account",
                    message=_("This e-ID belongs to another account here. Contact your clinic."),
                    provider=provider_id,
                    uid=_uid_ref(uid),
                )
            return user
        if bound is not None:
            return bound.user
        invitation = _pending_invitation(request)
        if invitation is not None:
            try:
                return contacts_services.relative_account_from_eid(invitation=invitation)
            except contacts_services.InvitationError as exc:
                refuse(
                    request,
                    reason="invitation_" + (exc.code or "error"),
                    message=exc.messages[0],
                    provider=provider_id,
                    uid=_uid_ref(uid),
                )
        refuse(
            request,
            reason="unknown_personnummer",
            message=_("There is no care plan for you here yet. Contact your clinic."),
            provider=provider_id,
            uid=_uid_ref(uid),
        )

    def _connecting_user(self, request, number: str, *, uid: str, provider_id: str) -> User:
        """A logged-in patient or relative binds their e-ID to their own account."""
        user = request.user
        if not user.is_authenticated or user.role == Role.STAFF:
            refuse(
                request,
                reason="connect_not_allowed",
                message=_("Only patients and relatives can bind an e-ID here."),
                provider=provider_id,
            )
        patient = Patient.objects.filter(personnummer=number).only("user_id").first()
        other = (
            SocialAccount.objects.filter(provider__in=patient_provider_ids(), uid=uid)
            .exclude(user=user)
            .exists()
        )
        if other or (patient is not None and patient.user_id not in (None, user.pk)):
            refuse(
                request,
                reason="bound_to_other_account",
                message=_("This e-ID belongs to another account here. Contact your clinic."),
                provider=provider_id,
                uid=_uid_ref(uid),
            )
        if patient is not None and patient.user_id is None:
            refuse(
                request,
                reason="connect_patient_number",
                message=_("This e-ID is a patient's here. Log out and log in with it instead."),
                provider=provider_id,
                uid=_uid_ref(uid),
            )
        return user

    def _remember(self, request, provider, user: User, id_token: dict) -> None:
        request.session[PROVIDER_SESSION_KEY] = provider.app.provider_id
        acr = id_token.get("acr")
        strong = provider.app.settings.get("careplan_strong_acr") or []
        if provider.who == STAFF and acr and acr in strong:
            request.session[STRONG_SESSION_KEY] = {"user": user.pk, "acr": acr}
        else:
            request.session.pop(STRONG_SESSION_KEY, None)


def patient_provider_ids() -> list[str]:
    """The configured providers for patients and relatives (bindings match across them)."""
    apps = settings.SOCIALACCOUNT_PROVIDERS.get("eid", {}).get("APPS", [])
    return [a["provider_id"] for a in apps if a.get("settings", {}).get("careplan_for") == PATIENT]


def providers_for(who: str) -> list[dict]:
    apps = settings.SOCIALACCOUNT_PROVIDERS.get("eid", {}).get("APPS", [])
    return [a for a in apps if a.get("settings", {}).get("careplan_for", PATIENT) == who]


def form_action_origins() -> list[str]:
    """The IdPs' origins: the login buttons and the logout are forms whose answer
    redirects there, which the Content Security Policy's form-action must allow."""
    from urllib.parse import urlsplit

    origins = []
    for app in settings.SOCIALACCOUNT_PROVIDERS.get("eid", {}).get("APPS", []):
        parts = urlsplit(app.get("settings", {}).get("server_url", ""))
        if parts.scheme in ("http", "https") and parts.netloc:
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in origins:
                origins.append(origin)
    return origins


def _pending_invitation(request: HttpRequest):

    token = request.session.get(SESSION_KEY)
    if not token:
        return None
    try:
        return contacts_services.invitation_lookup(token)
    except contacts_services.InvitationError:
        return None


def is_strong_session(request: HttpRequest) -> bool:
    mark = request.session.get(STRONG_SESSION_KEY)
    return bool(mark) and mark.get("user") == request.user.pk
