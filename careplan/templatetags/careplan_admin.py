"""Template helpers for the staff admin."""

from __future__ import annotations

from html import escape

from django import template
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.translation import gettext

from careplan import rendering
from careplan.selectors import WorkItem, worklist

register = template.Library()


@register.simple_tag
def care_worklist(user):
    """``{% care_worklist request.user as items %}``: everything waiting for my units, most
    severe and oldest first (``careplan.selectors.worklist``, which logs the rows shown)."""
    return worklist(user)


@register.simple_tag
def worklist_rows(items: list[WorkItem]) -> SafeString:
    """The worklist table's rows (``{% worklist_rows waiting %}``), built here rather than
    in a template loop: the start page is the care team's busiest page, and a loop of
    25 rows with links, two times each and an age cost more than the rest of the page.
    Times in Stockholm time, in the user's language's short format (as the ``date``
    filter's ``SHORT_DATETIME_FORMAT``); every text escaped."""
    priority = escape(gettext("priority"))
    overdue_text = escape(gettext("overdue"))
    ago = gettext("%(age)s ago")
    short = rendering.date_formatter(formats.get_format("SHORT_DATETIME_FORMAT"))
    tz = timezone.get_current_timezone()
    now = timezone.now()
    overview = rendering.route("admin:careplan_patient_overview")

    def time_tag(value, extra: str = "") -> str:
        local = value.astimezone(tz)
        return f'<time datetime="{local.isoformat()}"{extra}>{escape(short(local))}</time>'

    rows = []
    for item in items:
        p = item.patient
        detail = (
            f" <small>{escape(Truncator(item.detail).chars(80))}</small>" if item.detail else ""
        )
        if item.due_at:
            late = item.due_at < now
            due = time_tag(item.due_at, ' class="overdue"' if late else "")
            if late:
                due += f' <span class="overdue">{overdue_text}</span>'
        else:
            due = "–"
        age = escape(ago % {"age": timesince(item.since, now, depth=1)})
        rows.append(
            f'<tr class="severity-{int(item.severity)} work-{escape(item.kind)}">'
            f'<td><a href="{escape(item.url)}"><strong>{escape(item.kind_label)}</strong>: '
            f"{escape(item.title)}</a>{detail} "
            f'<span class="visually-hidden">({priority} {escape(item.severity_label)})</span></td>'
            f'<td><a href="{escape(overview(p.pk))}">{escape(p.last_name)}, '
            f"{escape(p.first_name)}</a> ({escape(p.personnummer_masked)})</td>"
            f"<td>{time_tag(item.since)} ({age})</td>"
            f"<td>{due}</td></tr>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped


def _short_time(value, tz, short) -> str:
    local = value.astimezone(tz)
    return f'<time datetime="{local.isoformat()}">{escape(short(local))}</time>'


@register.simple_tag
def overview_threads(threads) -> SafeString:
    """The patient overview's open threads as ``<li>`` items: subject (a link), how long
    it has waited for an answer, and the last message (by whom, its start)."""
    waiting = escape(gettext("waiting for an answer"))
    since = gettext("for %(age)s")
    by_patient = escape(gettext("The patient:"))
    by_team = escape(gettext("The care team:"))
    to_thread = rendering.route("admin:careplan_messagethread_change")
    now = timezone.now()
    items = []
    for t in threads:
        wait = (
            f" – <strong>{waiting}</strong> "
            f"{escape(since % {'age': timesince(t.awaiting_reply_since, now)})}"
            if t.awaiting_reply_since
            else ""
        )
        items.append(
            f'<li><a href="{escape(to_thread(t.pk))}">{escape(t.subject)}</a>{wait}\n'
            f"      <br><small>{by_patient if t.last_from_patient else by_team}</small> "
            f"{escape(Truncator(t.last_body or '').chars(200))}</li>"
        )
    return mark_safe("\n    ".join(items))  # noqa: S308 - every value above is escaped


@register.simple_tag
def access_log_items(rows) -> SafeString:
    """The patient overview's last access-log rows as ``<li>`` items: when, who (and
    their unit), what, the outcome and the channel, in the reader's language."""
    from careplan.models import AccessLog

    actions = rendering.choice_labels(AccessLog.Action)
    outcomes = rendering.choice_labels(AccessLog.Outcome)
    channels = rendering.choice_labels(AccessLog.Channel)
    short = rendering.date_formatter(formats.get_format("SHORT_DATETIME_FORMAT"))
    tz = timezone.get_current_timezone()
    items = []
    for row in rows:
        unit = f" ({escape(str(row.acting_unit))})" if row.acting_unit_id else ""
        items.append(
            f"<li>{_short_time(row.at, tz, short)} {escape(row.user_name)}{unit}: "
            f"{escape(actions.get(row.action, row.action))}, "
            f"{escape(outcomes.get(row.outcome, row.outcome))}, "
            f"{escape(channels.get(row.channel, row.channel))}</li>"
        )
    return mark_safe("".join(items))  # noqa: S308 - every value above is escaped
