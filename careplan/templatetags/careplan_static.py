"""Django's ``static`` template library, with each ``{% static %}`` URL worked out once
per process instead of on every render.

``TEMPLATES["OPTIONS"]["libraries"]`` maps the label ``static`` here (as ``i18n`` is
mapped to ``careplan_i18n``), so every template that says ``{% load static %}`` (ours and
the admin's) gets it. A static file's URL depends on its path and the settings only: the
storage is made once per process with its base URL (``STATIC_URL``) and, in production,
the manifest of hashed names (``collectstatic`` before the server starts). Every page's
head asks for four of them (about 15 µs each). The URLs are kept per path and forgotten
when a setting changes (a test's ``override_settings`` of ``DEBUG``, ``STORAGES`` or
``STATIC_URL``); a path the storage refuses raises each time, as with Django's tag.
"""

from __future__ import annotations

from django import template
from django.apps import apps
from django.core.signals import setting_changed
from django.templatetags import static as django_static

register = template.Library()
register.tags.update(django_static.register.tags)
register.filters.update(django_static.register.filters)

# path -> its URL from the static files storage (with django.contrib.staticfiles).
_URLS: dict[str, str] = {}


class StaticNode(django_static.StaticNode):
    """Django's ``StaticNode``, the storage asked once per path."""

    @classmethod
    def handle_simple(cls, path):
        found = _URLS.get(path) if isinstance(path, str) else None
        if found is None:
            found = super().handle_simple(path)
            # Without staticfiles the URL is STATIC_URL with the request's script prefix.
            if isinstance(path, str) and apps.is_installed("django.contrib.staticfiles"):
                if len(_URLS) > 1000:
                    _URLS.clear()
                _URLS[path] = found
        return found


@register.tag("static")
def do_static(parser, token):
    return StaticNode.handle_token(parser, token)


def _forget(**kwargs) -> None:
    _URLS.clear()


setting_changed.connect(_forget, dispatch_uid="careplan_static_urls")
