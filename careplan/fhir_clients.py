"""Machine clients of /fhir/: OAuth2 client credentials (django-oauth-toolkit), each client
bound to one care unit through its service account and to its own read scopes."""

from __future__ import annotations

import secrets

from django.db import transaction
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.models import get_application_model
from oauth2_provider.scopes import SettingsScopes
from rest_framework.exceptions import AuthenticationFailed

from .models import CareUnit, FhirClient, Role, StaffMembership, User


class FhirClientScopes(SettingsScopes):
    """A client gets only the scopes stored on its FhirClient row."""

    def _own(self, application) -> list[str]:
        client = FhirClient.objects.filter(application=application).first()
        return client.scopes.split() if client else []

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return self._own(application)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self._own(application)


class ClientCredentialsAuthentication(OAuth2Authentication):
    """A client-credentials token has no user: the request runs as the client's service
    account (so the access checks and the access log see the client)."""

    www_authenticate_realm = "fhir"

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        if user is None:
            user = getattr(token.application, "user", None)
        if user is None or not user.is_active:
            raise AuthenticationFailed("The client has no active service account")
        return user, token


@transaction.atomic
def fhir_client_create(*, name: str, unit: CareUnit, scopes: list[str]) -> tuple[FhirClient, str]:
    """A confidential client-credentials application with a service account that works in
    ``unit`` only. Returns the client and its secret (shown once; stored hashed)."""
    from django.conf import settings

    unknown = set(scopes) - set(settings.OAUTH2_PROVIDER["SCOPES"])
    if unknown or not scopes:
        raise ValueError(f"Unknown scopes: {', '.join(sorted(unknown)) or '(none given)'}")
    account = User.objects.create_user(
        email=f"fhir-client-{secrets.token_hex(6)}@clients.careplan.invalid",
        password=None,
        first_name=name[:150],
        last_name="(FHIR-klient)",
        role=Role.STAFF,
    )
    StaffMembership.objects.create(user=account, unit=unit)
    secret = secrets.token_urlsafe(32)
    Application = get_application_model()
    application = Application.objects.create(
        name=name,
        user=account,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
    )
    client = FhirClient.objects.create(application=application, unit=unit, scopes=" ".join(scopes))
    return client, secret
