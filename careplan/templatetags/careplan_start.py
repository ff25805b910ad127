"""The plan's start page (careplan/plan_detail.html), written in Python: one tag instead
of some 150 template nodes on the page every patient and relative opens first. The HTML
is what the template wrote (the same texts, escaping and whitespace)."""

from __future__ import annotations

import re

from django import template
from django.template.loader import get_template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from careplan import content
from careplan.rendering import fixed_html, time_tag, url
from careplan.templatetags.careplan_tags import (
    calendar_events,
    genitive,
    phase_text,
    plan_text,
    plan_top,
    status_text,
    tel_href,
)

register = template.Library()

_SLUG = re.compile(r"[-a-zA-Z0-9_]+\Z")


# The start page's fixed texts per language (``plan_start``): some 30 ``{% translate %}``
# nodes on every visit, looked up once per process and language. As the template's
# ``{% translate "…" %}`` gave them: not escaped (they are the site's own texts).
_START_TEXTS: dict[str, dict[str, str]] = {}


def _start_texts() -> dict[str, str]:
    lang = get_language() or ""
    found = _START_TEXTS.get(lang)
    if found is None:
        found = _START_TEXTS[lang] = {
            "status": _("Status of the care plan"),
            "diagnosis": _("Diagnosis:"),
            "now": _("Now:"),
            "todo": _("To do"),
            "answer_by": _("answer by"),
            "started": _("started – go on where you left"),
            "nothing_waits": _("Nothing waits for you right now."),
            "symptom": _("Report a symptom"),
            "changed": _("What changed since your last visit"),
            "read": _("Read"),
            "welcome": _(
                "Welcome to your care plan. Here you will see what your care team has "
                "changed since you last looked."
            ),
            "nothing_new": _("Nothing new since your last visit."),
            "your_nurse": _("Your contact nurse"),
            "nurse": _("Contact nurse"),
            "call": _("Call"),
            "reachable": _("Reachable:"),
            "unit": _("Unit:"),
            "no_nurse": _("No contact nurse has been named yet."),
            "next": _("What is next"),
            "nothing_booked": _("Nothing is booked in the calendar yet."),
            "open_calendar": _("Open the calendar"),
            "questionnaires": _("Questionnaires"),
            "your_questionnaires": _("Your questionnaires and how you have been"),
            "questionnaire_results": _("Questionnaires and results"),
            "read_yours": _("Read about your care"),
            "read_care": _("Read about the care"),
            "no_text": _("The care team has not added any text yet."),
            "summary": _("Summary of diagnosis and treatment"),
            "followup": _("Follow-up plan"),
            "print": _("Print the plan (PDF)"),
            "rehab": _("Rehabilitation plan"),
            "care_map": _("My care map"),
            "sharing": _("Who can read my care plan"),
            "access_log": _("Who has read my record"),
            "shared_with_me": _("What others share with me"),
        }
    return found


def _todo_card(context, texts: dict[str, str]) -> str:
    """The patient's "To do" card (``careplan.todo``)."""
    out = [
        '\n<section class="card todo-card" aria-labelledby="todo-title">\n'
        f'  <h2 id="todo-title">{texts["todo"]}</h2>\n  '
    ]
    todo = context.get("todo")
    if todo:
        when = time_tag()
        out.append('\n  <ul class="todo-list">\n    ')
        for item in todo:
            text = escape(item.text)
            if item.kind == "questionnaire":
                text = _("Answer the questionnaire “%(title)s”") % {"title": text}
            due = (
                f' <span class="muted">– {texts["answer_by"]} {when(item.due)}</span>'
                if item.due
                else ""
            )
            started = f' <span class="tag">{texts["started"]}</span>' if item.started else ""
            out.append(
                f'\n    <li class="todo todo--{escape(item.kind)}"><a href="{escape(item.url)}">'
                f"{text}</a>{due}{started}</li>\n    "
            )
        out.append("\n  </ul>\n  ")
    else:
        out.append(f'\n  <p class="muted">{texts["nothing_waits"]}</p>\n  ')
    out.append(
        fixed_html(
            "start:symptom",
            0,
            lambda _pk: (
                '\n  <p><a class="button button--primary" '
                f'href="{escape(url("symptom_new"))}">{texts["symptom"]}</a></p>\n</section>\n\n'
            ),
        )
    )
    return "".join(out)


