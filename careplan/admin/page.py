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

from django.conf import settings
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.views.main import IS_FACETS_VAR, SEARCH_VAR
from django.template.defaulttags import CsrfTokenNode
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import NoReverseMatch, get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils.encoding import iri_to_uri
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext

from careplan import rendering

from .results import _DJANGO_ADMIN, admin_template_names, template_is

_OUR_PAGINATION = str(settings.BASE_DIR / "templates" / "admin" / "pagination.html").replace(
    "\\", "/"
)

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


# --- the change list's search form, pagination and filters ---------------------------------


def search_form(cl) -> SafeString | None:
    """``{% search_form cl %}`` (Django's ``admin/search_form.html``), or ``None`` where a
    model has its own template or the list is a popup."""
    names = admin_template_names(cl.opts, "search_form.html")
    if cl.is_popup or not template_is(names, f"{_DJANGO_ADMIN}{names[-1]}"):
        return None
    if not cl.search_fields:
        return mark_safe("\n\n")
    esc = conditional_escape
    help_text = cl.search_help_text
    described = ' aria-describedby="searchbar_helptext"' if help_text else ""
    out = [
        '\n\n<div id="toolbar"><form id="changelist-search" method="get" role="search">\n'
        "<div><!-- DIV needed for valid HTML -->\n"
        f'<label for="searchbar"><img src="{esc(static("admin/img/search.svg"))}" alt="Search"></label>\n'
        f'<input type="text" size="40" name="{SEARCH_VAR}" value="{esc(cl.query)}" id="searchbar"{described}>\n'
        f'<input type="submit" value="{esc(gettext("Search"))}">\n'
    ]
    if cl.result_count != cl.full_result_count:
        count = cl.result_count
        found = ngettext("%(counter)s result", "%(counter)s results", count) % {
            "counter": esc(count)
        }
        query = f"{IS_FACETS_VAR}" if cl.add_facets else ""
        if cl.show_full_result_count:
            total = gettext("%(full_result_count)s total") % {
                "full_result_count": esc(cl.full_result_count)
            }
        else:
            total = esc(gettext("Show all"))
        out.append(
            f'\n    <span class="small quiet">{found} (<a href="?{query}">{total}</a>)</span>\n'
        )
    out.append("\n")
    for name, value in cl.params.items():
        hidden = (
            f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">'
            if name != SEARCH_VAR
            else ""
        )
        out.append(f"\n    {hidden}\n")
    out.append("\n</div>\n")
    if help_text:
        out.append(
            f'\n<br class="clear">\n<div class="help" id="searchbar_helptext">{esc(help_text)}</div>\n'
        )
    out.append("\n</form></div>\n\n")
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped


def pagination(cl) -> SafeString | None:
    """``{% pagination cl %}`` with ``templates/admin/pagination.html`` (Django's, and a
    capped count says "more than"), or ``None`` where a model has its own template or the
    list has forms."""
    names = admin_template_names(cl.opts, "pagination.html")
    if cl.formset or not template_is(names, _OUR_PAGINATION):
        return None
    esc = conditional_escape
    context = admin_list.pagination(cl)
    out = ['\n\n\n<p class="paginator">\n']
    if context["pagination_required"]:
        out.append("\n")
        for i in context["page_range"]:
            out.append(f"\n    {admin_list.paginator_number(cl, i)}\n")
        out.append("\n")
    out.append("\n")
    opts = cl.opts
    if getattr(cl.paginator, "capped", False):
        more = gettext("more than %(count)s") % {"count": esc(cl.paginator.cap)}
        out.append(f"{more} {esc(opts.verbose_name_plural)}")
    else:
        name = opts.verbose_name if cl.result_count == 1 else opts.verbose_name_plural
        out.append(f"{esc(cl.result_count)} {esc(name)}")
    out.append("\n")
    show_all_url = context["show_all_url"]
    if show_all_url:
        out.append(f'<a href="{esc(show_all_url)}" class="showall">{esc(gettext("Show all"))}</a>')
    out.append("\n\n</p>\n")
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped


