"""Template helpers for the patient and relative web.

Plan text is stored as plain text: paragraphs are separated by blank lines and lines that
start with "- " are bullet items. ``text_blocks`` parses it (the PDF uses it too) and the
``plan_text`` filter renders it as escaped HTML.
"""

from __future__ import annotations

from html import escape as html_escape

from django import template
from django.core.signals import setting_changed
from django.forms import BoundField, Form, HiddenInput
from django.template.loader import get_template
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, get_language_bidi, gettext_lazy
from django.utils.translation import gettext as _

from careplan import content
from careplan.eid.adapter import providers_for
from careplan.models import CalendarEvent, CarePlan, RelativeGrant, Scope
from careplan.rendering import event_items, fixed_html, url

register = template.Library()

BULLET = "- "

# The plan's phase in plain words (read by patients and relatives, on screen and paper).
PHASE_TEXT = {
    CarePlan.Phase.UTREDNING: gettext_lazy(
        "Investigation: the care team finds out what the illness is and which treatment fits."
    ),
    CarePlan.Phase.BEHANDLING: gettext_lazy("Treatment: the period when treatment is given."),
    CarePlan.Phase.UPPFOLJNING: gettext_lazy(
        "Follow-up: treatment is over and the care team follows up how things are going."
    ),
    CarePlan.Phase.REHABILITERING: gettext_lazy(
        "Rehabilitation: support to regain strength, function and everyday life."
    ),
    CarePlan.Phase.PALLIATIV: gettext_lazy(
        "Palliative care: care that gives relief, comfort and the best possible quality of life."
    ),
}


# (language, phase) -> the phase in plain words, translated once per process.
_PHASE_TEXTS: dict[tuple[str, str], str] = {}


@register.filter
def phase_text(plan: CarePlan) -> str:
    key = (get_language() or "", plan.phase)
    found = _PHASE_TEXTS.get(key)
    if found is None:
        found = str(PHASE_TEXT.get(plan.phase, plan.get_phase_display()))
        if len(_PHASE_TEXTS) < 200:
            _PHASE_TEXTS[key] = found
    return found


@register.filter
def status_text(plan: CarePlan) -> str:
    """The plan's status in plain words."""
    if plan.status == CarePlan.Status.ACTIVE and plan.established_on:
        date = plan.established_on.strftime("%Y-%m-%d")
        if get_language_bidi():  # isolated left to right: in Arabic it would read 30-11-2026
            date = f"\u2066{date}\u2069"
        return _("The care plan was established on %(date)s.") % {"date": date}
    if plan.status == CarePlan.Status.CLOSED:
        return _("This care plan is closed.")
    return _("The care team is still preparing the care plan.")


def text_blocks(text: str | None) -> list[tuple[str, list[str]]]:
    """Split plain plan text into ("p", lines) and ("ul", items) blocks, in order.

    A blank line ends a block. Within a block, runs of "- " lines form one list and the
    other lines form paragraphs (their line breaks are kept).
    """
    blocks: list[tuple[str, list[str]]] = []
    current: tuple[str, list[str]] | None = None
    for raw in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line:
            current = None
            continue
        if line.startswith(BULLET) or line == "-":
            kind, content = "ul", line[len(BULLET) :].strip()
        else:
            kind, content = "p", line
        if current is None or current[0] != kind:
            current = (kind, [])
            blocks.append(current)
        if content:
            current[1].append(content)
    return [b for b in blocks if b[1]]


@register.filter(is_safe=True)
def plan_text(text: str | None) -> SafeString:
    """Render plain plan text as <p> and <ul>; everything typed is escaped."""
    parts: list[str] = []
    for kind, lines in text_blocks(text):
        if kind == "ul":
            items = format_html_join("", "<li>{}</li>", ((line,) for line in lines))
            parts.append(format_html("<ul>{}</ul>", items))
        else:
            body = format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))
            parts.append(format_html("<p>{}</p>", body))
    return mark_safe("\n".join(parts))  # noqa: S308 - every piece went through format_html


@register.filter
def tel_href(phone: str | None) -> str:
    """A phone number as used in a tel: link: digits and a leading + only."""
    phone = phone or ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"+{digits}" if phone.strip().startswith("+") else digits


