"""The templates' CSRF token (careplan.csrf): Django's token, drawn faster, which Django's
middleware accepts; and the per-process URLs of ``{% static %}`` (careplan_static)."""

from __future__ import annotations

import re
from collections import Counter

from django.conf import settings
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    _unmask_cipher_token,
)
from django.template import engines
from django.templatetags.static import StaticNode as DjangoStaticNode
from django.test import Client, RequestFactory
from django.urls import reverse

from careplan.csrf import csrf, get_token, random_string
from careplan.testing import login


def _token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_random_strings_are_django_s_alphabet_each_character_equally_likely():
    strings = [random_string() for _ in range(4000)]
    assert all(len(s) == CSRF_SECRET_LENGTH for s in strings)
    assert len(set(strings)) == len(strings)
    counts = Counter("".join(strings))
    assert set(counts) == set(CSRF_ALLOWED_CHARS)
    # 128 000 draws over 62 characters: about 2 065 each (a spread of ±15 % is far outside
    # chance, and what a modulo bias of bytes 248..255 would show for the first 8).
    expected = 4000 * CSRF_SECRET_LENGTH / len(CSRF_ALLOWED_CHARS)
    assert all(abs(n - expected) < 0.15 * expected for n in counts.values()), counts
    assert len(random_string(5)) == 5 and len(random_string(100)) == 100


def test_a_token_is_the_cookie_s_secret_masked_afresh():
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = secret = random_string()
    first, second = get_token(request), get_token(request)
    assert first != second and len(first) == 2 * CSRF_SECRET_LENGTH
    assert _unmask_cipher_token(first) == _unmask_cipher_token(second) == secret
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True


def test_without_a_cookie_a_new_secret_is_made_for_the_middleware_to_set():
    request = RequestFactory().get("/")
    token = get_token(request)
    secret = request.META["CSRF_COOKIE"]
    assert len(secret) == CSRF_SECRET_LENGTH and set(secret) <= set(CSRF_ALLOWED_CHARS)
    assert _unmask_cipher_token(token) == secret
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    # The context processor's token is worked out once per render, and only when used.
    lazy = csrf(request)["csrf_token"]
    assert str(lazy) == str(lazy) and _unmask_cipher_token(str(lazy)) == secret


def test_the_templates_use_this_token_and_the_middleware_accepts_it(cast):
    processors = engines["django"].engine.template_context_processors
    assert csrf in processors
    assert not any(
        p.__module__ == "django.template.context_processors" and p.__name__ == "csrf"
        for p in processors
    )

    client = login(Client(enforce_csrf_checks=True), cast.patient_user)
    page = client.get(reverse("plan_detail", args=[cast.plan.pk]))
    html = page.content.decode()
    token = _token(html)
    cookie = page.cookies[settings.CSRF_COOKIE_NAME].value
    assert _unmask_cipher_token(token) == cookie
    assert f'"X-CSRFToken": "{token}"' in html  # htmx's header: the same token
    refused = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert refused.status_code == 403
    switched = client.post(
        reverse("set_language"), {"language": "en", "next": "/", "csrfmiddlewaretoken": token}
    )
    assert switched.status_code == 302


def test_static_urls_are_django_s_and_follow_the_settings(settings):
    template = engines["django"].from_string("{% load static %}{% static 'careplan/site.css' %}")
    assert template.render() == DjangoStaticNode.handle_simple("careplan/site.css")
    assert template.render() == "/static/careplan/site.css"
    settings.STATIC_URL = "/assets/"
    assert template.render() == "/assets/careplan/site.css"
    named = engines["django"].from_string(
        "{% load static %}{% static 'a b.css' as css %}[{{ css }}]"
    )
    assert named.render() == "[/assets/a%20b.css]"