def list_filter(cl, spec) -> SafeString:
    """``{% admin_list_filter cl spec %}``: a filter written here when it uses Django's
    ``admin/filter.html``, else Django's tag."""
    if spec.template != "admin/filter.html" or not template_is(
        ("admin/filter.html",), f"{_DJANGO_ADMIN}admin/filter.html"
    ):
        return admin_list.admin_list_filter(cl, spec)
    esc = conditional_escape
    title = esc(spec.title)
    by = gettext(" By %(filter_title)s ") % {"filter_title": title}
    out = [
        f'\n<details data-filter-title="{title}" open>\n  <summary>\n    {by}\n  </summary>\n  <ul>\n  '
    ]
    for choice in spec.choices(cl):
        selected = ' class="selected"' if choice.get("selected") else ""
        href = esc(iri_to_uri(choice["query_string"]))
        out.append(
            f'\n    <li{selected}>\n    <a href="{href}">{esc(choice["display"])}</a></li>\n  '
        )
    out.append("\n  </ul>\n</details>\n")
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped


def filters(cl) -> SafeString:
    """The ``filters`` block of Django's ``admin/change_list.html``: the sidebar with the
    facet and clear links and each filter (``list_filter``)."""
    if not cl.has_filters:
        return mark_safe("\n        \n      ")
    esc = conditional_escape
    out = [
        '\n        \n          <nav id="changelist-filter" aria-labelledby="changelist-filter-header">'
        f'\n            <h2 id="changelist-filter-header">{esc(gettext("Filter"))}</h2>\n            '
    ]
    if cl.is_facets_optional or cl.has_active_filters:
        out.append('<div id="changelist-filter-extra-actions">\n              ')
        if cl.is_facets_optional:
            if cl.add_facets:
                link = (
                    f'<a href="{esc(cl.remove_facet_link)}" class="hidelink">'
                    f"{esc(gettext('Hide counts'))}</a>\n                "
                )
            else:
                link = (
                    f'<a href="{esc(cl.add_facet_link)}" class="viewlink">'
                    f"{esc(gettext('Show counts'))}</a>"
                )
            out.append(f"<h3>\n                {link}\n              </h3>")
        out.append("\n              ")
        if cl.has_active_filters:
            out.append(
                f'<h3>\n                <a href="{esc(cl.clear_all_filters_qs)}">&#10006; '
                f"{esc(gettext('Clear all filters'))}</a>\n              </h3>"
            )
        out.append("\n            </div>")
    out.append("\n            ")
    out.extend(list_filter(cl, spec) for spec in cl.filter_specs)
    out.append("\n          </nav>\n        \n      ")
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped


def actions(context) -> SafeString:
    """The ``actions`` block of Django's ``admin/actions.html`` (the action form's fields,
    the button and the selection counter). A model's own ``actions.html`` that overrides
    one of the blocks inside it must override ``actions`` instead."""
    esc = conditional_escape
    cl = context["cl"]
    fields = action_fields(context["action_form"])
    index = context.get("action_index") or 0
    out = [
        f"\n    \n    {fields}\n    \n    "
        f'\n    <button type="submit" class="button" title="{esc(gettext("Run the selected action"))}"'
        f' name="index" value="{esc(index)}">{esc(gettext("Go"))}</button>\n    \n    \n    '
    ]
    if context.get("actions_selection_counter"):
        shown = len(cl.result_list)
        out.append(
            f'\n        <span class="action-counter" data-actions-icnt="{shown}">'
            f"{esc(context.get('selection_note', ''))}</span>\n        "
        )
        if cl.result_count != shown:
            select_all = gettext("Select all %(total_count)s %(module_name)s") % {
                "total_count": esc(cl.result_count),
                "module_name": esc(context.get("module_name", "")),
            }
            across = esc(gettext("Click here to select the objects across all pages"))
            out.append(
                f'\n        <span class="all hidden">{esc(context.get("selection_note_all", ""))}</span>'
                '\n        <span class="question hidden">'
                f'\n            <a role="button" href="#" title="{across}">{select_all}</a>'
                "\n        </span>"
                '\n        <span class="clear hidden"><a role="button" href="#">'
                f"{esc(gettext('Clear selection'))}</a></span>\n        "
            )
        out.append("\n    ")
    out.append("\n    \n  ")
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped


