"""Cross-cutting security: login rate limits, headers, caching, idle timeout, and keeping
the personnummer out of logs and URLs."""

from __future__ import annotations

import io
import logging
import re
import time
import uuid

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from careplan.logging import RedactPersonnummerFilter
from tests import factories as f

PASSWORD = "correct-horse-battery"  # tests/factories.py UserFactory


@pytest.fixture
def own_cache(settings):
    """Rate limits live in the cache. Without Redis it is a file cache that every test run
    on the machine shares (and clears); keep this run's to itself. With REDIS_URL (CI)
    the real Redis cache is used."""
    if "FileBasedCache" in settings.CACHES["default"]["BACKEND"]:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


# --- Login rate limit -----------------------------------------------------------------------


def _login(client: Client, email: str, password: str):
    return client.post(reverse("account_login"), {"login": email, "password": password})


@pytest.mark.django_db
def test_the_sixth_failed_login_for_one_e_mail_is_refused_even_with_the_right_password(
    own_cache,
):
    user = f.UserFactory(email=f"ratelimit-{uuid.uuid4().hex[:8]}@example.test")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    for attempt in range(5):
        response = _login(Client(), user.email, "wrong password")
        assert response.status_code == 200, attempt
        assert _error_codes(response) != ["too_many_login_attempts"], attempt

    client = Client()
    response = _login(client, user.email, PASSWORD)
    assert response.status_code == 200
    assert _error_codes(response) == ["too_many_login_attempts"]
    assert "_auth_user_id" not in client.session


def _error_codes(response) -> list[str]:
    errors = response.context["form"].errors.as_data()
    return [e.code for e in errors.get("__all__", [])]


@pytest.mark.django_db
def test_failed_logins_for_one_e_mail_do_not_lock_out_another(own_cache):
    victim = f.UserFactory(email=f"victim-{uuid.uuid4().hex[:8]}@example.test")
    other = f.UserFactory(email=f"other-{uuid.uuid4().hex[:8]}@example.test")
    for user in (victim, other):
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    for _ in range(5):
        _login(Client(), victim.email, "wrong password")
    client = Client()
    response = _login(client, other.email, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other.pk)


@pytest.mark.django_db
def test_the_login_rate_limit_is_kept_in_the_shared_cache(own_cache):
    user = f.UserFactory(email=f"cached-{uuid.uuid4().hex[:8]}@example.test")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    _login(Client(), user.email, "wrong password")
    assert any("login_failed" in str(key) for key in _cache_keys())
    cache.clear()  # a new cache (e.g. Redis flushed) forgets the attempts
    client = Client()
    assert _login(client, user.email, PASSWORD).status_code == 302


def _cache_keys() -> list:
    backend = cache._cache if hasattr(cache, "_cache") else None
    if isinstance(backend, dict):  # LocMemCache
        return list(backend)
    client = getattr(cache, "_cache", None)
    if client is not None and hasattr(client, "get_client"):  # RedisCache
        return [k.decode() for k in client.get_client().keys("*")]
    return []


# --- Headers --------------------------------------------------------------------------------


def _assert_security_headers(response):
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "style-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_the_landing_and_login_pages_carry_the_security_headers():
    client = Client()
    for url in ("/", reverse("account_login")):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_security_headers(response)


@pytest.mark.django_db
def test_patient_pages_carry_the_security_headers(cast):
    response = cast.client("patient").get(reverse("plan_detail", args=[cast.plan.pk]))
    assert response.status_code == 200
    _assert_security_headers(response)


@pytest.mark.django_db
def test_error_pages_carry_the_security_headers(cast):
    response = cast.client("other_nurse").get(reverse("plan_detail", args=[cast.plan.pk]))
    assert response.status_code == 404
    _assert_security_headers(response)


# --- Caching ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["patient", "nurse", "relative"])
def test_pages_for_a_logged_in_user_are_never_cached(cast, who):
    for url in (
        reverse("home"),
        reverse("plan_detail", args=[cast.plan.pk]),
        reverse("plan_calendar", args=[cast.plan.pk]),
    ):
        response = cast.client(who).get(url)
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url


@pytest.mark.django_db
def test_the_admin_and_the_api_are_never_cached(cast):
    nurse = cast.client("nurse")
    assert "no-store" in nurse.get("/admin/")["Cache-Control"]
    assert "no-store" in nurse.get("/api/v1/plans/")["Cache-Control"]
    assert "no-store" in Client().get("/api/v1/plans/")["Cache-Control"]


# --- Idle timeout -----------------------------------------------------------------------


def _set_last_activity(client: Client, seconds_ago: int) -> None:
    session = client.session
    session["last_activity"] = int(time.time()) - seconds_ago
    session.save()


@pytest.mark.django_db
def test_an_idle_session_is_logged_out_and_sent_to_login(cast):
    client = cast.client("patient")
    url = reverse("plan_detail", args=[cast.plan.pk])
    _set_last_activity(client, settings.CAREPLAN_SESSION_IDLE_SECONDS + 5)

    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{settings.LOGIN_URL_PATH}?next={url}"
    assert "_auth_user_id" not in client.session
    assert client.get(url).status_code == 302  # still logged out


