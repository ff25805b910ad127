"""The templates' CSRF token (Django's, written by the header's forms and htmx's header),
which Django's middleware accepts; and the per-process URLs of ``{% static %}``
(careplan_static)."""

from __future__ import annotations

import re

from django.conf import settings
from django.middleware.csrf import _unmask_cipher_token
from django.template import engines
from django.templatetags.static import StaticNode as DjangoStaticNode
from django.test import Client
from django.urls import reverse

from careplan.testing import login


def _token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_the_page_token_is_djangos_and_the_middleware_accepts_it(cast):
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