# (script prefix, the lists of scripts a page's Media was made of) -> ``{{ media.js }}``
_MEDIA_JS: dict[tuple, SafeString] = {}


def media_js(media) -> SafeString:
    """``{{ media.js }}``: the scripts' tags, kept per process and lists of script paths
    (merging the lists and a ``static()`` per script cost ~0.3 ms a page)."""
    lists = getattr(media, "_js_lists", None)
    if lists is None or not all(
        isinstance(js, (list, tuple)) and all(type(path) is str for path in js) for js in lists
    ):
        return conditional_escape(media["js"])
    # static() URLs carry the script prefix when STATIC_URL is relative
    key = (get_script_prefix(), *(tuple(js) for js in lists))
    found = _MEDIA_JS.get(key)
    if found is None:
        if len(_MEDIA_JS) > 500:
            _MEDIA_JS.clear()
        found = _MEDIA_JS[key] = conditional_escape(media["js"])
    return found


# --- the header every admin page shows ------------------------------------------------------


def header(context) -> SafeString:
    """The ``header`` block of Django's ``admin/base.html`` with the ``branding`` block of
    Django's ``admin/base_site.html`` and the ``userlinks`` block of ours (the unread
    counter, then ``userlinks`` above), byte for byte: the welcome, the counter's
    ``blocktranslate`` and the branding cost a page ~0.3 ms in the template engine."""
    esc = conditional_escape
    user = context.get("user")
    site_header = context.get("site_header") or gettext("Django administration")
    out = [
        '\n      <header id="header">\n        <div id="branding">\n        '
        f'\n<div id="site-name"><a href="{esc(rendering.url("admin:index"))}">'
        f"{esc(site_header)}</a></div>\n"
    ]
    if user is not None and user.is_anonymous:
        out.append(f"\n  {_toggle()}\n")
    out.append("\n\n        </div>\n        \n        ")
    if context.get("has_permission"):
        name = user.get_short_name() or user.get_username() if user is not None else ""
        out.append(
            '\n        <div id="user-tools">\n            '
            f"\n                {esc(gettext('Welcome,'))}"
            f"\n                <strong>{esc(name)}</strong>.\n            "
            "\n            \n"
        )
        if user is not None and user.is_active and user.is_staff:
            n = user.unread_notifications
            counter = ngettext("%(n)s new", "%(n)s new", n) % {"n": esc(n)}
            out.append(
                f'\n<a href="{esc(rendering.url("admin_notifications"))}" class="unread-counter'
                f'{" has-unread" if n else ""}" id="unread-counter">{counter}'
                f'<span class="visually-hidden"> {esc(gettext("notifications"))}</span></a> /\n'
            )
        out.append(f"\n{userlinks(context)}\n\n        </div>\n        ")
    out.append("\n        \n        \n      </header>\n    ")
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped


# --- the change list's styles, breadcrumbs and object tools ---------------------------------

# (script prefix, URL resolver, name, args) -> URL; (script prefix, path) -> static URL
_CHROME_URLS: dict[tuple, str] = {}


def _static(path: str) -> str:
    key = (get_script_prefix(), path)
    found = _CHROME_URLS.get(key)
    if found is None:
        found = _CHROME_URLS[key] = static(path)
    return found


def _app_list_url(app_label: str) -> str:
    key = (get_script_prefix(), get_resolver(get_urlconf()), "admin:app_list", app_label)
    found = _CHROME_URLS.get(key)
    if found is None:
        if len(_CHROME_URLS) > 500:
            _CHROME_URLS.clear()
        found = _CHROME_URLS[key] = reverse("admin:app_list", kwargs={"app_label": app_label})
    return found


