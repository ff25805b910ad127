from html import escape as _escape

from django import template
from django.middleware.csrf import get_token
from django.template.defaultfilters import linebreaksbr
from django.utils import formats, timezone
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


def escape(value) -> str:
    """Django's ``escape`` (the same text) without its lazy-string wrapper."""
    return _escape(str(value))


def _lines(value) -> str:
    """The ``linebreaksbr`` filter: escaped, each line break a ``<br>``."""
    if isinstance(value, SafeString):
        return linebreaksbr(value)
    return escape(value).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


@register.simple_tag(takes_context=True)
def alert_cards(context, alerts: list[dict], patient, here: str) -> SafeString:
    """The patient overview's open alerts (``selfmonitor.selectors.open_alerts``), each a
    card with the score, the answers in words, the phone number and the acknowledge form
    that returns to ``here``; written here with every value escaped rather than by a
    template loop (ten cards of some forty template nodes each were a third of the
    overview's rendering)."""
    # The page's token ({% csrf_token %} writes the same one), else a new one.
    token = escape(context.get("csrf_token") or get_token(context["request"]))
    answered = escape(gettext("answered"))
    phone_label = escape(gettext("Phone"))
    not_scored = escape(gettext("not scored"))
    note = escape(gettext("Note on what was done"))
    acknowledge = escape(gettext("Acknowledge"))
    here = escape(here)
    phone = (
        f'<a href="tel:{escape(patient.phone)}">{escape(patient.phone)}</a>'
        if patient.phone
        else "–"
    )

    def scale(s: dict) -> str:
        value = not_scored if s["value"] is None else f"<strong>{escape(s['value'])}</strong>"
        band = f", {escape(s['band'])}" if s["band"] else ""
        return f"<li>{escape(s['title'])}: {value} ({escape(s['range'])}{band})</li>"

    def card(a: dict) -> str:
        alert = a["alert"]
        when = timezone.localtime(a["answered_at"])
        answered_in = (
            " ({})".format(
                escape(gettext("answered in %(language)s") % {"language": a["answered_in"]})
            )
            if a["answered_in"]
            else ""
        )
        scales = "".join(scale(s) for s in a["scales"])
        answers = "".join(
            f"<dt>{escape(q['text'])}</dt><dd>{_lines(q['value'])}</dd>" for q in a["answers"]
        )
        pk = int(alert.pk)
        return (
            f'<article class="severity-{int(alert.severity)}">\n'
            f"    <h3>{escape(a['severity_label'])}: {escape(alert.text)}</h3>\n"
            f"    <p>{escape(a['instrument'])}, {answered} "
            f'<time datetime="{escape(when.isoformat())}">'
            f"{escape(formats.date_format(when, 'SHORT_DATETIME_FORMAT'))}</time>{answered_in} ·\n"
            f"      {phone_label}: {phone}</p>\n"
            f"    <ul>{scales}</ul>\n"
            f"    <dl>{answers}</dl>\n"
            f'    <form method="post" action="{escape(a["ack_url"])}">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">\n'
            f'      <input type="hidden" name="next" value="{here}">\n'
            f'      <label for="ack-note-{pk}">{note}</label><br>\n'
            f'      <textarea id="ack-note-{pk}" name="note" rows="2" cols="40" required>'
            "</textarea><br>\n"
            f'      <button type="submit">{acknowledge}</button>\n'
            "    </form>\n"
            "  </article>"
        )

    return SafeString("\n  ".join(card(a) for a in alerts))
