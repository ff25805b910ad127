"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0)."""

from __future__ import annotations

import logging

import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.http import HttpRequest
from django.utils.http import urlencode

logger = logging.getLogger("careplan.eid")


def end_session_url(request: HttpRequest, provider_id: str, post_logout_redirect_uri: str) -> str:
    """The IdP's end-session URL that returns to ``post_logout_redirect_uri``, or "" when
    the IdP has none or cannot be reached (the local logout happens either way)."""
    try:
        provider = get_adapter().get_provider(request, provider_id)
        config = provider.get_oauth2_adapter(request).openid_config
    except (LookupError, requests.RequestException, OAuth2Error, ValueError) as exc:
        logger.warning("e-ID logout: no end-session endpoint for %s (%s)", provider_id, exc)
        return ""
    except Exception as exc:  # noqa: BLE001 - a misconfigured provider must not block logout
        logger.warning("e-ID logout: provider %s unavailable (%s)", provider_id, type(exc).__name__)
        return ""
    endpoint = config.get("end_session_endpoint")
    if not endpoint:
        return ""
    query = urlencode(
        {"client_id": provider.app.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