@pytest.mark.django_db
def test_an_idle_staff_session_is_logged_out_of_the_admin_too(cast):
    client = cast.client("nurse")
    _set_last_activity(client, settings.CAREPLAN_SESSION_IDLE_SECONDS + 5)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(settings.LOGIN_URL_PATH)
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_an_active_session_stays_and_its_clock_restarts(cast):
    client = cast.client("patient")
    url = reverse("plan_detail", args=[cast.plan.pk])
    _set_last_activity(client, settings.CAREPLAN_SESSION_IDLE_SECONDS - 30)

    assert client.get(url).status_code == 200
    assert int(time.time()) - client.session["last_activity"] < 30
    assert client.get(url).status_code == 200


def test_the_session_cookie_lasts_no_longer_than_the_idle_timeout():
    assert settings.SESSION_COOKIE_AGE == settings.CAREPLAN_SESSION_IDLE_SECONDS
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_HTTPONLY


# --- Personnummer: never in logs -------------------------------------------------------------


SAMPLE = "196804129825"  # synthetic; the Luhn digit does not matter to the filter


def _configured(logger: logging.Logger) -> list[logging.Handler]:
    """The handlers settings.LOGGING put there (pytest adds its own capture handlers)."""
    return [h for h in logger.handlers if type(h) is logging.StreamHandler]


def _capture_handlers(logger: logging.Logger):
    buffers = []
    for handler in _configured(logger):
        buf = io.StringIO()
        buffers.append((handler, handler.setStream(buf), buf))
    return buffers


def _restore(buffers) -> str:
    text = ""
    for handler, old, buf in buffers:
        handler.setStream(old)
        text += buf.getvalue()
    return text


def test_the_redacting_filter_is_on_every_configured_log_handler():
    handlers = settings.LOGGING["handlers"]
    assert handlers
    for name, handler in handlers.items():
        assert "no_personnummer" in handler.get("filters", []), name
    assert (
        settings.LOGGING["filters"]["no_personnummer"]["()"]
        == "careplan.logging.RedactPersonnummerFilter"
    )
    live = _configured(logging.getLogger()) + _configured(logging.getLogger("django.request"))
    assert live
    assert all(any(isinstance(x, RedactPersonnummerFilter) for x in h.filters) for h in live)


@pytest.mark.parametrize(
    "written",
    [SAMPLE, "19680412-9825", "680412-9825", "6804129825", "680412+9825"],
)
def test_no_personnummer_reaches_the_log_in_any_format(written):
    root = logging.getLogger()
    buffers = _capture_handlers(root)
    try:
        logging.getLogger("careplan.anything").warning("patient %s looked up", written)
        logging.getLogger("careplan.anything").warning(f"inline {written} too")
    finally:
        text = _restore(buffers)
    assert buffers
    assert written not in text
    assert SAMPLE[-4:] not in text
    assert text.count("[personnummer]") == 2


def test_request_errors_are_logged_without_personnummer():
    logger = logging.getLogger("django.request")
    buffers = _capture_handlers(logger)
    try:
        logger.warning("Not Found: /search?q=%s", "19680412-9825")
    finally:
        text = _restore(buffers)
    assert buffers
    assert "9825" not in text
    assert "[personnummer]" in text


def test_the_filter_leaves_other_numbers_alone():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "plan %s event %s", (42, 7), None)
    RedactPersonnummerFilter().filter(record)
    assert record.getMessage() == "plan 42 event 7"


# --- Personnummer: never in a URL ------------------------------------------------------------


def _all_patterns(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _all_patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield route


def test_no_url_pattern_takes_a_personnummer():
    routes = list(_all_patterns(get_resolver()))
    assert len(routes) > 20
    suspicious = re.compile(r"personnummer|pnr|ssn|personal_?id|samordning", re.IGNORECASE)
    assert [r for r in routes if suspicious.search(r)] == []
    # Patient-facing routes identify objects by number (pk), never by a 12-digit string.
    assert [r for r in routes if re.search(r"\\d\{1[02]\}|\[0-9\]\{1[02]\}", r)] == []


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["patient", "nurse", "relative"])
def test_no_link_or_form_on_the_patient_pages_carries_the_personnummer(cast, who):
    client = cast.client(who)
    pnr = cast.patient.personnummer
    formatted = f"{pnr[:8]}-{pnr[8:]}"
    for url in (
        reverse("home"),
        reverse("plan_detail", args=[cast.plan.pk]),
        reverse("plan_calendar", args=[cast.plan.pk]),
        reverse("plan_section", args=[cast.plan.pk, "treatment"]),
    ):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        for target, _ in response.redirect_chain:
            assert pnr not in target and formatted not in target
        body = response.content.decode()
        links = re.findall(r'(?:href|action|hx-get|hx-post|src)="([^"]*)"', body)
        assert links, url
        for link in links:
            assert pnr not in link and formatted not in link and pnr[2:] not in link, link
