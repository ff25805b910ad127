"""Two web nodes against one database and one Redis behave as one site.

Starts two gunicorn processes on free ports (careplan/httpbench.py ``Server``, one worker
each) with the same test database and Redis, and drives them over real HTTP:

- sessions and CSRF: the login form comes from node A, the password is posted to node B,
  the session then works on A; a logout on A ends it on B;
- rate limits: failed logins alternate between the nodes and are refused after the fifth
  in total (``login_failed`` 5/5m per key), not after the fifth on each node;
- used TOTP codes: a nurse's code used on A is refused on B;
- caches: all of the above live in the one Redis cache.

Needs PostgreSQL (a database other processes can open) and ``REDIS_URL``; skips with the
reason elsewhere (CI has both).
"""

from __future__ import annotations

import http.client
import os
import re
import time
import uuid
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.utils.crypto import get_random_string

from careplan.httpbench import Server

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"  # tests/factories.py UserFactory
SECRET = "MNQXEZLQNRQW4LLUMVZXILLTMVRXEZLU"  # synthetic, base32


class Browser:
    """Cookies kept across nodes, as a browser behind a load balancer keeps them."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def request(self, port: int, method: str, path: str, data: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Host": "127.0.0.1", "Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    if morsel.value and morsel["max-age"] != "0":
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
            return response.status, response.headers.get("Location", ""), text
        finally:
            conn.close()

    def get(self, port: int, path: str):
        return self.request(port, "GET", path)

    def post_form(self, port: int, path: str, data: dict, *, form_from: int | None = None):
        """POST ``data`` with the CSRF token of the form page (fetched from ``form_from``)."""
        _status, _loc, page = self.get(form_from or port, path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, page[:500]
        return self.request(port, "POST", path, {**data, "csrfmiddlewaretoken": token.group(1)})


def _code(offset: int = 0) -> str:
    return format_hotp_value(hotp_value(SECRET, int(time.time()) // 30 + offset))


@pytest.fixture
def nodes():
    if connection.vendor != "postgresql":
        pytest.skip("two processes need a shared database (PostgreSQL); SQLite's is private")
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        pytest.skip("REDIS_URL is not set: the nodes need one shared cache")
    import redis

    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis answers at REDIS_URL ({exc})")
    env = {
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": f"careplan-two-nodes-{uuid.uuid4().hex[:10]}",
        "MFA_TOTP_TOLERANCE": "0",
    }
    a = Server(workers=1, extra_env=env)
    b = Server(workers=1, extra_env=env)
    try:
        a.wait_ready()
        b.wait_ready()
        yield a.port, b.port
    finally:
        a.stop()
        b.stop()


def _verified(user):
    """A verified e-mail, and the password hashed as the nodes' settings expect (the test
    settings hash with MD5 for speed; the nodes run the project's hashers)."""
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, get_random_string(12), iterations=1000)
    user.save(update_fields=["password"])
    return user


def test_a_session_started_on_one_node_works_on_the_other_and_ends_on_both(cast, nodes):
    a, b = nodes
    _verified(cast.patient_user)
    browser = Browser()
    status, location, _page = browser.post_form(
        b,
        "/accounts/login/",
        {"login": cast.patient_user.email, "password": PASSWORD},
        form_from=a,  # the form (and its CSRF cookie) came from the other node
    )
    assert status == 302, _page[:300]
    plan = f"/plan/{cast.plan.pk}/"
    status, _loc, page = browser.get(a, plan)
    assert status == 200 and cast.plan.title in page
    status, _loc, _page = browser.get(b, plan)
    assert status == 200
    status, _loc, _page = browser.post_form(a, "/accounts/logout/", {})
    assert status == 302
    status, location, _page = browser.get(b, plan)
    assert status == 302 and "/accounts/login/" in location


def test_failed_logins_count_across_both_nodes(cast, nodes):
    a, b = nodes
    _verified(cast.patient_user)
    refused_at = None
    for attempt in range(1, 9):
        browser = Browser()
        port = a if attempt % 2 else b
        status, _loc, page = browser.post_form(
            port, "/accounts/login/", {"login": cast.patient_user.email, "password": "wrong"}
        )
        if status == 429 or "Too many failed login attempts" in page:
            refused_at = attempt
            break
        assert status == 200  # the form again, with an error
    # five failures in total, then refused: the nodes share one count
    assert refused_at == 6


def test_a_totp_code_used_on_one_node_is_refused_on_the_other(cast, nodes):
    a, b = nodes
    nurse = _verified(cast.nurse)
    TOTP.activate(nurse, SECRET)
    if int(time.time()) % 30 > 22:  # keep both logins inside one 30-second window
        time.sleep(31 - int(time.time()) % 30)
    code = _code()
    first = Browser()
    status, location, _page = first.post_form(
        a, "/accounts/login/", {"login": nurse.email, "password": PASSWORD}
    )
    assert status == 302 and "/accounts/2fa/authenticate/" in location
    status, _loc, _page = first.post_form(a, "/accounts/2fa/authenticate/", {"code": code})
    assert status == 302, _page[:300]
    assert first.get(b, "/admin/")[0] == 200  # the MFA session works on the other node too

    second = Browser()
    status, location, _page = second.post_form(
        b, "/accounts/login/", {"login": nurse.email, "password": PASSWORD}
    )
    assert status == 302 and "/accounts/2fa/authenticate/" in location
    status, _loc, page = second.post_form(b, "/accounts/2fa/authenticate/", {"code": code})
    assert status == 200  # the form again: the code was used on node A
    assert second.get(b, "/admin/")[0] == 302
