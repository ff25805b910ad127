"""django-allauth's OpenID Connect provider, tightened for e-ID (see the package doc)."""

from __future__ import annotations

import hashlib
import hmac

from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.provider import (
    OpenIDConnectProvider,
    OpenIDConnectProviderAccount,
)
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.crypto import get_random_string

from careplan import personnummer as pnr

from .config import PATIENT, STAFF
from .views import EidOAuth2Adapter

NONCE_STATE_KEY = "careplan_nonce"


class IdentityError(OAuth2Error):
    """The IdP vouched for someone we cannot identify (claim missing or malformed)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def identity_claims(data: dict) -> dict:
    """The verified ID token's claims, then the userinfo's for what the token lacks."""
    claims = dict(data.get("userinfo") or {})
    claims.update(data.get("id_token") or {})
    return claims


def number_hash(value: str) -> str:
    """A keyed hash of a normalised personal identity number or HSA-id: the SocialAccount
    uid and the only trace of the number in logs."""
    key = hashlib.sha256(("careplan-eid:" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


class EidAccount(OpenIDConnectProviderAccount):
    def to_str(self) -> str:
        return self.account.get_provider().name


class EidProvider(OpenIDConnectProvider):
    id = "eid"
    name = "e-ID"
    account_class = EidAccount
    oauth2_adapter_class = EidOAuth2Adapter

    @property
    def who(self) -> str:
        return self.app.settings.get("careplan_for", PATIENT)

    def get_default_scope(self):
        return ["openid"]

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        # A nonce bound to this login's state; the adapter checks it in the ID token.
        nonce = get_random_string(32)
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        auth_params["nonce"] = nonce
        kwargs[NONCE_STATE_KEY] = nonce
        return super().redirect(
            request, process, next_url=next_url, data=data, auth_params=auth_params, **kwargs
        )

    def identity(self, data: dict) -> str:
        """The normalised personal identity number (patients, relatives) or HSA-id
        (staff) from the configured claims; IdentityError when none is usable."""
        claims = identity_claims(data)
        names = self.app.settings.get("careplan_claims") or []
        values = [str(claims[n]).strip() for n in names if claims.get(n)]
        if not values:
            raise IdentityError("missing_identity")
        if self.who == STAFF:
            return values[0]
        try:
            return pnr.normalize(values[0])
        except ValidationError:
            raise IdentityError("invalid_personnummer") from None

    def sociallogin_from_response(self, request, response):
        login = super().sociallogin_from_response(request, response)
        # For the adapter's matching in this request only; never saved or serialised.
        login.careplan_identity = self.identity(response)
        return login

    def extract_uid(self, data):
        # Never the number in clear: a keyed hash of it (matches across providers).
        return number_hash(self.identity(data))

    def extract_common_fields(self, data):
        claims = identity_claims(data)
        return {"first_name": claims.get("given_name"), "last_name": claims.get("family_name")}

    def extract_email_addresses(self, data):
        # An address from the IdP never links or creates an account.
        return []

    def extract_extra_data(self, data):
        # Kept on the SocialAccount: the claims without the identity numbers.
        secret = set(self.app.settings.get("careplan_claims") or [])
        return {
            part: {k: v for k, v in (claims or {}).items() if k not in secret}
            for part, claims in data.items()
            if isinstance(claims, dict)
        }


provider_classes = [EidProvider]
