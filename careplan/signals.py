"""Signal receivers (framework hooks only; no business logic)."""

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.signals import authenticator_added
from django.dispatch import receiver


@receiver(authenticator_added)
def mfa_confirmed_on_activation(sender, request, user, authenticator, **kwargs):
    """Activating TOTP proves the code in this session: count it as MFA."""
    if request is not None:
        record_authentication(request, user, "mfa", type=authenticator.type, activated=True)
