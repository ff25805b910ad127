from allauth.mfa.stages import AuthenticateStage as AllauthAuthenticateStage

from .adapter import STRONG_SESSION_KEY


class AuthenticateStage(AllauthAuthenticateStage):
    """allauth's TOTP step, skipped when this login was a staff e-ID login whose IdP
    asserted a configured strong authentication context (acr)."""

    def _should_handle(self, request) -> bool:
        mark = request.session.get(STRONG_SESSION_KEY)
        if mark and self.login.user is not None and mark.get("user") == self.login.user.pk:
            return False
        return super()._should_handle(request)
