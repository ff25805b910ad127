"""The change list page's pieces written in Python (careplan.admin.page and the results
table in careplan.admin.results: scripts, search form, rows, page links, filters, actions
bar, user links) are Django's own HTML, byte for byte: every registered
admin's list, for a nurse and a superuser, in every language, with searches, orders,
filters, facets, several pages and a capped count (issue 16)."""

from __future__ import annotations

import re
from pathlib import Path

import django
import pytest
from django.contrib import admin
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import translation

from careplan import access
from careplan.admin import CappedCountPaginator, page, results
from careplan.testing import login
from tests import factories as f
from tests.careplan.test_admin_rows import rows_of_every_kind  # noqa: F401  (fixture)
from tests.selfmonitor.conftest import instruments, send  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

_ADMIN_TEMPLATES = Path(django.__file__).parent / "contrib" / "admin" / "templates" / "admin"


def _djangos_block(template: str, name: str, loads: str) -> Template:
    """The block ``name`` of Django's own ``admin/<template>``, as a template of its own."""
    text = (_ADMIN_TEMPLATES / template).read_text()
    found = re.search(r"{% block " + re.escape(name) + r" %}(.*?){% endblock %}", text, re.S)
    assert found, (template, name)
    return Template("{% load " + loads + " %}" + found.group(1))


def _render(source: str, **context) -> str:
    return Template(source).render(Context(context))


@pytest.fixture
def small_pages(monkeypatch):
    """A row a page and a count capped at two: page links, "show all", "more than"."""
    for model_admin in admin.site._registry.values():
        monkeypatch.setattr(model_admin, "list_per_page", 1, raising=False)
    monkeypatch.setattr(CappedCountPaginator, "cap", 2)


def _lists(client: Client):
    queries = ("", "?q=a", "?o=-2.1", "?all=", "?p=2", "?_facets=1", "?status=all&q=x")
    for model in admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        for query in queries:
            response = client.get(url + query)
            if response.status_code == 200 and "cl" in (response.context or {}):
                yield url + query, response


@pytest.mark.parametrize("superuser", [False, True])
@pytest.mark.parametrize("language", ["sv", "en", "ar", "fi"])
def test_every_lists_page_pieces_are_djangos_html(
    cast,
    rows_of_every_kind,  # noqa: F811
    small_pages,
    superuser,
    language,
):
    for _more in range(3):  # more patients and plans than the cap
        f.covered_plan(cast.unit)
    user = f.StaffFactory(units=[cast.unit], is_superuser=True) if superuser else cast.nurse
    client = login(Client(), user)
    client.cookies["django_language"] = language
    filters = _djangos_block("change_list.html", "filters", "i18n admin_list")
    seen = {"search": 0, "pages": 0, "capped": 0, "filters": 0, "rows": 0, "add": 0}
    crumbs = _djangos_block("change_list.html", "breadcrumbs", "i18n admin_urls")
    style = _djangos_block("change_list.html", "extrastyle", "i18n static")
    ours = '<link rel="stylesheet" href="{% static \'careplan/admin.css\' %}">'
    style = Template(style.source.replace("{{ block.super }}", ours))
    for url, response in _lists(client):
        cl = response.context["cl"]
        opts = cl.opts
        flat: dict = {}
        for each in reversed(response.context):
            flat.update(each.flatten())
        with translation.override(language):
            assert page.changelist_breadcrumbs(cl) == crumbs.render(Context(flat)), url
            assert page.changelist_style(Context(flat)) == style.render(Context(flat)), url
            tools = page.object_tools(Context(flat))
            if tools is not None:
                assert tools == _render(
                    "{% load admin_list %}{% change_list_object_tools %}", **flat
                ), url
                seen["add"] += "addlink" in tools
            search = page.search_form(cl)
            if search is not None:
                assert search == _render(
                    "{% load admin_list %}{% search_form cl %}", cl=cl, opts=opts
                ), url
                seen["search"] += 1
            pages = page.pagination(cl)
            if pages is not None:
                assert pages == _render(
                    "{% load admin_list %}{% pagination cl %}", cl=cl, opts=opts
                ), url
                seen["pages"] += "?p=" in pages
                seen["capped"] += bool(getattr(cl.paginator, "capped", False))
            assert page.filters(cl) == filters.render(Context({"cl": cl})), url
            seen["filters"] += cl.has_filters
            table = results.result_list_html(cl)
            if table is not None:
                assert table == _render(
                    "{% load admin_list %}{% result_list cl %}", cl=cl, opts=opts
                ), url
                seen["rows"] += table.count("<tr>") - 1
            media = response.context["media"]
            for _twice in range(2):  # the second one kept
                assert page.media_js(media) == str(media["js"]), url
        # and the page shows them
        html = response.content.decode()
        assert f"\n\n{page.media_js(media)}\n<script src=" in html, url
        with translation.override(language):
            chrome = (page.changelist_breadcrumbs(cl), page.changelist_style(Context(flat)))
        for piece in (search, pages, table, *chrome):
            if piece is not None:
                assert piece in html, url
    assert all(seen.values()), seen


