"""Long lists on the patient's and relative's pages, rendered in Python rather than by
the template engine's loop (as the trend table does): the engine costs about 0.1 ms per
row of a link, a title and a date, most of it one ``reverse()`` and the ``date`` filter's
month name per row. These helpers give the same text for a fraction of that:

- ``route``: ``reverse(name, args=[*fixed, pk])`` for many pks (from ``url``'s template);
- ``time_tag``: ``<time datetime="{{ value|date:'c' }}">{{ value|date:"j F" }}</time>``
  (or ``"j F Y"``) with the month names of the active language looked up once (local
  time, as the filter shows it);
- ``event_items``: calendar entries as ``<li>`` items (the calendar, the plan's start
  page, the remove and ask-for-a-change pages: ``{% calendar_events %}``).

Call them per request (they capture the active language and the script prefix).

``url`` (the templates' ``{% route %}``) is ``reverse()`` for the many links of every page
(about 25 µs each, 20 to 30 a page), from a template of the route's path kept per process.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from html import escape

from django.template.defaultfilters import linebreaksbr
from django.urls import NoReverseMatch, get_resolver, get_script_prefix, get_urlconf, reverse
from django.urls.converters import IntConverter, PathConverter, SlugConverter, StringConverter
from django.utils import timezone
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

# An integer no primary key reaches: reversed once, then replaced by each row's pk.
_MARK = 987654321987654321


def route(name: str, *fixed) -> Callable[[int], str]:
    """``lambda pk: reverse(name, args=[*fixed, pk])`` for an ``int`` last argument, with
    one ``reverse()`` whatever the number of rows."""
    prefix, _mark, suffix = url(name, *fixed, _MARK).rpartition(str(_MARK))
    return lambda pk: f"{prefix}{int(pk)}{suffix}"


# The admin's object URLs take ``<path:object_id>``: a number or a slug is written there
# as given, as by the others.
_PLAIN = (IntConverter, SlugConverter, StringConverter, PathConverter)
_DIGITS = re.compile(r"[0-9]+\Z")
_SLUG = re.compile(r"[-a-zA-Z0-9_]+\Z")
# (name, number of args, script prefix, urlconf) -> (the path's pieces between the
# arguments, the tail, whether each argument may be a slug), or None: reverse() each time.
_PATHS: dict[tuple, tuple[tuple[str, ...], str, tuple[bool, ...]] | None] = {}


def _path_template(name: str, n: int):
    # The resolver reverse() uses (a request's URLconf, else the setting's); a new one
    # after Django clears its URL caches (a test overriding the URLconf) starts afresh.
    resolver = get_resolver(get_urlconf())
    key = (name, n, get_script_prefix(), resolver)
    if key in _PATHS:
        return _PATHS[key]
    marks = [str(_MARK + i) for i in range(n)]
    found = None
    # Only a route with one pattern whose arguments go through Django's int, slug, str and
    # path converters (written as they are given); others (the API's format suffixes) are
    # reversed each time.
    entries = _entries(resolver, name)
    plain = len(entries) == 1 and not entries[0][2]
    if plain and not all(type(c) in _PLAIN for c in entries[0][3].values()):
        plain = False
    try:
        if not plain:
            raise NoReverseMatch
        rest = reverse(name, args=marks)
    except NoReverseMatch:
        pass
    else:
        pieces = []
        for mark in marks:
            before, seen, rest = rest.partition(mark)
            if not seen:
                break
            pieces.append(before)
        else:
            slugs = []
            for i in range(n):  # does this argument take a slug, or digits only?
                try:
                    reverse(name, args=[*marks[:i], f"s{marks[i]}", *marks[i + 1 :]])
                except NoReverseMatch:
                    slugs.append(False)
                else:
                    slugs.append(True)
            found = (tuple(pieces), rest, tuple(slugs))
    if len(_PATHS) > 2000:
        _PATHS.clear()
    _PATHS[key] = found
    return found


def _entries(resolver, name: str) -> list:
    """The patterns ``reverse()`` would try for ``name``: a top-level name, or one in a
    single namespace (``admin:careplan_patient_change``); none for anything else."""
    namespace, _colon, view = name.rpartition(":")
    if not namespace:
        return resolver.reverse_dict.getlist(name)
    if ":" in namespace or namespace not in resolver.namespace_dict:
        return []
    if resolver.app_dict.get(namespace, [namespace]) != [namespace]:
        return []  # an application namespace with other instances: reverse() chooses
    _prefix, inner = resolver.namespace_dict[namespace]
    return inner.reverse_dict.getlist(view)


def url(name: str, *args) -> str:
    """``reverse(name, args=args)``. Arguments that are numbers or slugs (what the routes
    of the patient's and relative's pages take) are put into the route's path template;
    anything else, or a route the template cannot be made for, goes to ``reverse()``
    (which raises as it would)."""
    found = _path_template(name, len(args))
    if found is None:
        return reverse(name, args=args)
    pieces, tail, slugs = found
    out = []
    for piece, arg, slug in zip(pieces, args, slugs, strict=True):
        text = str(arg) if isinstance(arg, (int, str)) and not isinstance(arg, bool) else ""
        if not (_SLUG if slug else _DIGITS).match(text):
            return reverse(name, args=args)
        out += (piece, text)
    out.append(tail)
    return "".join(out)


# (name, language, script prefix, URLconf, flags) -> HTML with ``_MARK`` for the plan's id.
_FIXED: dict[tuple, str] = {}


def fixed_html(name: str, plan_pk: int, build: Callable[[int], str], *flags) -> str:
    """``build(plan_pk)`` for HTML that holds nothing but the site's texts and links with
    the plan's id in them (a menu, a row of buttons): built once per process, language,
    script prefix, URLconf and ``flags`` (what decides it besides the id) with a stand-in
    id, then given this plan's. Never for a patient's data."""
    key = (name, get_language(), get_script_prefix(), get_urlconf(), *flags)
    found = _FIXED.get(key)
    if found is None:
        if len(_FIXED) > 2000:
            _FIXED.clear()
        found = _FIXED[key] = build(_MARK)
    return found.replace(str(_MARK), str(int(plan_pk)))


# Language -> the month and weekday names as the ``date`` filter writes them (F, l).
_NAMES: dict[str, tuple[dict[int, str], dict[int, str]]] = {}


def _names() -> tuple[dict[int, str], dict[int, str]]:
    lang = get_language() or ""
    found = _NAMES.get(lang)
    if found is None:
        found = _NAMES[lang] = (
            {n: str(name) for n, name in MONTHS.items()},
            {n: str(name) for n, name in WEEKDAYS.items()},
        )
    return found


def month_names() -> dict[int, str]:
    """The month names of the active language as the ``date`` filter writes them (F)."""
    return _names()[0]


# (choices class, language) -> value -> label, as get_FOO_display() gives it.
_LABELS: dict[tuple[type, str], dict[str, str]] = {}


def choice_labels(choices: type) -> dict[str, str]:
    """A ``TextChoices`` class's labels in the active language, worked out once per
    process and language (``get_FOO_display()`` translates the label on every call)."""
    key = (choices, get_language() or "")
    found = _LABELS.get(key)
    if found is None:
        found = _LABELS[key] = {str(v): str(label) for v, label in choices.choices}  # type: ignore[attr-defined]
    return found


def time_tag(*, year: bool = False) -> Callable[[datetime | None], str]:
    """``<time datetime="{{ value|date:'c' }}">{{ value|date:"j F" }}</time>`` (``"j F Y"``
    with ``year``), escaped, local time worked out once per value."""
    months = _names()[0]
    tz = timezone.get_current_timezone()

    def tag(value: datetime | None) -> str:
        if value is None:
            return '<time datetime=""></time>'
        if timezone.is_aware(value):
            value = value.astimezone(tz)
        text = f"{value.day} {months[value.month]}"
        if year:
            text = f"{text} {value.year:04d}"
        return f'<time datetime="{value.isoformat()}">{escape(text)}</time>'

    return tag


# (model, language) -> kind -> its label, escaped (``get_kind_display()``).
_KIND_LABELS: dict[tuple[type, str], dict[str, str]] = {}


def event_items(
    events: Iterable, plan_pk: int, *, show_added_by: bool, actions: bool
) -> SafeString:
    """Calendar entries as ``<li class="event …">`` items. ``actions``: each entry's
    change and remove buttons when ``event.editable``, else "ask for a change" when
    ``event.ask_change`` (both set by the calendar view for its reader)."""
    months, weekdays = _names()

    def long(d: datetime) -> str:  # {{ d|date:"l j F Y, H:i" }}
        return escape(
            f"{weekdays[d.weekday()]} {d.day} {months[d.month]} {d.year:04d}, "
            f"{d.hour:02d}:{d.minute:02d}"
        )

    where, change, remove = escape(_("Where:")), escape(_("Change")), escape(_("Remove"))
    booked, ask = escape(_("Booked by your care team.")), escape(_("Ask for a change"))
    if actions:  # the buttons' links, one reverse() each (none for a list without them)
        edit_url, delete_url = route("event_edit", plan_pk), route("event_delete", plan_pk)
        ask_url = route("event_change_request", plan_pk)
    lang = get_language() or ""
    tz = timezone.get_current_timezone()  # once, not once per time (a thread-local lookup)

    def local(value: datetime) -> datetime:  # timezone.localtime() for an aware value
        return value.astimezone(tz) if timezone.is_aware(value) else value

    def kind_label(event) -> str:  # {{ event.get_kind_display }}
        key = (type(event), lang)
        kinds = _KIND_LABELS.get(key)
        if kinds is None:
            choices = event._meta.get_field("kind").flatchoices
            kinds = _KIND_LABELS[key] = {str(v): escape(str(label)) for v, label in choices}
        found = kinds.get(event.kind)
        return escape(str(event.kind)) if found is None else found

    parts = []
    for event in events:
        title = escape(event.title)
        start = local(event.starts_at)
        when = f'<time datetime="{start.isoformat()}">{long(start)}</time>'
        if event.ends_at:
            end = local(event.ends_at)
            same_day = end.date() == start.date()
            shown = f"{end.hour:02d}:{end.minute:02d}" if same_day else long(end)
            when += f'–<time datetime="{end.isoformat()}">{shown}</time>'
        parts.append(
            f'<li class="event event--{escape(event.kind)}">\n'
            f'  <p class="event__when">{when}</p>\n'
            f'  <h3 class="event__title"><span class="tag">{kind_label(event)}'
            f"</span> {title}</h3>\n"
        )
        parts.append(
            f'  <p class="event__where"><span class="label">{where}</span> '
            f"{escape(event.location)}</p>\n"
            if event.location
            else "  \n"
        )
        parts.append(
            f'  <p class="event__note">{linebreaksbr(event.note, autoescape=True)}</p>\n'
            if event.note
            else "  \n"
        )
        if show_added_by:
            added = _("Added by %(name)s") % {"name": escape(event.added_by_label())}
            parts.append(f'  <p class="event__by muted">{added}</p>\n')
        else:
            parts.append("  \n")
        if actions and getattr(event, "editable", False):
            parts.append(
                '  \n  <p class="event__actions">\n'
                f'    <a class="button button--small" href="{edit_url(event.pk)}">{change}'
                f'<span class="visually-hidden">: {title}</span></a>\n'
                f'    <a class="button button--small button--danger" href="{delete_url(event.pk)}">'
                f'{remove}<span class="visually-hidden">: {title}</span></a>\n'
                "  </p>\n  \n"
            )
        elif actions and getattr(event, "ask_change", False):
            parts.append(
                '  \n  <p class="event__actions">\n'
                f'    <span class="muted">{booked}</span>\n'
                f'    <a class="button button--small" href="{ask_url(event.pk)}">{ask}'
                f'<span class="visually-hidden">: {title}</span></a>\n'
                "  </p>\n  \n"
            )
        else:
            parts.append("  \n")
        parts.append("</li>\n")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


# (format, language) -> a function writing a datetime as ``dateformat.format`` does.
_FORMATTERS: dict[tuple[str, str], Callable[[datetime], str]] = {}
_FORMAT_CHARS = re.compile(r"(?<!\\)([aAbcdDeEfFgGhHiIjlLmMnNoOPrsStTUuwWyYzZ])")


def date_formatter(fmt: str) -> Callable[[datetime], str]:
    """``lambda value: dateformat.format(value, fmt)`` (the ``date`` filter's text for a
    value already in local time), with the format string read once per process and
    language: the admin's lists write two times a row in ``SHORT_DATETIME_FORMAT``, and
    ``dateformat`` reads the format anew each time. The common specifiers (Y y m n d j
    F H G i s, and P with its translated "a.m.", "p.m.", "midnight" and "noon") are written
    here; a format with any other, or with an escaped character, goes to ``dateformat``."""
    key = (fmt, get_language() or "")
    found = _FORMATTERS.get(key)
    if found is None:
        found = _FORMATTERS[key] = _compile_format(fmt)
    return found


def _compile_format(fmt: str) -> Callable[[datetime], str]:
    from django.utils import dateformat

    pieces = _FORMAT_CHARS.split(fmt)
    specifiers = set(pieces[1::2])
    if "\\" in fmt or not specifiers <= set("YymndjFHGisP"):
        return lambda value: dateformat.format(value, fmt)
    am, pm, midnight, noon = _("a.m."), _("p.m."), _("midnight"), _("noon")
    months = _names()[0]

    def p(v: datetime) -> str:
        if v.minute == 0 and v.hour in (0, 12):
            return midnight if v.hour == 0 else noon
        hour = v.hour % 12 or 12
        clock = f"{hour}:{v.minute:02d}" if v.minute else str(hour)
        return f"{clock} {pm if v.hour > 11 else am}"

    writers: dict[str, Callable[[datetime], str]] = {
        "Y": lambda v: f"{v.year:04d}",
        "y": lambda v: f"{v.year % 100:02d}",
        "m": lambda v: f"{v.month:02d}",
        "n": lambda v: str(v.month),
        "d": lambda v: f"{v.day:02d}",
        "j": lambda v: str(v.day),
        "F": lambda v: months[v.month],
        "H": lambda v: f"{v.hour:02d}",
        "G": lambda v: str(v.hour),
        "i": lambda v: f"{v.minute:02d}",
        "s": lambda v: f"{v.second:02d}",
        "P": p,
    }
    parts: list[str | Callable[[datetime], str]] = [
        writers[piece] if i % 2 else piece for i, piece in enumerate(pieces) if piece
    ]

    def write(value: datetime) -> str:
        return "".join(part if isinstance(part, str) else part(value) for part in parts)

    return write