@register.filter
def accessible(field: BoundField) -> SafeString:
    """Render a form field's widget tied to its help text and error message for screen
    readers (aria-describedby, aria-invalid)."""
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_help")
    attrs: dict[str, str] = {}
    if field.errors:
        described.append(f"{field.auto_id}_error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)


@register.simple_tag(takes_context=True)
def signup_open(context: template.Context) -> bool:
    """Whether the account adapter lets this visitor sign up (closed unless
    ``CAREPLAN_OPEN_SIGNUP`` or an invitation). allauth's ``signup_url`` is set either way."""
    from allauth.account.adapter import get_adapter

    request = context.get("request")
    return request is not None and get_adapter(request).is_open_for_signup(request)


@register.filter
def genitive(name: str | None) -> str:
    """A first name as owner, in the active language: "Evas", "Lars" (sv), "Eva’s" (en),
    for texts that address a relative ("Evas behandling")."""
    from django.utils.translation import get_language

    name = (name or "").strip()
    if not name:
        return ""
    if (get_language() or "sv")[:2] == "sv":
        return name if name[-1].lower() in "sxz" else f"{name}s"
    return f"{name}’s"


@register.filter
def shares_messages(user) -> bool:
    """Whether the header shows "Messages": the patient always; a relative only when
    someone shares their messages with them (one query); staff never."""
    role = getattr(user, "role", None)
    if role == "patient":
        return True
    if role != "relative":
        return False
    cached = getattr(user, "_careplan_shares_messages", None)
    if cached is None:
        grants = RelativeGrant.objects.active().filter(relative=user)
        cached = any(Scope.MESSAGES in (s or []) for s in grants.values_list("scopes", flat=True))
        user._careplan_shares_messages = cached
    return cached


@register.simple_tag
def site_name() -> str:
    """The site's one configurable name (``CAREPLAN_SITE_NAME``)."""
    from django.conf import settings

    return settings.CAREPLAN_SITE_NAME


@register.simple_tag
def eid_providers(who: str = "patient") -> list[dict]:
    """The configured e-ID providers for ``who`` ("patient": patients and relatives,
    "staff": the care team), each with its button label and login URL."""
    from django.urls import reverse

    return [
        {
            "id": app["provider_id"],
            "label": app["name"],
            "url": reverse("eid_login", kwargs={"provider_id": app["provider_id"]}),
        }
        for app in providers_for(who)
    ]


@register.inclusion_tag("careplan/_content_text.html", takes_context=True)
def content_text(context, obj, field: str = "body", fallback_note: bool = True, css: str = "prose"):
    """A content text (plan section, advice…) in the reader's language: the language
    version if there is one, else Swedish with a note; under a draft translation a notice
    and the Swedish original one tap away (a <details>, no JavaScript). ``lang``/``dir``
    are set on the text whenever it differs from the page's language."""
    shown = content.shown(obj, field)
    page = content.reader_language(context.get("LANGUAGE_CODE"))
    original = getattr(obj, f"{field}_{content.ORIGINAL}", "") if shown.is_draft else ""
    return {
        "shown": shown,
        "foreign": shown.lang != page,
        "fallback": shown.fallback and fallback_note and bool(shown.text),
        "original": original,
        "css": css,
    }


@register.inclusion_tag("careplan/_written_in.html", takes_context=True)
def written_in(context, lang: str = "sv"):
    """Under a note the care team wrote for this patient: the language it was written in,
    when that is not the reader's (notes are never machine-translated)."""
    page = content.reader_language(context.get("LANGUAGE_CODE"))
    return {"lang": lang, "differs": lang != page}


@register.simple_tag(takes_context=True)
def lang_attrs(context, shown) -> SafeString:
    """` lang="…" dir="…"` for a content text (careplan.content.Shown) not in the page's
    language, else nothing."""
    page = content.reader_language(context.get("LANGUAGE_CODE"))
    if not isinstance(shown, content.Shown) or shown.lang == page:
        return mark_safe("")
    return format_html(' lang="{}" dir="{}"', shown.lang, shown.dir)


@register.inclusion_tag("careplan/_draft_notice.html")
def draft_notice(original: str, css: str = "prose"):
    """The notice under a draft translation, with the Swedish original one tap away."""
    return {"original": original, "css": css}


@register.simple_tag(takes_context=True)
def field_lang(context, obj, field: str = "title") -> SafeString:
    """` lang="…" dir="…"` for ``field`` of a content row when the reader sees it in
    another language than the page's (a Swedish title on an Arabic page)."""
    return lang_attrs(context, content.shown(obj, field))


@register.simple_tag
def calendar_events(events, plan, show_added_by=False, actions=False) -> SafeString:
    """Calendar entries (a list, or one entry) as ``<li>`` items of an event list, with
    who added each (``show_added_by``) and the reader's buttons (``actions``: change and
    remove, or ask for a change). Rendered in Python (``careplan.rendering.event_items``):
    the calendar lists up to all upcoming and 50 past entries."""
    if isinstance(events, CalendarEvent):
        events = [events]
    return event_items(events, plan.pk, show_added_by=show_added_by, actions=actions)


# The visible fields of unbound forms that render alike for every reader (see
# ``form_fields``), per (form class, language, prefix, auto_id): labels, help texts and
# choices only, never patient data. A few forms times four languages.
_STATIC_FIELDS: dict[tuple, dict[str, SafeString]] = {}


_PRISTINE: dict[type, dict] = {}


def _pristine_initial(form_class: type) -> dict:
    """The initial values of a form made with no arguments (a model form: a new row's)."""
    if form_class not in _PRISTINE:
        _PRISTINE[form_class] = form_class().initial
    return _PRISTINE[form_class]


@register.simple_tag
def form_fields(form: Form) -> SafeString:
    """Every field of ``form`` as ``careplan/_field.html`` renders it, in order.

    A form class that sets ``static_unbound_html = True`` promises that, unbound, its
    visible fields render the same for every reader of a language (no per-user choices
    or initial values). Shown unbound, those fields are rendered once per process and
    language (the calendar's form costed a quarter of the page); hidden fields (a fresh
    submission key) and any field with a callable initial value are rendered every time.
    """
    template = get_template("careplan/_field.html")
    cacheable = (
        getattr(form, "static_unbound_html", False)
        and not form.is_bound
        and form.initial == _pristine_initial(type(form))  # not an existing row's form
    )
    cached: dict[str, SafeString] = {}
    if cacheable:
        key = (type(form), get_language(), form.prefix, form.auto_id)
        cached = _STATIC_FIELDS.setdefault(key, {})
    parts = []
    for name, field in form.fields.items():
        if cacheable and not field.widget.is_hidden and not callable(field.initial):
            html = cached.get(name)
            if html is None:
                html = cached[name] = template.render({"field": form[name]})
        else:
            bound = form[name]
            html = (cacheable and _hidden_input(bound)) or template.render({"field": bound})
        parts.append(html)
    return mark_safe("".join(parts))  # noqa: S308 - each part rendered by the template


def _hidden_input(field: BoundField) -> str | None:
    """An unbound plain hidden field (a submission key) as ``_field.html`` writes it
    (``{{ field }}``: Django's ``HiddenInput`` template), without the template engines
    (a quarter of the form's cost); None for any other widget, or one with attributes
    of its own."""
    widget = field.field.widget
    if type(widget) is not HiddenInput or widget.attrs or field.field.disabled:
        return None
    if field.field.localize or field.form.is_bound:
        return None
    value = widget.format_value(field.value())
    html = f'<input type="hidden" name="{escape(field.html_name)}"'
    if value is not None:
        html += f' value="{escape(value)}"'
    if field.auto_id:
        html += f' id="{escape(field.auto_id)}"'
    return html + ">\n"  # _field.html ends with a line break


_LANGUAGE_BUTTONS: dict[tuple, SafeString] = {}


@register.simple_tag
def language_buttons(current: str) -> SafeString:
    """The header's language switch buttons, the page's language marked ``aria-current``
    (each named in its own language, with its own ``lang`` and direction). The same for
    every page of a language: made once per process and language (no user data)."""
    from django.conf import settings
    from django.utils.text import capfirst
    from django.utils.translation import get_language_info

    key = (current, tuple(settings.LANGUAGES))
    found = _LANGUAGE_BUTTONS.get(key)
    if found is None:
        buttons = []
        for code, _name in settings.LANGUAGES:
            info = get_language_info(code)
            buttons.append(
                format_html(
                    '\n      <button type="submit" name="language" value="{}" lang="{}"{}'
                    ' class="button button--quiet button--small"{}>{}</button>\n      ',
                    info["code"],
                    info["code"],
                    mark_safe(' dir="rtl"') if info["bidi"] else "",
                    mark_safe(' aria-current="true"') if info["code"] == current else "",
                    capfirst(info["name_local"]),
                )
            )
        found = _LANGUAGE_BUTTONS[key] = mark_safe("\n      " + "".join(buttons))  # noqa: S308
    return found


@register.simple_tag(name="route")
def route_tag(name: str, *args) -> str:
    """``{% url name arg … %}`` for the pages every request renders: the same URL, from a
    path template kept per process (``careplan.rendering.url``); escaped like ``url``."""
    return url(name, *args)


def _csrf_input(context) -> str:
    """``{% csrf_token %}``."""
    token = context.get("csrf_token")
    if token is None:
        return ""
    token = str(token)  # the lazy token, worked out once
    if not token or token == "NOTPROVIDED":
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{html_escape(token)}">'


# (language, the page's LANGUAGE_CODE, script prefix, URLconf) -> the header's and the
# footer's texts and links, escaped: the same on every page (no user data), worked out
# once per process; forgotten when a setting changes (the site's name, the languages).
_CHROME: dict[tuple, dict[str, str]] = {}


def _chrome(context) -> dict[str, str]:
    from django.urls import get_script_prefix, get_urlconf
    from django.utils.html import escape

    current = context.get("LANGUAGE_CODE")
    key = (get_language(), current, get_script_prefix(), get_urlconf())
    found = _CHROME.get(key)
    if found is None:
        site = escape(site_name())
        found = {
            "home": escape(url("home")),
            "site": site,
            "set_language": escape(url("set_language")),
            "messages_url": escape(url("message_list")),
            "notifications_url": escape(url("notification_list")),
            "logout_url": escape(url("account_logout")),
            "buttons": language_buttons(current),
            "language": escape(_("Language")),
            "messages": escape(_("Messages")),
            "unread": escape(_("unread")),
            "links": escape(_("Messages and notifications")),
            "notifications": escape(_("Notifications")),
            "logged_in_as": escape(_("Logged in as")),
            "log_out": escape(_("Log out")),
            "note": _("%(site)s is not for emergencies.") % {"site": site},
            "urgent_title": escape(_("If something is urgent")),
            "call_unit": escape(_("Call your care unit.")),
            "advice": escape(_("Medical advice day and night:")),
            "emergency": escape(_("Emergency:")),
        }
        if len(_CHROME) > 200:
            _CHROME.clear()
        _CHROME[key] = found
    return found


def _forget_chrome(**kwargs) -> None:
    _CHROME.clear()
    _LANGUAGE_BUTTONS.clear()


setting_changed.connect(_forget_chrome, dispatch_uid="careplan_tags_chrome")


@register.simple_tag(takes_context=True)
def site_header(context) -> SafeString:
    """The header of every page (base.html): the site's name, the language switch and,
    for a logged-in user, the messages and notifications links, who is logged in and
    "Log out". Written here rather than by the template engine (one tag instead of some
    80 nodes on every page); the HTML is what the template wrote. Its texts and links
    are worked out once per language (``_chrome``); the CSRF token, the page's path, the
    unread count and the user's name on every page."""
    from django.utils.formats import localize

    escape = html_escape  # Django's escape() gives the same text, through keep_lazy
    user = context.get("user")
    request = context.get("request")
    t = _chrome(context)
    out = [
        '<header class="site-header">\n  <div class="wrap site-header__inner">\n'
        f'    <a class="site-name" href="{t["home"]}">{t["site"]}</a>\n    '
    ]
    if not context.get("minimal"):
        csrf = _csrf_input(context)
        path = escape(request.get_full_path()) if request is not None else ""
        out.append(
            f'\n    <form method="post" action="{t["set_language"]}" '
            f'class="inline-form lang-switch" aria-label="{t["language"]}">\n'
            f"      {csrf}\n"
            f'      <input type="hidden" name="next" value="{path}">\n'
            f"      {t['buttons']}\n    </form>\n    "
        )
        if getattr(user, "is_authenticated", False):
            out.append('\n    <div class="site-user">\n      ')
            if not user.is_staff:
                messages_link = (
                    f'<a href="{t["messages_url"]}">{t["messages"]}</a>'
                    if shares_messages(user)
                    else ""
                )
                badge = (
                    f' <span class="badge">{escape(localize(user.unread_notifications))}'
                    f'<span class="visually-hidden"> {t["unread"]}</span></span>'
                    if user.unread_notifications
                    else ""
                )
                out.append(
                    '\n      <nav class="site-links" '
                    f'aria-label="{t["links"]}">\n'
                    f"        {messages_link}\n"
                    f'        <a href="{t["notifications_url"]}" '
                    f'class="notification-link">{t["notifications"]}{badge}</a>\n'
                    "      </nav>\n      "
                )
            out.append(
                '\n      <p class="who"><span class="visually-hidden">'
                f"{t['logged_in_as']} </span>"
                f"{escape(user.get_full_name() or user.email)}</p>\n"
                f'      <form method="post" action="{t["logout_url"]}" '
                'class="inline-form">\n'
                f"        {csrf}\n"
                '        <button type="submit" class="button button--quiet button--small">'
                f"{t['log_out']}</button>\n"
                "      </form>\n    </div>\n    "
            )
        out.append("\n    ")
    out.append("\n  </div>\n</header>")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


@register.simple_tag(takes_context=True)
def site_footer(context) -> SafeString:
    """The footer of every page (base.html): whom to call when something is urgent (the
    page's ``urgent_unit`` with its phone, 1177, 112). Written here as ``site_header``,
    its texts from ``_chrome``."""
    escape = html_escape  # as site_header

    t = _chrome(context)
    unit = context.get("urgent_unit")
    urgent = ""
    if unit and unit.phone:
        urgent = (
            f' {escape(unit.name)}: <a href="tel:{escape(tel_href(unit.phone))}" dir="ltr">'
            f"{escape(unit.phone)}</a>"
        )
    return mark_safe(  # noqa: S308 - every value is escaped
        '<footer class="site-footer">\n  <div class="wrap">\n'
        f'    <h2 class="site-footer__title">{t["urgent_title"]}</h2>\n'
        '    <ul class="urgent">\n'
        f"      <li>{t['call_unit']}{urgent}</li>\n"
        f"      <li>{t['advice']} "
        '<a href="tel:1177">1177</a></li>\n'
        f'      <li>{t["emergency"]} <a href="tel:112">112</a></li>\n'
        "    </ul>\n"
        f'    <p class="site-footer__note">{t["note"]}</p>\n'
        "  </div>\n</footer>"
    )


@register.simple_tag(takes_context=True)
def plan_top(context) -> SafeString:
    """The top of every plan page (careplan/_plan_top.html): for a relative the read-only
    banner, then the plan's menu with the parts the reader may see, ``active`` marked
    ``aria-current``. Written here as ``site_header`` (one tag instead of some 40 nodes)."""
    from django.utils.html import escape

    shared, plan, active = context.get("shared"), context.get("plan"), context.get("active")

    def part(name: str) -> bool:
        return bool(getattr(shared, name, False))

    def current(key: str) -> str:
        return ' aria-current="page"' if active == key else ""

    out = []
    if part("is_relative"):
        read_only = escape(_("Read only"))
        patient = context.get("patient")
        name = escape(getattr(patient, "first_name", "") or "")
        banner = _(
            "shared with you by %(name)s. You see only the parts %(name)s chose to share."
        ) % {"name": name}
        out.append(
            '\n<p class="banner banner--readonly">\n'
            f"  <strong>{read_only}</strong> –\n  {banner}\n</p>\n"
        )

    def nav(pk: int) -> str:
        # The texts (outside the f-strings below, where makemessages would not see them).
        menu_label = escape(_("Care plan"))
        start, calendar = escape(_("Start")), escape(_("Calendar"))
        questionnaires, rehabilitation = escape(_("Questionnaires")), escape(_("Rehabilitation"))
        care_map, my_questions = escape(_("Care map")), escape(_("My questions"))
        messages_label, print_label = escape(_("Messages")), escape(_("Print"))
        items = [
            f'<li><a href="{escape(url("plan_detail", pk))}"{current("start")}>{start}</a></li>',
            f'<li><a href="{escape(url("plan_calendar", pk))}"{current("calendar")}>'
            f"{calendar}</a></li>"
            if part("calendar")
            else "",
            f'<li><a href="{escape(url("selfmonitor_list", pk))}"{current("questionnaires")}>'
            f"{questionnaires}</a></li>"
            if part("questionnaires")
            else "",
            f'<li><a href="{escape(url("rehab_plan", pk))}"{current("rehab")}>'
            f"{rehabilitation}</a></li>"
            if part("rehab_plan")
            else "",
            f'<li><a href="{escape(url("care_map"))}">{care_map}</a></li>\n'
            f'    <li><a href="{escape(url("visit_questions"))}">{my_questions}</a></li>'
            if part("is_self")
            else "",
            f'<li><a href="{escape(url("message_list"))}">{messages_label}</a></li>'
            if part("is_self") or (part("is_relative") and part("messages"))
            else "",
            f'<li><a href="{escape(url("plan_pdf", pk))}">{print_label}'
            '<span class="visually-hidden"> (PDF)</span></a></li>'
            if part("sections")
            else "",
        ]
        return (
            f'\n<nav class="plan-nav" aria-label="{menu_label}">\n  <ul>\n    '
            + "\n    ".join(items)
            + "\n  </ul>\n</nav>\n"
        )

    # The menu holds the plan's id and the site's texts only: made once per language and
    # parts shown (careplan.rendering.fixed_html).
    flags = ("calendar", "questionnaires", "rehab_plan", "is_self", "is_relative", "messages")
    shown = (active, *(part(name) for name in flags), part("sections"))
    out.append(fixed_html("plan_top", plan.pk, nav, *shown))
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
