"""Pieces of every admin page that Django's templates work out anew per request, written
here with the same HTML (issue 16: the template engine's cost per node is most of a
change list page's CPU once the rows are cheap).

- ``action_fields``: the action form's fields (``admin/actions.html``): the same for every
  request of a list with the same actions in the same language, so their HTML (two widget
  templates, an include per ``<option>``) is rendered once per process and kept;
- ``userlinks``: the ``userlinks`` block of ``admin/base.html`` (view site, change
  password, the logout form with its CSRF token, the theme toggle).

The templates that use them: ``templates/admin/actions.html`` and
``templates/admin/base_site.html``; ``tests/careplan/test_admin_page.py`` renders each
both ways.
"""

from __future__ import annotations

from django.template.defaulttags import CsrfTokenNode
from django.template.loader import get_template
from django.urls import NoReverseMatch, get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

# (form class, language, the choices) -> the fields' HTML
_ACTION_FIELDS: dict[tuple, SafeString] = {}


def _render_action_fields(form) -> SafeString:
    # {% for field in action_form %}{% if field.label %}<label>{{ field.label }} {{ field }}</label>{% else %}{{ field }}{% endif %}{% endfor %}
    out = []
    for field in form:
        if field.label:
            label = conditional_escape(str(field.label))
            out.append(f"<label>{label} {conditional_escape(str(field))}</label>")
        else:
            out.append(conditional_escape(str(field)))
    return mark_safe("".join(out))  # noqa: S308 - escaped as the template escapes


def action_fields(form) -> SafeString:
    """The action form's fields as ``admin/actions.html`` writes them. An unbound form
    whose choices are plain (value, label) pairs is rendered once per process, class,
    language and choices; any other form (bound, with initial values or groups of
    choices) each time."""
    choices = getattr(form.fields.get("action"), "choices", None)
    if form.is_bound or form.initial or form.prefix or choices is None:
        return _render_action_fields(form)
    plain = []
    for value, label in choices:
        if not isinstance(value, str) or not isinstance(label, (str, Promise)):
            return _render_action_fields(form)
        plain.append((value, str(label)))
    key = (type(form), get_language(), form.auto_id, tuple(plain))
    found = _ACTION_FIELDS.get(key)
    if found is None:
        if len(_ACTION_FIELDS) > 500:
            _ACTION_FIELDS.clear()
        found = _ACTION_FIELDS[key] = _render_action_fields(form)
    return found


# language -> the theme toggle's HTML (its template has only translated texts)
_TOGGLE: dict[str | None, str] = {}
# (script prefix, URL resolver) -> the admin's password-change and logout URLs and the docs'
_URLS: dict[tuple, tuple[str, str, str]] = {}


def _urls() -> tuple[str, str, str]:
    key = (get_script_prefix(), get_resolver(get_urlconf()))
    found = _URLS.get(key)
    if found is None:
        try:
            docsroot = reverse("django-admindocs-docroot")
        except NoReverseMatch:
            docsroot = ""
        found = _URLS[key] = (
            reverse("admin:password_change"),
            reverse("admin:logout"),
            docsroot,
        )
    return found


def _toggle() -> str:
    language = get_language()
    found = _TOGGLE.get(language)
    if found is None:
        found = _TOGGLE[language] = get_template("admin/color_theme_toggle.html").render({})
    return found


def userlinks(context) -> SafeString:
    """The ``userlinks`` block of Django's ``admin/base.html``, byte for byte."""
    esc = conditional_escape
    user = context.get("user")
    site_url = context.get("site_url")
    password_change, logout, docsroot = _urls()
    out = ["\n                "]
    if site_url:
        out.append(
            f'\n                    <a href="{esc(site_url)}">{esc(gettext("View site"))}</a> /'
            "\n                "
        )
    out.append("\n                ")
    if user is not None and user.is_active and user.is_staff:
        out.append("\n                    \n                    ")
        if docsroot:
            out.append(
                f'\n                        <a href="{esc(docsroot)}">'
                f"{esc(gettext('Documentation'))}</a> /\n                    "
            )
        out.append("\n                ")
    out.append("\n                ")
    if user is not None and user.has_usable_password():
        out.append(
            f'\n                <a href="{esc(password_change)}">'
            f"{esc(gettext('Change password'))}</a> /\n                "
        )
    out.append(
        f'\n                <form id="logout-form" method="post" action="{esc(logout)}">'
        f"\n                    {CsrfTokenNode().render(context)}"
        f'\n                    <button type="submit">{esc(gettext("Log out"))}</button>'
        f"\n                </form>\n                {_toggle()}\n            "
    )
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped
