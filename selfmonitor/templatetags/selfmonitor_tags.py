from django import template
from django.middleware.csrf import get_token
from django.template.defaultfilters import linebreaksbr
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from careplan.models import Scope
from selfmonitor import admin as admin_worklists

register = template.Library()


@register.filter
def shares_questionnaires(plan) -> bool:
    """Whether the viewer of a plan page may see its questionnaires (no query)."""
    reach = getattr(plan, "reach", None)
    return bool(reach and reach.covers(Scope.QUESTIONNAIRES))


@register.simple_tag
def alert_worklist(user):
    """The alerts part of the admin worklist (see ``selfmonitor.admin.alert_worklist``)."""
    return admin_worklists.alert_worklist(user)


@register.simple_tag(takes_context=True)
def alert_cards(context, alerts: list[dict], patient, here: str) -> SafeString:
    """The patient overview's open alerts (``selfmonitor.selectors.open_alerts``), each a
    card with the score, the answers in words, the phone number and the acknowledge form
    that returns to ``here``; built here rather than by a template loop (ten cards of
    some forty template nodes each were a third of the overview's rendering)."""
    token = get_token(context["request"])
    answered = gettext("answered")
    phone_label = gettext("Phone")
    not_scored = gettext("not scored")
    note = gettext("Note on what was done")
    acknowledge = gettext("Acknowledge")
    phone = (
        format_html('<a href="tel:{}">{}</a>', patient.phone, patient.phone)
        if patient.phone
        else "–"
    )

    def scale(s: dict) -> SafeString:
        value = not_scored if s["value"] is None else format_html("<strong>{}</strong>", s["value"])
        band = format_html(", {}", s["band"]) if s["band"] else ""
        return format_html("<li>{}: {} ({}{})</li>", s["title"], value, s["range"], band)

    def card(a: dict) -> SafeString:
        alert = a["alert"]
        when = timezone.localtime(a["answered_at"])
        answered_in = (
            format_html(
                " ({})", gettext("answered in %(language)s") % {"language": a["answered_in"]}
            )
            if a["answered_in"]
            else ""
        )
        return format_html(
            '<article class="severity-{}">\n'
            "    <h3>{}: {}</h3>\n"
            '    <p>{}, {} <time datetime="{}">{}</time>{} ·\n'
            "      {}: {}</p>\n"
            "    <ul>{}</ul>\n"
            "    <dl>{}</dl>\n"
            '    <form method="post" action="{}">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">\n'
            '      <input type="hidden" name="next" value="{}">\n'
            '      <label for="ack-note-{}">{}</label><br>\n'
            '      <textarea id="ack-note-{}" name="note" rows="2" cols="40" required></textarea><br>\n'
            '      <button type="submit">{}</button>\n'
            "    </form>\n"
            "  </article>",
            alert.severity,
            a["severity_label"],
            alert.text,
            a["instrument"],
            answered,
            when.isoformat(),
            formats.date_format(when, "SHORT_DATETIME_FORMAT"),
            answered_in,
            phone_label,
            phone,
            SafeString("".join(scale(s) for s in a["scales"])),
            format_html_join(
                "",
                "<dt>{}</dt><dd>{}</dd>",
                ((q["text"], linebreaksbr(q["value"])) for q in a["answers"]),
            ),
            a["ack_url"],
            token,
            here,
            alert.pk,
            note,
            alert.pk,
            acknowledge,
        )

    return SafeString("\n  ".join(card(a) for a in alerts))
