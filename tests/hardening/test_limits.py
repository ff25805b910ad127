"""Login rate limits behind a load balancer, API throttling, the absolute session
lifetime and the format-suffixed extra actions (issue 12, "Access and privacy")."""

from __future__ import annotations

import time
import uuid

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from contacts import services as contacts_services
from contacts.models import CareMapEntry, EntryKind
from tests import factories as f

PASSWORD = "correct-horse-battery"  # tests/factories.py UserFactory


@pytest.fixture
def own_cache(settings):
    """Rate limits live in the cache; keep this run's to itself (see test_security.py)."""
    if "FileBasedCache" in settings.CACHES["default"]["BACKEND"]:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


def _user() -> object:
    user = f.UserFactory(email=f"lb-{uuid.uuid4().hex[:8]}@example.test")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def _login(email: str, password: str, *, xff: str) -> tuple[Client, object]:
    client = Client(REMOTE_ADDR="10.0.0.2")  # the load balancer, for every request
    response = client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        HTTP_X_FORWARDED_FOR=xff,
    )
    return client, response


# --- Login rate limits behind a load balancer -------------------------------------------


@pytest.mark.django_db
def test_behind_the_load_balancer_one_clients_failures_do_not_lock_out_the_others(
    own_cache, settings
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    # Ten wrong passwords a minute from one client, each for another account (the per-IP
    # limit, not the per-account one, is what they reach).
    for _ in range(12):
        _login(f"nobody-{uuid.uuid4().hex[:6]}@example.test", "wrong", xff="203.0.113.7")
    _client, refused = _login(_user().email, PASSWORD, xff="203.0.113.7")
    assert refused.status_code == 429 or "_auth_user_id" not in _client.session

    # Everyone else, through the same load balancer, still logs in.
    client, response = _login(_user().email, PASSWORD, xff="198.51.100.20")
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


@pytest.mark.django_db
def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(own_cache, settings):
    """A client may not dodge the limit by forging X-Forwarded-For: with no trusted proxy
    (the default) the socket's address counts."""
    assert settings.ALLAUTH_TRUSTED_PROXY_COUNT == 0
    for n in range(12):
        _login(f"nobody-{uuid.uuid4().hex[:6]}@example.test", "wrong", xff=f"192.0.2.{n}")
    client, _response = _login(_user().email, PASSWORD, xff="198.51.100.20")
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_forged_prefix_in_x_forwarded_for_does_not_change_the_client(own_cache, settings):
    """The address our one proxy appended (the last) counts, whatever the client prepended."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    for n in range(12):
        _login(
            f"nobody-{uuid.uuid4().hex[:6]}@example.test",
            "wrong",
            xff=f"192.0.2.{n}, 203.0.113.7",
        )
    client, _response = _login(_user().email, PASSWORD, xff="203.0.113.7")
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_header_shorter_than_the_proxy_chain_falls_back_to_the_socket(own_cache, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2
    client, response = _login(_user().email, PASSWORD, xff="203.0.113.7")
    assert response.status_code == 302  # not a 500 (allauth raises ImproperlyConfigured)
    assert "_auth_user_id" in client.session


def test_the_trusted_proxy_setting_reaches_allauth_and_drf():
    assert settings.ALLAUTH_TRUSTED_PROXY_COUNT == settings.CAREPLAN_TRUSTED_PROXY_COUNT
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.CAREPLAN_TRUSTED_PROXY_COUNT


# --- API throttling -------------------------------------------------------------------------


def test_the_api_sets_throttle_classes_with_the_configured_rates():
    from rest_framework.settings import api_settings

    assert [AnonRateThrottle, UserRateThrottle] == api_settings.DEFAULT_THROTTLE_CLASSES
    assert UserRateThrottle().rate == settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"]
    assert AnonRateThrottle().rate == settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"]


def test_a_user_past_the_rate_gets_429_and_another_user_does_not(cast, own_cache, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "rate", "3/min", raising=False)
    patient = cast.client("patient")
    for _ in range(3):
        assert patient.get("/api/v1/plans/").status_code == 200
    response = patient.get("/api/v1/plans/")
    assert response.status_code == 429
    assert "Retry-After" in response
    assert cast.client("nurse").get("/api/v1/plans/").status_code == 200


def test_anonymous_api_requests_are_throttled_per_address(db, own_cache, monkeypatch):
    """The schema is the one API view open to anonymous users (the rest answer 403
    before throttling)."""
    monkeypatch.setattr(AnonRateThrottle, "rate", "1/min", raising=False)
    client = Client(REMOTE_ADDR="203.0.113.9")
    assert [client.get("/api/schema/").status_code for _ in range(2)] == [200, 429]
    assert Client(REMOTE_ADDR="203.0.113.10").get("/api/schema/").status_code == 200


# --- Absolute session lifetime ------------------------------------------------------------------


def _set(client: Client, **values) -> None:
    session = client.session
    session.update(values)
    session.save()


def test_an_active_session_ends_after_the_absolute_lifetime(cast):
    client = cast.client("patient")
    url = reverse("plan_detail", args=[cast.plan.pk])
    assert client.get(url).status_code == 200
    assert client.session["session_started"] <= int(time.time())
    now = int(time.time())
    _set(
        client,
        session_started=now - settings.CAREPLAN_SESSION_ABSOLUTE_SECONDS - 5,
        last_activity=now - 10,  # active a moment ago
    )
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{settings.LOGIN_URL_PATH}?next={url}"
    assert "_auth_user_id" not in client.session


def test_a_session_younger_than_the_absolute_lifetime_stays(cast):
    client = cast.client("nurse")
    _set(client, session_started=int(time.time()) - settings.CAREPLAN_SESSION_ABSOLUTE_SECONDS + 60)
    assert client.get("/admin/").status_code == 200


def test_the_absolute_lifetime_defaults_to_twelve_hours_and_outlasts_the_idle_timeout():
    assert settings.CAREPLAN_SESSION_ABSOLUTE_SECONDS == 12 * 60 * 60
    assert settings.CAREPLAN_SESSION_ABSOLUTE_SECONDS > settings.CAREPLAN_SESSION_IDLE_SECONDS


# --- Extra actions with a format suffix -----------------------------------------------------------


@pytest.fixture
def objects(cast):
    """One object behind every extra action's route."""
    from selfmonitor.models import Instrument

    cmap = contacts_services.care_map_of(cast.patient)
    entry = contacts_services.care_map_entry_save(
        entry=CareMapEntry(care_map=cmap, kind=EntryKind.PERSON, name="Ella"),
        by=cast.patient_user,
        creating=True,
    )
    instrument = Instrument.objects.first()
    return {"entry": entry, "instrument": instrument}


@pytest.mark.parametrize("fmt", ["json", "api"])
def test_fhir_exports_with_a_format_suffix_answer_like_without(cast, objects, fmt):
    client = cast.client("nurse")
    entry = objects["entry"]
    plain = client.get(f"/api/v1/care-map-entries/{entry.pk}/fhir/", HTTP_ACCEPT="application/json")
    suffixed = client.get(f"/api/v1/care-map-entries/{entry.pk}/fhir.{fmt}")
    assert plain.status_code == suffixed.status_code == 200
    if fmt == "json":
        assert suffixed["Content-Type"].startswith("application/json")
        assert suffixed.json() == plain.json()
    grant = client.get(f"/api/v1/relative-grants/{cast.grant.pk}/fhir.{fmt}")
    assert grant.status_code == 200


def test_an_unknown_format_suffix_is_a_clean_404(cast, objects):
    client = cast.client("nurse")
    response = client.get(f"/api/v1/care-map-entries/{objects['entry'].pk}/fhir.xml")
    assert response.status_code == 404