def _changes_card(context, texts: dict[str, str]) -> str:
    """What changed since the patient's last visit."""
    from careplan.rendering import month_names

    plan, shared = context["plan"], context["shared"]
    out = [
        '<section class="changes" aria-labelledby="changes-title">\n'
        f'  <h2 id="changes-title">{texts["changed"]}</h2>\n  '
    ]
    changes = context.get("changes")
    if changes:
        months = month_names()
        tz = timezone.get_current_timezone()
        out.append('\n  <ul class="change-list">\n    ')
        for change in changes:
            at = change.at.astimezone(tz) if timezone.is_aware(change.at) else change.at
            shown = f"{at.day} {months[at.month]}, {at.hour:02d}:{at.minute:02d}"
            by = f' <span class="muted">({escape(change.by)})</span>' if change.by else ""
            read = (
                f' <a href="{escape(url("plan_section", plan.pk, change.section_key))}">'
                f"{texts['read']}</a>"
                if change.section_key and shared.sections
                else ""
            )
            out.append(
                f'\n    <li><time datetime="{at.isoformat()}">{escape(shown)}</time> – '
                f"{escape(change.what)}{by}{read}</li>\n    "
            )
        out.append("\n  </ul>\n  ")
    elif context.get("first_visit"):
        out.append(f"\n  <p>{texts['welcome']}</p>\n  ")
    else:
        out.append(f'\n  <p class="muted">{texts["nothing_new"]}</p>\n  ')
    out.append("\n</section>\n")
    return "".join(out)


def _sections_part(context, texts: dict[str, str]) -> str:
    """The plan's texts: the section titles, the summary, the follow-up plan, print."""
    plan, is_self = context["plan"], context["shared"].is_self
    title = texts["read_yours"] if is_self else texts["read_care"]
    out = [
        '\n<section aria-labelledby="sections-title">\n'
        f'  <h2 id="sections-title">{title}</h2>\n  <ul class="link-list">\n    '
    ]
    sections = context.get("sections")
    page = content.reader_language(context.get("LANGUAGE_CODE"))
    same = page == content.reader_language()  # ``section.title`` is in ``page``'s language
    dirs: dict[str, str] = {}
    # ``url("plan_section", plan.pk, key)`` for each key, from one reverse (keys are slugs).
    before, mark, after = url("plan_section", plan.pk, "section-key-mark").rpartition(
        "section-key-mark"
    )
    for section in sections or ():
        shown = content.shown(section, "title", page)
        attrs = ""
        if shown.lang != page:
            if shown.lang not in dirs:
                dirs[shown.lang] = escape(shown.dir)
            attrs = f' lang="{escape(shown.lang)}" dir="{dirs[shown.lang]}"'
        title = shown.text if same else section.title
        key = section.key
        link = (
            f"{before}{key}{after}"
            if mark and _SLUG.match(key)
            else url("plan_section", plan.pk, key)
        )
        out.append(f'\n    <li><a href="{escape(link)}"{attrs}>{escape(title)}</a></li>\n    ')
    if not sections:
        out.append(f"\n    <li>{texts['no_text']}</li>\n    ")
    out.append("\n  </ul>\n\n  ")
    if plan.treatment_summary:
        out.append(
            f"\n  <h2>{texts['summary']}</h2>\n"
            f'  <div class="prose">{plan_text(plan.treatment_summary)}</div>\n  '
        )
    out.append("\n  ")
    if plan.followup_plan:
        out.append(
            f"\n  <h2>{texts['followup']}</h2>\n"
            f'  <div class="prose">{plan_text(plan.followup_plan)}</div>\n  '
        )
    out.append(
        fixed_html(
            "start:print",
            plan.pk,
            lambda pk: (
                f'\n\n  <p><a class="button" href="{escape(url("plan_pdf", pk))}">'
                f"{texts['print']}</a></p>\n</section>\n"
            ),
        )
    )
    return "".join(out)


