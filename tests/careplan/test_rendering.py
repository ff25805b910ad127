"""What the patient's and relative's pages render in Python rather than with the template
engine (careplan.rendering, careplan_tags): the same output as the engine's way."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template import engines
from django.template.loader import get_template
from django.urls import NoReverseMatch, get_resolver, reverse
from django.utils import timezone, translation

from careplan.forms import CalendarEventForm
from careplan.models import CalendarEvent, User
from careplan.rendering import event_items, time_tag, url

ODD_ARGS = [(), (5,), ("abc",), (5, "abc"), (5, 7), ("5",), (0,), (-1,), ("a b",), (True,)]
ODD_ARGS += [(5, "a/b"), (12, 34, 56), ("x-y_z",), ("ÅÄ",), ("json",), (3.0,)]


def _either(call):
    try:
        return call()
    except NoReverseMatch:
        return "NoReverseMatch"
    except (TypeError, ValueError) as exc:
        return type(exc).__name__


def test_url_is_reverse_for_every_named_route_and_any_arguments():
    resolver = get_resolver()
    names = [k for k in resolver.reverse_dict if isinstance(k, str)]
    # and the admin's, whose object URLs take <path:object_id>
    names += [
        f"admin:{k}" for k in resolver.namespace_dict["admin"][1].reverse_dict if isinstance(k, str)
    ]
    assert "plan_section" in names and "admin:careplan_patient_change" in names
    for name in names:
        for args in ODD_ARGS:
            expected = _either(lambda name=name, args=args: reverse(name, args=args))
            assert _either(lambda name=name, args=args: url(name, *args)) == expected, (
                name,
                args,
            )


def test_the_route_tag_writes_what_the_url_tag_writes():
    engine = engines["django"]
    context = {"pk": 7, "key": "behandling"}
    ours = engine.from_string("{% load careplan_tags %}{% route 'plan_section' pk key %}")
    theirs = engine.from_string("{% url 'plan_section' pk key %}")
    assert ours.render(context) == theirs.render(context) == "/plan/7/section/behandling/"


@pytest.mark.parametrize("lang", ["sv", "en", "ar", "fi"])
def test_time_tag_writes_what_the_date_filter_writes(lang):
    engine = engines["django"]
    template = engine.from_string(
        '<time datetime="{{ v|date:\'c\' }}">{{ v|date:"j F" }}</time>'
        '<time datetime="{{ v|date:\'c\' }}">{{ v|date:"j F Y" }}</time>'
    )
    # 23:30 UTC is the next day in Stockholm.
    value = dt.datetime(2026, 3, 14, 23, 30, tzinfo=dt.UTC)
    with translation.override(lang):
        assert time_tag()(value) + time_tag(year=True)(value) == template.render({"v": value})
        assert time_tag()(None) == '<time datetime=""></time>'


@pytest.mark.parametrize("lang", ["sv", "en", "ar", "fi"])
def test_event_items_write_what_the_old_event_template_wrote(lang):
    """The markup the include of careplan/_event.html gave, entry by entry."""
    engine = engines["django"]
    old = engine.from_string(
        '{% load i18n %}<li class="event event--{{ event.kind }}">\n'
        '  <p class="event__when"><time datetime="{{ event.starts_at|date:\'c\' }}">'
        '{{ event.starts_at|date:"l j F Y, H:i" }}</time>{% if event.ends_at %}–<time '
        'datetime="{{ event.ends_at|date:\'c\' }}">{% if event.ends_at|date:"Ymd" == '
        'event.starts_at|date:"Ymd" %}{{ event.ends_at|date:"H:i" }}{% else %}'
        '{{ event.ends_at|date:"l j F Y, H:i" }}{% endif %}</time>{% endif %}</p>\n'
        '  <h3 class="event__title"><span class="tag">{{ event.get_kind_display }}</span> '
        "{{ event.title }}</h3>\n"
        '  {% if event.location %}<p class="event__where"><span class="label">'
        '{% translate "Where:" %}</span> {{ event.location }}</p>{% endif %}\n'
        '  {% if event.note %}<p class="event__note">{{ event.note|linebreaksbr }}</p>'
        "{% endif %}\n"
        '  {% if show_added_by %}<p class="event__by muted">{% blocktranslate with '
        "name=event.added_by_label %}Added by {{ name }}{% endblocktranslate %}</p>"
        "{% endif %}\n"
        "  {% if can_edit %}\n"
        '  <p class="event__actions">\n'
        '    <a class="button button--small" href="{% url \'event_edit\' plan.pk event.pk %}">'
        '{% translate "Change" %}<span class="visually-hidden">: {{ event.title }}</span></a>\n'
        '    <a class="button button--small button--danger" '
        'href="{% url \'event_delete\' plan.pk event.pk %}">{% translate "Remove" %}'
        '<span class="visually-hidden">: {{ event.title }}</span></a>\n'
        "  </p>\n"
        "  {% elif event.ask_change %}\n"
        '  <p class="event__actions">\n'
        '    <span class="muted">{% translate "Booked by your care team." %}</span>\n'
        '    <a class="button button--small" href="{% url \'event_change_request\' plan.pk '
        'event.pk %}">{% translate "Ask for a change" %}<span class="visually-hidden">: '
        "{{ event.title }}</span></a>\n"
        "  </p>\n"
        "  {% endif %}\n"
        "</li>\n"
    )
    nurse = User(first_name="Karin <b>", last_name="O'Neil & co", title='Ssk "x"')
    start = timezone.make_aware(dt.datetime(2026, 3, 14, 23, 30), dt.UTC)
    events = []
    for i, (end, place, note, editable, ask) in enumerate(
        [
            (None, "", "", False, False),
            (dt.timedelta(hours=1), "Rum <3> & 'x'", "rad 1\nrad 2 <i>\r\nrad 3", True, False),
            (dt.timedelta(minutes=10), "A", "n", False, True),
            (dt.timedelta(days=2), "", "x & y", True, True),
        ]
    ):
        event = CalendarEvent(
            pk=100 + i,
            plan_id=7,
            kind=list(CalendarEvent.Kind.values)[i % len(CalendarEvent.Kind.values)],
            title=f'T<{i}>&"q"',
            starts_at=start + dt.timedelta(days=40 * i),
            ends_at=start + dt.timedelta(days=40 * i) + end if end else None,
            location=place,
            note=note,
        )
        event.created_by = nurse
        event.editable, event.ask_change = editable, ask
        events.append(event)

    class Plan:
        pk = 7

    with translation.override(lang):
        for show_added_by in (True, False):
            expected = "".join(
                old.render(
                    {
                        "event": e,
                        "plan": Plan,
                        "show_added_by": show_added_by,
                        "can_edit": e.editable,
                    }
                )
                for e in events
            )
            got = event_items(events, 7, show_added_by=show_added_by, actions=True)
            assert got == expected


def test_the_calendar_form_fields_are_rendered_once_per_language_with_a_fresh_key():
    field = get_template("careplan/_field.html")
    tag = engines["django"].from_string("{% load careplan_tags %}{% form_fields form %}")
    with translation.override("sv"):
        form = CalendarEventForm()
        expected = "".join(field.render({"field": f}) for f in form)
        first, second = tag.render({"form": form}), tag.render({"form": CalendarEventForm()})
    # The same fields; the hidden submission key is new for every form shown.
    key = 'name="submission" value="'
    assert first.split(key)[0] == second.split(key)[0] == expected.split(key)[0]
    assert first.split(key)[1][:36] != second.split(key)[1][:36]
    # All of it, key aside, as the template writes it (the hidden key is written in Python).
    masked = re.compile(r'(name="submission" value=")[0-9a-f-]{36}"')
    assert masked.sub(r"\1KEY", first) == masked.sub(r"\1KEY", expected)
    with translation.override("en"):
        english = tag.render({"form": CalendarEventForm()})
    assert "Starts" in english and "Börjar" in first


def test_a_bound_or_filled_in_calendar_form_is_never_taken_from_the_cache():
    tag = engines["django"].from_string("{% load careplan_tags %}{% form_fields form %}")
    with translation.override("sv"):
        tag.render({"form": CalendarEventForm()})  # fills the cache
        bound = tag.render({"form": CalendarEventForm(data={"title": "Min egen rubrik"})})
        existing = CalendarEvent(title="Redan bokad", kind=CalendarEvent.Kind.VISIT)
        filled = tag.render({"form": CalendarEventForm(instance=existing)})
    assert 'value="Min egen rubrik"' in bound
    assert 'value="Redan bokad"' in filled


def test_the_frame_written_in_python_keeps_every_text_in_the_catalogue(cast):
    """The header, footer and plan menu are written in Python: their texts must still be
    found by makemessages (not hidden inside f-strings), so they read in Swedish."""
    response = cast.client("patient").get(reverse("plan_detail", args=[cast.plan.pk]))
    body = response.content.decode()
    for swedish in ("Logga ut", "Inloggad som", "Mina frågor", "Om något är akut", "Språk"):
        assert swedish in body, swedish
    for english in ("Log out", "Logged in as", "My questions", "If something is urgent"):
        assert english not in body, english


@pytest.mark.parametrize("lang", ["sv", "en", "ar", "fi"])
def test_date_formatter_writes_what_dateformat_writes(lang):
    from django.utils import dateformat, formats

    from careplan.rendering import date_formatter

    tz = timezone.get_current_timezone()
    values = [
        dt.datetime(2026, 1, 2, 0, 0, tzinfo=tz),  # midnight
        dt.datetime(2026, 3, 4, 12, 0, tzinfo=tz),  # noon
        dt.datetime(2026, 5, 6, 12, 5, tzinfo=tz),
        dt.datetime(2026, 11, 30, 23, 59, tzinfo=tz),
        dt.datetime(2009, 7, 8, 9, 0, tzinfo=tz),
        dt.datetime(2026, 12, 31, 1, 30, tzinfo=tz),
        dt.datetime(2026, 6, 15, 8, 7, 9, tzinfo=tz),
    ]
    with translation.override(lang):
        formats_ = [
            formats.get_format(name)
            for name in ("SHORT_DATETIME_FORMAT", "SHORT_DATE_FORMAT", "DATETIME_FORMAT")
        ]
        for fmt in [*formats_, "y-n-j G:i", r"H\h i", "l j F", "j F Y H:i:s"]:
            write = date_formatter(fmt)
            for value in values:
                assert write(value) == dateformat.format(value, fmt), (fmt, value)


def test_i18n_is_the_caching_library_and_other_label_clashes_still_warn(settings):
    from django.template import engines as all_engines

    from careplan.template_engine import Templates

    backend = all_engines["django"]
    assert backend.engine.libraries["i18n"] == "careplan.templatetags.careplan_i18n"
    assert backend._check_for_template_tags_with_the_same_name() == []
    other = Templates(
        {
            "NAME": "other",
            "DIRS": [],
            "APP_DIRS": True,
            "OPTIONS": {"libraries": {"static": "careplan.templatetags.careplan_i18n"}},
        }
    )
    warnings = other._check_for_template_tags_with_the_same_name()
    assert [w.id for w in warnings] == ["templates.W003"] and "'static'" in warnings[0].msg
