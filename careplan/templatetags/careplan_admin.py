"""Template helpers for the staff admin."""

from __future__ import annotations

from html import escape

from django import template
from django.utils import dateformat, formats, timezone
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
    short = formats.get_format("SHORT_DATETIME_FORMAT")
    tz = timezone.get_current_timezone()
    now = timezone.now()
    overview = rendering.route("admin:careplan_patient_overview")

    def time_tag(value, extra: str = "") -> str:
        local = value.astimezone(tz)
        return (
            f'<time datetime="{local.isoformat()}"{extra}>'
            f"{escape(dateformat.format(local, short))}</time>"
        )

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
