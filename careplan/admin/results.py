"""A change list's rows: the HTML of Django's ``items_for_result``, without its per-cell cost.

Django's admin works out every column again for every row (``get_field`` and its
exception, ``hasattr`` on the admin, the empty-value text), ``reverse``s every row's link
and resolves it again for the preserved filters, and looks up a static URL per boolean
icon: about a third of a 25-row list page's CPU (issue 16). ``result_list`` here resolves
each column once per page and writes the same cells, byte for byte (the test
``tests/careplan/test_admin_rows.py`` renders every registered admin's list both ways).

Used by ``templates/admin/change_list.html`` for every change list. A list Django renders
with more than cells (list_editable forms, a popup picker) goes to Django's own code.

``result_list_html`` writes the whole of ``admin/change_list_results.html`` (the headers
and the rows) for such a list, byte for byte: the template's loops cost as much as the
cells did (a model with its own ``change_list_results.html`` keeps its template).
"""

from __future__ import annotations

import datetime
import functools
import html
from collections.abc import Callable

from django.conf import settings
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
)
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.template import defaultfilters
from django.template.loader import select_template
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from .. import rendering

# Each row's change link comes from its URL reversed once with a key no row has.
_PK_MARK = 987654321987654321


@functools.lru_cache(maxsize=256)
def _route(viewname: str, script_prefix: str, urlconf, root_urlconf) -> Callable[[int], str]:
    return rendering.route(viewname)


def row_url(viewname: str, pk) -> str:
    """``reverse(viewname, args=[pk])`` for a list's rows: ``careplan.rendering.route``
    kept per process (and script prefix), for the admin's namespaced routes too."""
    if type(pk) is not int:
        return reverse(viewname, args=[pk])
    return _route(viewname, get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)(pk)


def row_route(viewname: str) -> Callable[[object], str]:
    """``row_url`` for one page: the route looked up once, then ``lambda pk: url``."""
    fast = _route(viewname, get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)
    return lambda pk: fast(pk) if type(pk) is int else reverse(viewname, args=[pk])


_PLAIN_TEXT = (models.CharField, models.TextField)


class _Column:
    """One column of ``list_display``, resolved as ``lookup_field`` and
    ``items_for_result`` would resolve it for each row."""

    __slots__ = (
        "name",
        "row_class",
        "link",
        "tag",
        "field",
        "attr",
        "getter",
        "boolean",
        "empty",
        "default_empty",
        "choices",
    )

    def __init__(self, cl, index: int, name, first_link: bool, empty: str) -> None:
        model_admin = cl.model_admin
        self.name = name
        self.row_class = f' class="field-{admin_list._coerce_field_name(name, index)}"'
        self.link = _link_in_col(first_link, name, cl)
        self.tag = "th" if first_link else "td"
        self.field = None
        self.attr = None
        # How to read the value of a row: ``None`` is lookup_field's own way (a model
        # attribute or property, whatever the row holds).
        self.getter: Callable | None = None
        try:
            self.field = _get_non_gfk_field(cl.lookup_opts, name)
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            if callable(name):
                self.attr = self.getter = name
            elif hasattr(model_admin, name) and name != "__str__":
                self.attr = self.getter = getattr(model_admin, name)
                # a display method's per-page form (see ``per_page``)
                rows = getattr(self.attr, "rows_for_page", None)
                if rows is not None:
                    self.getter = rows(model_admin)
        else:
            self.getter = _field_value(name)
        self.default_empty = empty
        # display_for_field's labels of a field with choices, once per page (a lazy
        # label translated once: the page has one language)
        flat = getattr(self.field, "flatchoices", None)
        self.choices = (
            {value: str(label) if isinstance(label, Promise) else label for value, label in flat}
            if flat
            else None
        )
        self.empty = getattr(self.attr, "empty_value_display", empty)
        self.boolean = getattr(self.attr, "boolean", False)


def per_page(rows: Callable[[object], Callable[[object], object]]) -> Callable:
    """Give a ``list_display`` method of a ModelAdmin a per-page form: ``rows(model_admin)``
    is called once per list page and returns the function of one row, with what is the
    same for every row (translated texts, a route) worked out once; it must return what
    the method returns. Django's own list code (and any other caller) keeps the method."""

    def mark(method: Callable) -> Callable:
        method.rows_for_page = rows  # type: ignore[attr-defined]
        return method

    return mark


def _field_value(name: str) -> Callable:
    return lambda obj: getattr(obj, name)


def _link_in_col(is_first: bool, field_name, cl) -> bool:
    if cl.list_display_links is None:
        return False
    if is_first and not cl.list_display_links:
        return True
    return field_name in cl.list_display_links


def _columns(cl) -> list[_Column]:
    empty = cl.model_admin.get_empty_value_display()
    columns = []
    first = True
    for index, name in enumerate(cl.list_display):
        column = _Column(cl, index, name, first, empty)
        if column.link:
            first = False
        columns.append(column)
    return columns