@pytest.mark.parametrize("language", ["sv", "en", "ar", "fi"])
def test_the_actions_bar_is_djangos_html(cast, rows_of_every_kind, small_pages, language):  # noqa: F811
    client = login(Client(), cast.nurse)
    client.cookies["django_language"] = language
    djangos_template = Template((_ADMIN_TEMPLATES / "actions.html").read_text())
    shown = 0
    for _url, response in _lists(client):
        if response.context.get("action_form") is None:
            continue
        context = response.context
        flat = {}
        for layer in context.dicts if hasattr(context, "dicts") else [context]:
            flat.update(layer)
        for index in (0, 1, None):  # the bar above the list, below it, and no index
            values = {**flat, "action_index": index}
            with translation.override(language):
                djangos = djangos_template.render(Context(values))
                for _twice in range(2):  # the second one with the fields kept
                    ours = page.actions(Context(values))
                    assert f'\n<div class="actions">\n  {ours}\n</div>\n' == djangos
        if context["cl"].show_admin_actions:
            with translation.override(language):
                ours = page.actions(Context({**flat, "action_index": 0}))
            assert ours in response.content.decode()
            shown += 1
    assert shown


@pytest.mark.parametrize("language", ["sv", "en", "ar", "fi"])
@pytest.mark.parametrize("site_url", ["/", None, "/a&b"])
@pytest.mark.parametrize("usable_password", [True, False])
def test_the_userlinks_are_djangos_html(cast, language, site_url, usable_password):
    user = cast.nurse
    if not usable_password:
        user.set_unusable_password()
    userlinks = _djangos_block("base.html", "userlinks", "i18n static")
    for csrf_token in ("a-token", None):
        context = {"user": user, "site_url": site_url}
        if csrf_token:
            context["csrf_token"] = csrf_token
        with translation.override(language):
            assert page.userlinks(Context(context)) == userlinks.render(Context(context))


def test_an_admin_page_shows_the_userlinks(cast):
    client = login(Client(), cast.nurse)
    html = client.get(reverse("admin:careplan_patient_changelist")).content.decode()
    assert '<form id="logout-form" method="post" action="/admin/logout/">' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<a href="/admin/password_change/">' in html


# templates/admin/base_site.html before the header was written in Python: the blocks it
# put on Django's admin/base_site.html
_OLD_BASE_SITE_BLOCKS = """{% load i18n static careplan_admin_list %}
{% block extrastyle %}{{ block.super }}<link rel="stylesheet" href="{% static 'careplan/admin.css' %}">{% endblock %}
{% block userlinks %}
{% if user.is_active and user.is_staff %}
<a href="{% url 'admin_notifications' %}" class="unread-counter{% if user.unread_notifications %} has-unread{% endif %}" id="unread-counter">{% blocktranslate count n=user.unread_notifications %}{{ n }} new{% plural %}{{ n }} new{% endblocktranslate %}<span class="visually-hidden"> {% translate "notifications" %}</span></a> /
{% endif %}
{% careplan_userlinks %}
{% endblock %}
"""


