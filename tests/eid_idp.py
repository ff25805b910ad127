"""The local test IdP (careplan.eid.dev_idp: oidc-provider-mock) served on a free loopback
port for a test, plus a hostile mode for the security tests: the token endpoint's real ID
token is re-signed with changed claims or another key, so the app's checks meet what an
attacker (or a broken IdP) would send."""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

import requests
import werkzeug.serving
from joserfc import jwt
from joserfc.jwk import RSAKey

from careplan.eid import config as eid_config
from careplan.eid.dev_idp import build_app


@dataclass
class TestIdp:
    url: str
    app: object
    #: Claims to overwrite in the next ID tokens ({"aud": "someone-else"}).
    tamper_claims: dict = field(default_factory=dict)
    #: Sign the next ID tokens with this key instead (same kid: a forged token).
    tamper_key: RSAKey | None = None
    #: Requests seen: ("authorize", args) and ("token", form).
    seen: list = field(default_factory=list)

    def providers(self) -> dict:
        return {"eid": {"APPS": eid_config.dev_providers(self.url)}}

    def authorize(self, authorize_url: str, sub: str) -> str:
        """Pick ``sub`` on the IdP's page; returns the callback URL it redirects to."""
        response = requests.post(
            authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10
        )
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]


def _resign(idp: TestIdp, body: dict) -> dict:
    from oidc_provider_mock._app import storage

    token = jwt.decode(body["id_token"], RSAKey.import_key(storage.jwk.as_dict(is_private=True)))
    claims = dict(token.claims)
    claims.update(idp.tamper_claims)
    key = idp.tamper_key or RSAKey.import_key(storage.jwk.as_dict(is_private=True))
    header = {"alg": "RS256", "kid": token.header.get("kid")}
    body["id_token"] = jwt.encode(header, claims, key)
    return body


@contextmanager
def running_idp():
    import warnings

    import flask

    # The IdP's Authlib calls its own deprecated API (oidc-provider-mock 0.3 on Authlib
    # 1.9); the suite turns DeprecationWarnings into errors, which would break the IdP,
    # not the app. Only Authlib's are ignored (pytest restores the filters per test).
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"authlib(\.|$)")
    app = build_app()
    idp = TestIdp(url="", app=app)

    @app.before_request
    def _record():
        if flask.request.path.endswith("/authorize"):
            idp.seen.append(("authorize", dict(flask.request.args)))
        elif flask.request.path.endswith("/token"):
            idp.seen.append(("token", dict(flask.request.form)))

    @app.after_request
    def _tamper(response):
        if flask.request.path.endswith("/token") and (idp.tamper_claims or idp.tamper_key):
            body = json.loads(response.get_data())
            if "id_token" in body:
                response.set_data(json.dumps(_resign(idp, body)))
        return response

    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    idp.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield idp
    finally:
        server.shutdown()
        thread.join(5)


def query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def path_and_query(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.path}?{parsed.query}"


def now() -> int:
    return int(time.time())
