"""The local test IdP for development and tests: oidc-provider-mock (a real OpenID
Connect provider built on Authlib: discovery, JWKS, RS256-signed ID tokens, nonce,
RP-initiated logout) with the demo's synthetic identities. Never in production:
``manage.py dev_idp`` refuses to start there, and settings refuse CAREPLAN_DEV_IDP_URL.
"""

from __future__ import annotations

from pathlib import Path

from careplan.management.commands import seed_demo as demo

from .config import HSA_CLAIM_DEFAULT, LOA3, PNR_CLAIMS

LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"

# Synthetic people (test personnummer of the 98x serial range, as in seed_demo).
EVA = "Eva Exempelsson (patient)"
ERIK = "Erik Exempelsson (närstående)"
UNKNOWN = "Okänd Person (ingen vårdplan)"
KARIN_STRONG = "Karin Kontaktsson (SITHS-kort, LoA3)"
KARIN_WEAK = "Karin Kontaktsson (lösenord, LoA2)"


def identities() -> dict[str, dict]:
    """sub -> claims. The personal identity numbers come from seed_demo."""

    def person(number: str, given: str, family: str) -> dict:
        return {
            PNR_CLAIMS[0]: number,
            "given_name": given,
            "family_name": family,
            "name": f"{given} {family}",
            "acr": LOA3,
        }

    def nurse(acr: str) -> dict:
        return {
            HSA_CLAIM_DEFAULT: demo.NURSE_HSA_ID,
            "given_name": "Karin",
            "family_name": "Kontaktsson",
            "acr": acr,
        }

    return {
        EVA: person(demo.DEMO_PATIENT_PNR, "Eva", "Exempelsson"),
        ERIK: person(demo.DEMO_RELATIVE_PNR, "Erik", "Exempelsson"),
        UNKNOWN: person(demo.DEMO_UNKNOWN_PNR, "Okänd", "Person"),
        KARIN_STRONG: nurse(LOA3),
        KARIN_WEAK: nurse(LOA2),
    }


def build_app(*, token_max_age_seconds: int = 600):
    """The Flask WSGI app of the test IdP (any client id is accepted, as a broker's test
    environment would for registered clients)."""
    import os
    from datetime import timedelta

    import oidc_provider_mock

    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on loopback
    users = [oidc_provider_mock.User(sub=sub, claims=c) for sub, c in identities().items()]
    app = oidc_provider_mock.app(
        require_nonce=True,
        issue_refresh_token=False,
        access_token_max_age=timedelta(seconds=token_max_age_seconds),
        user_claims=users,
    )
    _enforce_pkce(app)
    # Our page frame first: marked as a test IdP, and no stylesheet from a CDN.
    import jinja2

    here = Path(__file__).resolve().parent / "idp_templates"
    app.jinja_loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(here), app.jinja_loader])
    return app


def _enforce_pkce(app) -> None:
    """PKCE as a broker enforces it (RFC 7636): a code issued for a ``code_challenge`` is
    exchanged only with the matching ``code_verifier`` (oidc-provider-mock 0.3 accepts the
    parameters but does not check them)."""
    import base64
    import hashlib
    import hmac
    import threading
    from urllib.parse import parse_qs, urlsplit

    import flask

    challenges: dict[str, tuple[str, str]] = {}
    lock = threading.Lock()

    @app.after_request
    def remember_challenge(response):
        request = flask.request
        if request.path == "/oauth2/authorize" and response.status_code == 302:
            code = parse_qs(urlsplit(response.headers.get("Location", "")).query).get("code")
            challenge = request.args.get("code_challenge")
            if code and challenge:
                with lock:
                    challenges[code[0]] = (
                        challenge,
                        request.args.get("code_challenge_method", "plain"),
                    )
        return response

    @app.before_request
    def check_verifier():
        request = flask.request
        if (
            request.path != "/oauth2/token"
            or request.form.get("grant_type") != "authorization_code"
        ):
            return None
        with lock:
            entry = challenges.pop(request.form.get("code", ""), None)
        if entry is None:
            return None
        challenge, method = entry
        verifier = request.form.get("code_verifier", "")
        if method == "S256":
            digest = hashlib.sha256(verifier.encode()).digest()
            computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        else:
            computed = verifier
        if not verifier or not hmac.compare_digest(computed, challenge):
            return flask.jsonify(
                error="invalid_grant", error_description="PKCE verification failed"
            ), 400
        return None