@pytest.mark.parametrize("language", ["sv", "en", "ar", "fi"])
def test_the_header_is_djangos_html(cast, rf, language):
    from django.contrib.auth.models import AnonymousUser

    djangos = (_ADMIN_TEMPLATES / "base_site.html").read_text()
    before = Template(djangos + _OLD_BASE_SITE_BLOCKS)
    now = Template('{% extends "admin/base_site.html" %}')
    nameless = f.StaffFactory(units=[cast.unit], first_name="")
    nameless.unread_notifications = 2
    cast.nurse.unread_notifications = 1
    for user in (cast.nurse, nameless, f.StaffFactory(units=[cast.unit]), AnonymousUser()):
        for has_permission in (True, False):
            request = rf.get("/admin/")
            request.user = user
            context = admin.site.each_context(request)
            context.update(has_permission=has_permission, title="A & B", csrf_token="tok")
            if isinstance(user, AnonymousUser) and has_permission:
                continue
            with translation.override(language):
                html = now.render(Context(context))
                assert html == before.render(Context(context)), (user, has_permission)
            assert ('id="user-tools"' in html) is has_permission


def _sql(qs) -> tuple[str, list]:
    """The SQL and its parameters (sorted: Django's scoping gives the units as a set)."""
    sql, params = qs.query.get_compiler(using="default").as_sql()
    return sql, sorted(map(repr, params))


def test_the_patient_lists_default_view_is_djangos_query(cast, rf, django_assert_num_queries):
    """The default view's compiled page and count (``PatientAdmin.default_list``) are the
    SQL Django's change list makes, for the nurse's own units; a query string or a
    superuser goes Django's way."""
    from careplan.admin.base import RecordChangeList
    from careplan.models import Patient

    model_admin = admin.site._registry[Patient]
    other = f.StaffFactory(units=[cast.other_unit])
    both = f.StaffFactory(units=[cast.unit, cast.other_unit])
    for _more in range(3):
        f.covered_plan(cast.unit)
        f.covered_plan(cast.other_unit)
    for user in (cast.nurse, other, both):
        request = rf.get("/admin/careplan/patient/")
        request.user = user
        units = tuple(sorted(access.staff_unit_ids(user)))
        cl = model_admin.get_changelist_instance(request)
        # RecordChangeList's page reads the list_only fields
        djangos = cl.queryset.select_related(None).only(*model_admin.list_only)
        page = model_admin.default_list.build(units)
        assert _sql(page[: cl.list_per_page]) == _sql(djangos[: cl.list_per_page])
        capped = djangos.order_by().values("pk")[: cl.paginator.cap + 1]
        assert _sql(model_admin.default_list.build(units).order_by().values("pk")[:1001]) == (
            _sql(capped)
        )
        # the rows and the count are Django's, and each user's own units'
        assert [p.pk for p in cl.result_list] == [p.pk for p in djangos[: cl.list_per_page]]
        assert [p.acting_unit_id for p in cl.result_list] == [
            p.acting_unit_id for p in djangos[: cl.list_per_page]
        ]
        assert cl.result_count == djangos.count() > 0
        assert {p.acting_unit_id for p in cl.result_list} <= set(units)
        assert {p.acting_unit_id for p in cl.result_list} == set(units)
        assert isinstance(cl.result_list, list)  # the compiled page
    # a query string: Django's queryset
    request = rf.get("/admin/careplan/patient/", {"q": "a"})
    request.user = cast.nurse
    assert not isinstance(model_admin.get_changelist_instance(request).result_list, list)
    assert issubclass(model_admin.get_changelist(request), RecordChangeList)
