"""Signal receivers (framework hooks only; no business logic)."""

from allauth.account.internal.flows.login import record_authentication
from allauth.account.models import EmailAddress
from allauth.account.signals import password_reset
from allauth.mfa.signals import authenticator_added
from django.dispatch import receiver


@receiver(authenticator_added)
def mfa_confirmed_on_activation(sender, request, user, authenticator, **kwargs):
    """Activating TOTP proves the code in this session: count it as MFA."""
    if request is not None:
        record_authentication(request, user, "mfa", type=authenticator.type, activated=True)


@receiver(password_reset)
def email_verified_by_password_reset(sender, request, user, **kwargs):
    """Choosing a password from the e-mailed link proves the address (login invitation)."""
    EmailAddress.objects.filter(user=user, email__iexact=user.email).update(verified=True)