def changelist_style(context) -> SafeString:
    """The ``extrastyle`` block of Django's ``admin/change_list.html`` over ours of
    ``templates/admin/base_site.html`` (``careplan/admin.css``)."""
    esc = conditional_escape
    cl = context["cl"]
    out = [
        f'\n  <link rel="stylesheet" href="{esc(_static("careplan/admin.css"))}">'
        f'\n  <link rel="stylesheet" href="{esc(_static("admin/css/changelists.css"))}">\n  '
    ]
    if cl.formset:
        out.append(
            f'\n    <link rel="stylesheet" href="{esc(_static("admin/css/forms.css"))}">\n  '
        )
    out.append("\n  ")
    if cl.formset or context.get("action_form"):
        out.append(f'\n    <script src="{esc(rendering.url("admin:jsi18n"))}"></script>\n  ')
    media = context.get("media")
    out.append(f"\n  {esc(media['css']) if media is not None else ''}\n  ")
    if not context.get("actions_on_top") and not context.get("actions_on_bottom"):
        out.append(
            "\n    <style>\n      #changelist table thead th:first-child {width: inherit}"
            "\n    </style>\n  "
        )
    out.append("\n")
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped


def changelist_breadcrumbs(cl) -> SafeString:
    """The ``breadcrumbs`` block of Django's ``admin/change_list.html``."""
    esc = conditional_escape
    opts = cl.opts
    plural = str(opts.verbose_name_plural)
    return mark_safe(  # noqa: S308 - every value is escaped
        f'\n<div class="breadcrumbs">\n<a href="{esc(rendering.url("admin:index"))}">'
        f"{esc(gettext('Home'))}</a>"
        f'\n&rsaquo; <a href="{esc(_app_list_url(opts.app_label))}">'
        f"{esc(opts.app_config.verbose_name)}</a>"
        f"\n&rsaquo; {esc(plural[:1].upper() + plural[1:])}\n</div>\n"
    )


def object_tools(context) -> SafeString | None:
    """``{% change_list_object_tools %}`` (Django's ``admin/change_list_object_tools.html``:
    the "Add" link), or ``None`` where a model or app has its own template."""
    cl = context["cl"]
    names = admin_template_names(cl.opts, "change_list_object_tools.html")
    if not template_is(names, f"{_DJANGO_ADMIN}{names[-1]}"):
        return None
    if not context.get("has_add_permission"):
        return mark_safe("\n\n\n  \n\n")
    opts = cl.opts
    try:
        add_url = rendering.url(f"admin:{opts.app_label}_{opts.model_name}_add")
    except NoReverseMatch:
        add_url = ""
    href = add_preserved_filters(
        context, add_url, context.get("is_popup", ""), context.get("to_field", "")
    )
    name = gettext("Add %(name)s") % {"name": conditional_escape(opts.verbose_name)}
    return mark_safe(  # noqa: S308 - every value is escaped
        f'\n\n\n  \n  <li>\n    \n    <a href="{conditional_escape(href)}" class="addlink">'
        f"\n      {name}\n    </a>\n  </li>\n  \n\n"
    )


def head(name: str, context) -> SafeString:
    """The ``stylesheet``, ``dark-mode-vars`` and ``responsive`` blocks of Django's
    ``admin/base.html`` and our ``extrastyle`` (``templates/admin/base_site.html``), with
    the static URLs looked up once per process (five ``{% static %}`` a page)."""
    esc = conditional_escape
    if name == "stylesheet":
        html = esc(_static("admin/css/base.css"))
    elif name == "dark-mode-vars":
        html = (
            f'\n  <link rel="stylesheet" href="{esc(_static("admin/css/dark_mode.css"))}">'
            f'\n  <script src="{esc(_static("admin/js/theme.js"))}"></script>\n'
        )
    elif name == "responsive":
        rtl = (
            f'<link rel="stylesheet" href="{esc(_static("admin/css/responsive_rtl.css"))}">'
            if context.get("LANGUAGE_BIDI")
            else ""
        )
        html = (
            '\n    <meta name="viewport" content="width=device-width, initial-scale=1.0">'
            f'\n    <link rel="stylesheet" href="{esc(_static("admin/css/responsive.css"))}">'
            f"\n    {rtl}\n"
        )
    elif name == "extrastyle":
        html = f'<link rel="stylesheet" href="{esc(_static("careplan/admin.css"))}">'
    else:
        raise ValueError(name)
    return mark_safe(html)  # noqa: S308 - every value is escaped
