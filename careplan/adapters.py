from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Open sign-up only when configured, or for someone holding an invitation."""
        return settings.CAREPLAN_OPEN_SIGNUP or bool(request.session.get("invitation_token"))

    def save_user(self, request: HttpRequest, user, form, commit: bool = True):
        """Who signs up with a relative's invitation gets the relative role."""
        if request.session.get("invitation_token"):
            from .models import Role

            user.role = Role.RELATIVE
        return super().save_user(request, user, form, commit=commit)

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        user = request.user
        if user.is_authenticated and user.is_staff:
            return reverse("admin:index")
        return super().get_login_redirect_url(request)

    def pre_login(self, request: HttpRequest, user, **kwargs):
        """A login without e-ID is a password (or code) login: refused for the roles
        ``CAREPLAN_PASSWORD_LOGIN_ROLES`` leaves out, and never counts as a strong one."""
        from careplan.eid.adapter import STRONG_SESSION_KEY

        if not (kwargs.get("signal_kwargs") or {}).get("sociallogin"):
            request.session.pop(STRONG_SESSION_KEY, None)
            if user.role not in settings.CAREPLAN_PASSWORD_LOGIN_ROLES:
                from allauth.account.internal.stagekit import clear_login

                clear_login(request)
                messages.error(
                    request,
                    _("Log in with your e-ID: password login is switched off for your account."),
                )
                return redirect("account_login")
        return super().pre_login(request, user, **kwargs)

    def get_login_stages(self) -> list[str]:
        # The TOTP step knows about strong e-ID logins (careplan.eid.stages).
        return [
            "careplan.eid.stages.AuthenticateStage"
            if stage == "allauth.mfa.stages.AuthenticateStage"
            else stage
            for stage in super().get_login_stages()
        ]

    def get_logout_redirect_url(self, request: HttpRequest) -> str:
        """After an e-ID login, logging out here also ends the IdP's session where it
        supports RP-initiated logout (its discovery names an end_session_endpoint)."""
        url = super().get_logout_redirect_url(request)
        from careplan.eid.adapter import PROVIDER_SESSION_KEY
        from careplan.eid.logout import end_session_url

        provider_id = request.session.get(PROVIDER_SESSION_KEY)
        if provider_id:
            back = request.build_absolute_uri(url)
            return end_session_url(request, provider_id, back) or url
        return url
