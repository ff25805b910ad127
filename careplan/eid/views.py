from __future__ import annotations

import jwt
from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from allauth.utils import build_absolute_uri
from django.http import Http404, HttpRequest
from django.urls import reverse

# Asymmetric signatures only: never "none", never a shared-secret HMAC.
ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}


class EidOAuth2Adapter(OpenIDConnectOAuth2Adapter):
    """allauth's adapter, but the ID token's signature is always checked against the
    IdP's JWKS (allauth skips it when the token came straight from the token endpoint,
    and needs a ``kid``), with issuer, audience, expiry and the required claims."""

    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict:
        try:
            header = jwt.get_unverified_header(id_token)
            key = self._signing_key(header)
            data = jwt.decode(
                id_token,
                key=key,
                algorithms=[header["alg"]],
                issuer=self.openid_config["issuer"],
                audience=app.client_id,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise OAuth2Error(f"Invalid id_token: {type(exc).__name__}: {exc}") from exc
        jwtkit.verify_jti(data)
        return data

    def _signing_key(self, header: dict):
        """The IdP's public key for this token from its JWKS: by ``kid``, or its only
        signing key when the token names none. Asymmetric algorithms only."""
        if header.get("alg") not in ALGORITHMS:
            raise OAuth2Error(f"Refused signing algorithm {header.get('alg')!r}")
        with get_adapter().get_requests_session() as session:
            response = session.get(self.openid_config["jwks_uri"])
            response.raise_for_status()
            keys = [k for k in response.json().get("keys", []) if k.get("use", "sig") == "sig"]
        kid = header.get("kid")
        if kid is not None:
            keys = [k for k in keys if k.get("kid") == kid]
        if len(keys) != 1:
            raise OAuth2Error(f"No unique signing key for kid {kid!r}")
        return jwt.PyJWK(keys[0], algorithm=header["alg"]).key

    def get_callback_url(self, request: HttpRequest, app):
        callback_url = reverse("eid_callback", kwargs={"provider_id": self.provider_id})
        return build_absolute_uri(request, callback_url, self.redirect_uri_protocol)


@login_not_required
def login(request: HttpRequest, provider_id: str):
    try:
        return OAuth2LoginView.adapter_view(EidOAuth2Adapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None


@login_not_required
def callback(request: HttpRequest, provider_id: str):
    try:
        return OAuth2CallbackView.adapter_view(EidOAuth2Adapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