class _Links:
    """Each row's change link: ``reverse`` once with a marker for the primary key, and the
    preserved filters (the same for every row's change page) worked out once."""

    def __init__(self, cl) -> None:
        self.cl = cl
        self.query: str | None = None
        self.prefix = self.suffix = None
        if type(cl).url_for_result is ChangeList.url_for_result:
            try:
                url = reverse(
                    f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change",
                    args=(_PK_MARK,),
                    current_app=cl.model_admin.admin_site.name,
                )
            except NoReverseMatch:
                pass
            else:
                self.prefix, mark, self.suffix = url.partition(str(_PK_MARK))
                if not mark:
                    self.prefix = None

    def url(self, result) -> str:
        """The link, or NoReverseMatch as ``cl.url_for_result`` raises it."""
        pk = getattr(result, self.cl.pk_attname)
        if self.prefix is None or type(pk) is not int:
            return self._preserving(self.cl.url_for_result(result))
        url = f"{self.prefix}{pk}{self.suffix}"
        if self.query is None:
            preserved = self._preserving(url)
            if "?" in url or not preserved.startswith(url):
                return preserved
            self.query = preserved[len(url) :]
        return url + self.query

    def _preserving(self, url: str) -> str:
        context = {"preserved_filters": self.cl.preserved_filters, "opts": self.cl.opts}
        return add_preserved_filters(context, url)


class _LocalTimes:
    """``formats.localize(timezone.template_localtime(value))`` for a page's datetimes:
    the format read once per process and language (``rendering.date_formatter``; Django
    splits the format with a lazily compiled regex per value)."""

    def __init__(self) -> None:
        self.zone = timezone.get_current_timezone() if settings.USE_TZ else None
        self.write = rendering.date_formatter(str(formats.get_format("DATETIME_FORMAT")))

    def __call__(self, value: datetime.datetime) -> str:
        if (
            self.zone is not None
            and not timezone.is_naive(value)
            and getattr(value, "convert_to_local_time", True)
        ):
            value = value.astimezone(self.zone)
        return self.write(value)


class _Icons(dict):
    """``_boolean_icon`` once per value and page (it looks up a static file's URL)."""

    def __missing__(self, key):
        self[key] = icon = admin_list._boolean_icon(key[1])
        return icon


def _cells(
    cl, result, columns: list[_Column], links: _Links, icons: _Icons, times: _LocalTimes
) -> SafeString:
    out = []
    for column in columns:
        name = column.name
        row_class = column.row_class
        empty_value_display = column.empty
        try:
            if column.getter is None:
                f, attr, value = lookup_field(name, result, cl.model_admin)
                empty_value_display = getattr(attr, "empty_value_display", column.empty)
                boolean = getattr(attr, "boolean", False)
                if isinstance(attr, property) and hasattr(attr, "fget"):
                    boolean = getattr(attr.fget, "boolean", False)
            else:
                f, value, boolean = column.field, column.getter(result), column.boolean
        except ObjectDoesNotExist:
            result_repr = column.default_empty
        else:
            if f is None or f.auto_created:
                if name == "action_checkbox":
                    row_class = ' class="action-checkbox"'
                kind = type(value)
                if boolean:
                    result_repr = icons[kind, value]
                elif kind is str or kind is SafeString:
                    # display_for_value's answer for a string, without its checks.
                    result_repr = value if value.strip() else empty_value_display
                elif kind is datetime.datetime:
                    result_repr = times(value)
                else:
                    if isinstance(value, str) and value.strip() == "":
                        value = ""
                    result_repr = display_for_value(value, empty_value_display)
                if isinstance(value, (datetime.date, datetime.time)):
                    row_class = row_class[:-1] + ' nowrap"'
            else:
                if isinstance(value, str) and value.strip() == "":
                    value = ""
                if column.choices is not None and type(value) in (str, int):
                    result_repr = column.choices.get(value, empty_value_display)
                elif type(value) is str and type(f) in _PLAIN_TEXT:
                    # display_for_field's answer for text without choices
                    result_repr = value if value else empty_value_display
                elif isinstance(f.remote_field, models.ManyToOneRel):
                    field_val = getattr(result, f.name)
                    result_repr = empty_value_display if field_val is None else field_val
                elif isinstance(f, models.BooleanField) and not getattr(f, "flatchoices", None):
                    result_repr = icons[type(value), value]
                elif (
                    type(value) is datetime.datetime
                    and isinstance(f, models.DateTimeField)
                    and not getattr(f, "flatchoices", None)
                ):
                    result_repr = times(value)
                else:
                    result_repr = display_for_field(
                        value, f, empty_value_display, avoid_link=column.link
                    )
                if isinstance(f, (models.DateField, models.TimeField, models.ForeignKey)):
                    row_class = row_class[:-1] + ' nowrap"'
        repr_type = type(result_repr)
        if repr_type is SafeString:
            text = result_repr
        elif repr_type is str:
            text = html.escape(result_repr)  # conditional_escape's answer for a str
        else:
            text = conditional_escape(result_repr)
        if column.link:
            try:
                url = links.url(result)
            except NoReverseMatch:
                pass
            else:
                href = html.escape(url) if type(url) is str else conditional_escape(url)
                text = f'<a href="{href}">{text}</a>'
            out.append(f"<{column.tag}{row_class}>{text}</{column.tag}>")
        else:
            out.append(f"<td{row_class}>{text}</td>")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def result_list(cl) -> dict:
    """The context of ``admin/change_list_results.html``, as Django's ``result_list``
    makes it; each row is one item, its cells already joined."""
    if cl.formset or cl.is_popup:
        return admin_list.result_list(cl)
    headers = list(admin_list.result_headers(cl))
    columns = _columns(cl)
    links = _Links(cl)
    icons = _Icons()
    times = _LocalTimes()
    return {
        "cl": cl,
        "result_hidden_fields": [],
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": [
            admin_list.ResultList(None, [_cells(cl, result, columns, links, icons, times)])
            for result in cl.result_list
        ],
    }