def _unit_line(unit, texts: dict[str, str]) -> str:
    """``<p>`` with the unit's name and phone (the contact card)."""
    phone = (
        f', <a href="tel:{escape(tel_href(unit.phone))}">{escape(unit.phone)}</a>'
        if unit.phone
        else ""
    )
    return f'<p><span class="label">{texts["unit"]}</span> {escape(unit.name)}{phone}</p>'


@register.simple_tag(takes_context=True)
def plan_start(context) -> SafeString:
    """The plan's start page (careplan/plan_detail.html's content, from the view's
    context): status, the patient's to-do and what changed, the handover card, the
    contact nurse, what is next, the questionnaires, the plan's texts and the links.
    Written here as ``site_header`` (one tag instead of some 150 nodes); the HTML is what
    the template wrote. The handover card, rarely shown, stays a template."""
    from contacts.templatetags.contacts_handover import handover_status
    from selfmonitor.templatetags.selfmonitor_tags import shares_questionnaires

    texts = _start_texts()
    plan, patient, shared = context["plan"], context["patient"], context["shared"]
    is_self = shared.is_self
    with context.push(active="start"):  # {% include "careplan/_plan_top.html" with … %}
        top = plan_top(context)
    out = ["\n", top, f"\n\n<h1>{escape(plan.title)}</h1>\n"]
    if shared.is_relative:
        owner = _("%(owner)s care plan") % {"owner": escape(genitive(patient.first_name))}
        out.append(f'<p class="subtitle">{owner} ({escape(patient.name)})</p>\n')
        not_shared = context.get("not_shared")
        if not_shared:
            told = _("%(name)s has not shared these parts with you:") % {
                "name": escape(patient.first_name)
            }
            listed = ", ".join(escape(part) for part in not_shared)
            out.append(f'<p class="not-shared">{told} {listed}.</p>')
        out.append("\n")
    elif not is_self:
        of = _("The care plan of %(name)s") % {"name": escape(patient.name)}
        out.append(f'<p class="subtitle">{of}</p>')
    diagnosis = (
        f'<p><span class="label">{texts["diagnosis"]}</span> {escape(plan.diagnosis)}</p>'
        if shared.sections and plan.diagnosis
        else ""
    )
    out.append(
        '\n\n<section class="status-box" aria-labelledby="status-title">\n'
        f'  <h2 id="status-title" class="visually-hidden">{texts["status"]}</h2>\n'
        f"  {diagnosis}\n"
        f'  <p><span class="label">{texts["now"]}</span> {escape(phase_text(plan))}</p>\n'
        f'  <p class="muted">{escape(status_text(plan))}</p>\n'
        "</section>\n\n"
    )
    if is_self:
        out.append(_todo_card(context, texts))
        out.append(_changes_card(context, texts))
    out.append("\n\n")
    nurse, unit = context.get("nurse"), context.get("unit")
    card = handover_status(plan, shared, nurse, context.get("handovers"))
    if card.get("handover") is None:
        out.append("\n")  # the card's template with no handover
    else:
        out.append(get_template("contacts/_handover_status.html").render(card))
    out.append("\n\n")
    if shared.contact_nurse:
        title = texts["your_nurse"] if is_self else texts["nurse"]
        out.append(
            '\n<section class="card contact-card" aria-labelledby="nurse-title">\n'
            f'  <h2 id="nurse-title">{title}</h2>\n  '
        )
        if nurse:
            person = nurse.nurse
            job = (
                f', <span class="contact-card__title">{escape(person.title)}</span>'
                if person.title
                else ""
            )
            phone = nurse.phone
            call = (
                '<p><a class="button button--primary button--call" '
                f'href="tel:{escape(tel_href(phone))}">{texts["call"]} {escape(phone)}</a></p>'
                if phone
                else ""
            )
            when = nurse.when_reachable
            reachable = (
                f'<p><span class="label">{texts["reachable"]}</span> {escape(when)}</p>'
                if when
                else ""
            )
            out.append(
                '\n  <p class="contact-card__name">'
                f"{escape(person.get_full_name() or person)}{job}</p>\n"
                f"  {call}\n  {reachable}\n  {_unit_line(nurse.unit, texts)}\n  "
            )
        else:
            unit_line = _unit_line(unit, texts) if unit else ""
            out.append(f"\n  <p>{texts['no_nurse']}</p>\n  {unit_line}\n  ")
        out.append("\n</section>\n")
    out.append("\n\n")
    if shared.calendar:
        upcoming = context.get("upcoming")
        out.append(
            '\n<section aria-labelledby="next-title">\n'
            f'  <h2 id="next-title">{texts["next"]}</h2>\n  '
        )
        if upcoming:
            events = calendar_events(upcoming, plan)
            out.append(f'\n  <ol class="event-list">\n    {events}\n  </ol>\n  ')
        else:
            out.append(f"\n  <p>{texts['nothing_booked']}</p>\n  ")
        out.append(
            fixed_html(
                "start:calendar",
                plan.pk,
                lambda pk: (
                    f'\n  <p><a class="button" href="{escape(url("plan_calendar", pk))}">'
                    f"{texts['open_calendar']}</a></p>\n</section>\n"
                ),
            )
        )
    out.append("\n\n")
    questionnaires = shares_questionnaires(plan)
    if questionnaires:
        out.append(
            fixed_html(
                "start:questionnaires",
                plan.pk,
                lambda pk: _questionnaires_part(pk, is_self),
                is_self,
            )
        )
    out.append("\n\n")
    if shared.sections:
        out.append(_sections_part(context, texts))
    out.append("\n\n")
    rehab = shared.rehab_plan
    out.append(
        fixed_html(
            "start:links", plan.pk, lambda pk: _links_part(pk, rehab, is_self), rehab, is_self
        )
    )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def _questionnaires_part(pk: int, is_self: bool) -> str:
    """The questionnaires' link (``fixed_html``: the plan's id and the site's texts)."""
    texts = _start_texts()
    label = texts["your_questionnaires"] if is_self else texts["questionnaire_results"]
    return (
        '\n<section aria-labelledby="questionnaires-title">\n'
        f'  <h2 id="questionnaires-title">{texts["questionnaires"]}</h2>\n'
        f'  <p><a class="button" href="{escape(url("selfmonitor_list", pk))}">'
        f"{label}</a></p>\n</section>\n"
    )


def _links_part(pk: int, rehab: bool, is_self: bool) -> str:
    """The page's last links: the rehabilitation plan, the patient's other pages
    (``fixed_html``: the plan's id and the site's texts)."""
    texts = _start_texts()
    out = []
    if rehab:
        out.append(
            f'\n<p><a class="button" href="{escape(url("rehab_plan", pk))}">'
            f"{texts['rehab']}</a></p>\n"
        )
    out.append("\n\n")
    if is_self:
        out.append(
            f'\n<p class="more-links"><a href="{escape(url("care_map"))}">{texts["care_map"]}'
            f'</a> · <a href="{escape(url("sharing"))}">{texts["sharing"]}</a></p>\n'
            f'<p class="more-links"><a href="{escape(url("my_access_log"))}">'
            f'{texts["access_log"]}</a> · <a href="{escape(url("shared_with_me"))}">'
            f"{texts['shared_with_me']}</a></p>\n"
        )
    out.append("\n")
    return "".join(out)
