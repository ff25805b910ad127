"""Template helpers for the staff admin."""

from __future__ import annotations

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
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


def _time(value) -> SafeString:
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}">{}</time>',
        local.isoformat(),
        formats.date_format(local, "SHORT_DATETIME_FORMAT"),
    )


@register.simple_tag
def worklist_rows(items: list[WorkItem]) -> SafeString:
    """The worklist table's rows (``{% worklist_rows waiting %}``), built here rather than
    in a template loop: the start page is the care team's busiest page, and a loop of
    25 rows with links, two times each and an age cost more than the rest of the page.
    Times in Stockholm time, in the user's language's short format."""
    priority = gettext("priority")
    overdue_text = gettext("overdue")
    ago = gettext("%(age)s ago")
    now = timezone.now()

    def cells(item: WorkItem):
        p = item.patient
        detail = (
            format_html(" <small>{}</small>", Truncator(item.detail).chars(80))
            if item.detail
            else ""
        )
        if item.due_at:
            overdue = item.due_at < now
            due = format_html(
                '<time datetime="{}"{}>{}</time>{}',
                timezone.localtime(item.due_at).isoformat(),
                SafeString(' class="overdue"') if overdue else "",
                formats.date_format(timezone.localtime(item.due_at), "SHORT_DATETIME_FORMAT"),
                format_html(' <span class="overdue">{}</span>', overdue_text) if overdue else "",
            )
        else:
            due = "–"
        return (
            item.severity,
            item.kind,
            item.url,
            item.kind_label,
            item.title,
            detail,
            priority,
            item.severity_label,
            rendering.url("admin:careplan_patient_overview", p.pk),
            p.last_name,
            p.first_name,
            p.personnummer_masked,
            _time(item.since),
            ago % {"age": timesince(item.since, now, depth=1)},
            due,
        )

    return format_html_join(
        "\n",
        '<tr class="severity-{} work-{}">'
        '<td><a href="{}"><strong>{}</strong>: {}</a>{} '
        '<span class="visually-hidden">({} {})</span></td>'
        '<td><a href="{}">{}, {}</a> ({})</td>'
        "<td>{} ({})</td>"
        "<td>{}</td></tr>",
        (cells(item) for item in items),
    )
