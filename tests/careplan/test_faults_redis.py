"""A dead or hung Redis (issue 12): logins and rate limits keep working on the database
cache, requests and /healthz do not hang, /healthz names the failing dependency.

Faults are real sockets: a port nobody listens on (dead) and a server that accepts and
never answers (hung), both on ports chosen at runtime (tests/faults.py)."""

from __future__ import annotations

import time
import uuid

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from careplan import cache as careplan_cache
from careplan import health, services
from careplan.cache import FallbackRedisCache
from careplan.models import Outbox
from tests import factories as f
from tests.faults import broker_at, dead_url, hung_server

PASSWORD = "correct-horse-battery"  # tests/factories.py UserFactory
# Not a speed measurement: a guard that the answer came at all instead of hanging (a hung
# dependency without timeouts blocks for as long as it hangs).
NO_HANG_SECONDS = 5


@pytest.fixture(autouse=True)
def _fresh_fallback():
    careplan_cache.reset_fallback()
    yield
    careplan_cache.reset_fallback()


def _redis_cache_at(settings, url: str) -> None:
    settings.REDIS_URL = url
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "careplan.cache.FallbackRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        },
    }


def _user():
    user = f.UserFactory(email=f"fault-{uuid.uuid4().hex[:8]}@example.test")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def _login(client: Client, email: str, password: str):
    return client.post(reverse("account_login"), {"login": email, "password": password})


# --- HEAD -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["home", "healthz"])
def test_head_is_answered_like_get(name):
    response = Client().head(reverse(name))
    assert response.status_code == 200
    assert response.content == b""


# --- The cache -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fault", ["dead", "hung"])
def test_a_login_works_while_redis_is_dead_or_hung(settings, fault):
    user = _user()
    with hung_server() as hung:
        _redis_cache_at(settings, dead_url() if fault == "dead" else hung.url)
        started = time.monotonic()
        client = Client()
        response = _login(client, user.email, PASSWORD)
        assert time.monotonic() - started < NO_HANG_SECONDS
        assert response.status_code == 302, response.content[:500]
        assert client.session["_auth_user_id"] == str(user.pk)
        cache = caches["default"]
        assert isinstance(cache, FallbackRedisCache) and cache.in_fallback()
        if fault == "hung":
            # One timeout per window and process, not one per request: the next logins
            # do not knock on the hung Redis again.
            knocked = len(hung.accepted)
            assert _login(Client(), user.email, PASSWORD).status_code == 302
            assert len(hung.accepted) == knocked


@pytest.mark.django_db(transaction=True)
def test_rate_limits_still_hold_on_the_database_while_redis_is_dead(settings):
    """Fail to the database, not open: the sixth wrong password in a row is refused."""
    _redis_cache_at(settings, dead_url())
    user = _user()
    for _ in range(5):
        assert _login(Client(), user.email, "wrong password").status_code == 200
    client = Client()
    response = _login(client, user.email, PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    codes = [e.code for e in response.context["form"].errors.as_data()["__all__"]]
    assert codes == ["too_many_login_attempts"]


@pytest.mark.django_db(transaction=True)
def test_redis_is_tried_again_after_the_window(settings):
    settings.CAREPLAN_CACHE_FALLBACK_SECONDS = 0
    with hung_server() as hung:
        _redis_cache_at(settings, hung.url)
        cache = caches["default"]
        cache.set("k", "v")
        assert cache.get("k") == "v"  # from the database
        assert len(hung.accepted) >= 2  # the window was 0 s: each call tries Redis first


@pytest.mark.django_db(transaction=True)
def test_the_cache_uses_a_live_redis_when_there_is_one(settings):
    import os

    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set")
    _redis_cache_at(settings, url)
    cache = caches["default"]
    cache.set("k", "v")
    assert cache.get("k") == "v"
    assert not cache.in_fallback()
    assert cache.fallback.get("k") is None


# --- /healthz ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_healthz_reports_each_dependency():
    response = Client().get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert body["checks"]["database"]["status"] == "ok"
    assert body["status"] in ("ok", "degraded")
    for check in body["checks"].values():
        assert check["status"] in ("ok", "skipped")
        assert isinstance(check["ms"], int)


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_within_a_second_with_a_hung_redis_as_cache_and_broker(settings):
    with hung_server() as hung:
        _redis_cache_at(settings, hung.url)
        with broker_at(hung.url):
            started = time.monotonic()
            response = Client().get(reverse("healthz"))
            elapsed = time.monotonic() - started
    assert elapsed < NO_HANG_SECONDS
    assert response.status_code == 200  # the site works on without Redis
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["cache"]["status"] in ("timeout", "error")
    assert body["checks"]["broker"]["status"] in ("timeout", "error")
    # Each check gives up by the deadline (within a second).
    assert all(c["ms"] <= 1000 for c in body["checks"].values())


@pytest.mark.django_db(transaction=True)
def test_healthz_reports_a_dead_redis(settings):
    url = dead_url()
    _redis_cache_at(settings, url)
    with broker_at(url):
        body = Client().get(reverse("healthz")).json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"] == {**body["checks"]["cache"], "status": "error"}
    assert body["checks"]["cache"]["error"] == "ConnectionError"
    assert body["checks"]["broker"]["status"] == "error"


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_without_the_database(monkeypatch):
    def no_database():
        from django.db import OperationalError

        raise OperationalError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", no_database)
    response = Client().get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["checks"]["database"]["error"] == "OperationalError"


# --- The broker at commit ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fault", ["dead", "hung"])
def test_a_dead_or_hung_broker_costs_one_attempt_per_window_and_loses_nothing(fault):
    with hung_server() as hung, broker_at(dead_url() if fault == "dead" else hung.url):
        started = time.monotonic()
        rows = [
            services.outbox_enqueue(task="careplan.tasks.nothing", kwargs={}, dedupe_key=f"b{n}")
            for n in range(3)
        ]
        assert time.monotonic() - started < NO_HANG_SECONDS
        if fault == "hung":
            assert len(hung.accepted) == 1  # the first hand-over timed out; then no more
    for row in rows:
        row.refresh_from_db()
        assert (row.status, row.sent_at) == (Outbox.Status.PENDING, None)
