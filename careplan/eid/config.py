"""The e-ID providers, read from the environment (called from ``careplan/settings.py``).

One OpenID Connect client per provider id in ``CAREPLAN_EID_PROVIDERS``; for each id
``X`` (upper case, ``-`` as ``_``) the variables ``CAREPLAN_EID_X_*`` below. README
("Log in with e-ID") lists them with examples for a real broker.
"""

from __future__ import annotations

import environ
from django.core.exceptions import ImproperlyConfigured

PNR_SCOPE = "https://id.oidc.se/scope/naturalPersonNumber"
PNR_CLAIMS = [
    "https://id.oidc.se/claim/personalIdentityNumber",
    "https://id.oidc.se/claim/coordinationNumber",
]
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
LOA4 = "http://id.elegnamnden.se/loa/1.0/loa4"
PATIENT = "patient"  # patients and relatives, matched by personal identity number
STAFF = "staff"  # the care team, matched by HSA-id

# The development IdP's synthetic identities (careplan.eid.dev_idp). Its two clients.
DEV_PATIENT_PROVIDER = "bankid-test"
DEV_STAFF_PROVIDER = "siths-test"
# The staff IdP's claim with the HSA-id: no national OIDC name is fixed yet; set
# CAREPLAN_EID_X_HSA_CLAIM to what the organisation's IdP sends.
HSA_CLAIM_DEFAULT = "employeeHsaId"


def _app(
    *,
    provider_id: str,
    label: str,
    issuer: str,
    client_id: str,
    secret: str,
    who: str,
    scopes: list[str],
    claims: list[str],
    strong_acr: list[str],
    acr_values: str = "",
    fetch_userinfo: bool = True,
    token_auth_method: str = "",
) -> dict:
    settings: dict = {
        "server_url": issuer,
        "oauth_pkce_enabled": True,
        "scope": scopes,
        "fetch_userinfo": fetch_userinfo,
        "careplan_for": who,
        "careplan_claims": claims,
        "careplan_strong_acr": strong_acr,
    }
    if acr_values:
        settings["auth_params"] = {"acr_values": acr_values}
    if token_auth_method:
        settings["token_auth_method"] = token_auth_method
    return {
        "provider_id": provider_id,
        "name": label,
        "client_id": client_id,
        "secret": secret,
        "settings": settings,
    }


def providers_from_env(env: environ.Env, *, production: bool) -> list[dict]:
    apps = []
    for provider_id in env.list("CAREPLAN_EID_PROVIDERS", default=[]):
        prefix = "CAREPLAN_EID_" + provider_id.upper().replace("-", "_") + "_"
        who = env.str(prefix + "FOR", default=PATIENT)
        if who not in (PATIENT, STAFF):
            raise ImproperlyConfigured(f"{prefix}FOR must be '{PATIENT}' or '{STAFF}'")
        issuer = env.str(prefix + "ISSUER")
        if production and not issuer.startswith("https://"):
            raise ImproperlyConfigured(f"{prefix}ISSUER must be an https:// URL in production")
        if who == PATIENT:
            default_scopes, default_claims = ["openid", PNR_SCOPE], PNR_CLAIMS
        else:
            default_scopes, default_claims = ["openid", "profile"], [HSA_CLAIM_DEFAULT]
        apps.append(
            _app(
                provider_id=provider_id,
                label=env.str(prefix + "LABEL", default=provider_id),
                issuer=issuer,
                client_id=env.str(prefix + "CLIENT_ID"),
                secret=env.str(prefix + "SECRET"),
                who=who,
                scopes=env.list(prefix + "SCOPES", default=default_scopes),
                claims=env.list(
                    prefix + ("CLAIMS" if who == PATIENT else "HSA_CLAIM"), default=default_claims
                ),
                strong_acr=env.list(prefix + "STRONG_ACR", default=[LOA3, LOA4]),
                acr_values=env.str(prefix + "ACR_VALUES", default=""),
                fetch_userinfo=env.bool(prefix + "FETCH_USERINFO", default=True),
                token_auth_method=env.str(prefix + "TOKEN_AUTH_METHOD", default=""),
            )
        )
    return apps


def dev_providers(issuer: str) -> list[dict]:
    """The local test IdP's two clients: "BankID (test)" for patients and relatives,
    "SITHS (test)" for the care team. Claims come from the verified ID token only."""
    common = {"issuer": issuer, "secret": "development-only", "fetch_userinfo": False}
    return [
        _app(
            provider_id=DEV_PATIENT_PROVIDER,
            label="BankID (test)",
            client_id="careplan-dev-patient",
            who=PATIENT,
            scopes=["openid", PNR_SCOPE],
            claims=PNR_CLAIMS,
            strong_acr=[LOA3, LOA4],
            **common,
        ),
        _app(
            provider_id=DEV_STAFF_PROVIDER,
            label="SITHS (test)",
            client_id="careplan-dev-staff",
            who=STAFF,
            scopes=["openid", "profile"],
            claims=[HSA_CLAIM_DEFAULT],
            strong_acr=[LOA3, LOA4],
            **common,
        ),
    ]
