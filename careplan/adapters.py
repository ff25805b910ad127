from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from careplan.eid.adapter import PROVIDER_SESSION_KEY, STRONG_SESSION_KEY
from careplan.eid.logout import end_session_url

from .models import Role, User
from .outbox import outbox_enqueue


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Open sign-up only when configured, or for someone holding an invitation."""
        return settings.CAREPLAN_OPEN_SIGNUP or bool(request.session.get("invitation_token"))

    def save_user(self, request: HttpRequest, user, form, commit: bool = True):
        """Who signs up with a relative's invitation gets the relative role."""
        if request.session.get("invitation_token"):
            user.role = Role.RELATIVE
        return super().save_user(request, user, form, commit=commit)

    def get_client_ip(self, request: HttpRequest) -> str:
        """The client's address as ``CAREPLAN_TRUSTED_PROXY_COUNT`` says (allauth reads
        X-Forwarded-For). A request that did not pass all our proxies (a shorter header)
        is keyed on the socket's address instead of failing with a 500."""
        try:
            return super().get_client_ip(request)
        except ImproperlyConfigured:
            return request.META["REMOTE_ADDR"]

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """allauth's e-mails (password reset, address confirmation, security notices) go
        through the outbox like every other e-mail: a hung or dead mail server never
        fails or holds the request. The rendered message waits in the outbox row until
        it is sent, then the row forgets it (it may hold a reset link)."""
        import uuid

        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        # In the recipient's own language when they have an account (a reset asked for
        # from a browser in another language still reaches them in theirs).
        with translation.override(_recipient_language(email, context) or get_language()):
            message = self.render_mail(template_prefix, email, ctx)
        outbox_enqueue(
            task="careplan.tasks.send_rendered_email",
            kwargs={
                "subject": message.subject,
                "body": message.body,
                "to": list(message.to),
                "from_email": message.from_email,
                "alternatives": [
                    [content, mimetype]
                    for content, mimetype in getattr(message, "alternatives", [])
                ],
            },
            dedupe_key=f"account-email:{uuid.uuid4()}",
        )

    def login(self, request: HttpRequest, user) -> None:
        """From the moment of login the user's own language applies (as
        ``UserLanguageMiddleware`` does on every later request), so the "you are logged
        in" message is not written in the browser's language under a Swedish page."""
        super().login(request, user)
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        user = request.user
        if user.is_authenticated and user.is_staff:
            return reverse("admin:index")
        return super().get_login_redirect_url(request)

    def pre_login(self, request: HttpRequest, user, **kwargs):
        """A login without e-ID is a password (or code) login: refused for the roles
        ``CAREPLAN_PASSWORD_LOGIN_ROLES`` leaves out, and never counts as a strong one."""
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

        provider_id = request.session.get(PROVIDER_SESSION_KEY)
        if provider_id:
            back = request.build_absolute_uri(url)
            return end_session_url(request, provider_id, back) or url
        return url


ENCRYPTED_PREFIX = "fernet:"


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.CAREPLAN_MFA_KEYS])


def mfa_encrypt(text: str) -> str:
    """A TOTP secret or recovery seed, encrypted with the first of CAREPLAN_MFA_KEYS."""
    if text.startswith(ENCRYPTED_PREFIX):
        return text  # already encrypted (the data migration may run twice)
    return ENCRYPTED_PREFIX + _fernet().encrypt(text.encode()).decode()


def mfa_decrypt(stored: str) -> str:
    """Counterpart of ``mfa_encrypt`` with any of the keys. A value stored before
    encryption (no prefix; the data migration encrypts them all) reads as it is."""
    if not stored.startswith(ENCRYPTED_PREFIX):
        return stored
    return _fernet().decrypt(stored.removeprefix(ENCRYPTED_PREFIX).encode()).decode()


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are stored encrypted (allauth's hooks)."""

    def encrypt(self, text: str) -> str:
        return mfa_encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return mfa_decrypt(encrypted_text)


def _recipient_language(email: str, context: dict) -> str:
    """The language of the account an allauth e-mail goes to ("" when there is none)."""
    user = context.get("user")
    if not isinstance(user, User):
        user = User.objects.filter(email__iexact=email).only("language").first()
    return user.language if user is not None else ""