# (template names, expected origin) -> whether the first template found is that one
_FOUND: dict[tuple[tuple[str, ...], str], bool] = {}
_DJANGO_ADMIN = "django/contrib/admin/templates/"


def template_is(names: tuple[str, ...], origin: str) -> bool:
    """Does ``select_template(names)`` find the template at ``origin`` (a path ending)?
    A model or project that overrides one of the admin's templates keeps its own."""
    key = (names, origin)
    found = _FOUND.get(key)
    if found is None:
        template = select_template(list(names))
        name = str(getattr(getattr(template, "origin", None), "name", ""))
        found = _FOUND[key] = name.replace("\\", "/").endswith(origin)
        if len(_FOUND) > 2000:
            _FOUND.clear()
    return found


def admin_template_names(opts, name: str) -> tuple[str, ...]:
    """The templates an ``InclusionAdminNode`` looks for, per model, app and site."""
    app, model = opts.app_label.lower(), opts.model_name
    return (f"admin/{app}/{model}/{name}", f"admin/{app}/{name}", f"admin/{name}")


def _header(header: dict, num_sorted_fields: int, texts: tuple[str, str, str]) -> str:
    """One ``<th>`` of ``change_list_results.html``, as its template writes it."""
    esc = conditional_escape
    out = [f'\n<th scope="col"{esc(header["class_attrib"])}>\n   ']
    sortable = header.get("sortable")
    if sortable and header.get("sort_priority", 0) > 0:
        remove, toggle, priority_text = texts
        priority = header["sort_priority"]
        span = (
            f'<span class="sortpriority" title="{priority_text % {"priority_number": priority}}">'
            f"{esc(priority)}</span>"
            if num_sorted_fields > 1
            else ""
        )
        order = "ascending" if header.get("ascending") else "descending"
        out.append(
            '\n       <div class="sortoptions">\n'
            f'         <a class="sortremove" href="{esc(header["url_remove"])}" title="{remove}"></a>\n'
            f"         {span}\n"
            f'         <a href="{esc(header["url_toggle"])}" class="toggle {order}" title="{toggle}"></a>\n'
            "       </div>\n   "
        )
    text = esc(defaultfilters.capfirst(header["text"]))
    if sortable:
        text = f'<a href="{esc(header["url_primary"])}">{text}</a>'
    else:
        text = f"<span>{text}</span>"
    out.append(f'\n   <div class="text">{text}</div>\n   <div class="clear"></div>\n</th>')
    return "".join(out)


def result_list_html(cl) -> SafeString | None:
    """``{% result_list cl %}``'s HTML (``admin/change_list_results.html`` with
    ``result_list``'s context), or ``None`` for a list this does not write (forms in the
    rows, a popup, a model with its own results template)."""
    names = admin_template_names(cl.opts, "change_list_results.html")
    if cl.formset or cl.is_popup or not template_is(names, f"{_DJANGO_ADMIN}{names[-1]}"):
        return None
    context = result_list(cl)
    if not context["results"]:
        return mark_safe("\n\n\n")
    texts = (
        conditional_escape(gettext("Remove from sorting")),
        conditional_escape(gettext("Toggle sorting")),
        gettext("Sorting priority: %(priority_number)s"),
    )
    num_sorted = context["num_sorted_fields"]
    headers = "".join(_header(h, num_sorted, texts) for h in context["result_headers"])
    rows = "".join(f"\n\n<tr>{row[0]}</tr>\n" for row in context["results"])
    return mark_safe(  # noqa: S308 - the headers are escaped above, the cells by _cells
        '\n\n\n<div class="results">\n<table id="result_list">\n<thead>\n<tr>\n'
        f"{headers}\n</tr>\n</thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n</div>\n\n"
    )
