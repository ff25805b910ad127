"""The rehabilitation plan on paper, in the style of the care plan's PDF
(``careplan/pdf.py``: large type, the masked personnummer, page footer)."""

from __future__ import annotations

import io

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.platypus import KeepTogether, SimpleDocTemplate, Spacer

from careplan.pdf import (
    _canvas_with_footer,
    _content_flowables,
    _p,
    _plain,
    _text_flowables,
    _written_in,
)

from .models import Area, RehabPlan


def _day(value) -> str:
    return formats.date_format(value, "j F Y") if value else "–"


def rehab_plan_pdf(rehab: RehabPlan, *, language: str) -> bytes:
    with translation.override(language):
        return _build(rehab)


def _build(rehab: RehabPlan) -> bytes:
    patient = rehab.patient
    printed = formats.date_format(timezone.localdate(), "j F Y")
    title = _("Rehabilitation plan")
    story: list = [
        _p(title, "title"),
        Spacer(1, 4),
        _p(f"{patient.name}, {patient.personnummer_masked}", bold_label=_("For:")),
        _p(printed, "small", bold_label=_("Printed:")),
        _p(
            _day(rehab.agreed_at and timezone.localtime(rehab.agreed_at).date())
            if rehab.agreed_at
            else _("Not yet agreed."),
            bold_label=_("Agreed:"),
        ),
    ]
    if rehab.summary_assessment:
        story.append(_p(_("Summary assessment"), "h2"))
        story += _text_flowables(rehab.summary_assessment)

    story.append(_p(_("Goals"), "h2"))
    goals = list(rehab.goals.all())
    for goal in goals:
        block = [
            _p(f"{goal.text} ({goal.get_area_display()})", "h3"),
            _p(goal.success_measure, bold_label=_("How we will know:")),
        ]
        if goal.evaluation:
            block.append(
                _p(
                    f"{goal.get_evaluation_display()} ({_day(goal.evaluated_on)})",
                    bold_label=_("Evaluation:"),
                )
            )
        story.append(KeepTogether(block))
    if not goals:
        story.append(_p(_("No goals yet.")))

    story.append(_p(_("Planned interventions"), "h2"))
    interventions = list(rehab.interventions.select_related("kva", "unit"))
    for item in interventions:
        when = _day(item.starts_on) + (f" – {_day(item.ends_on)}" if item.ends_on else "")
        story.append(
            KeepTogether(
                [
                    _p(f"{item.description} ({item.get_area_display()})", "h3"),
                    _p(f"{item.get_profession_display()}, {item.unit.name}", bold_label=_("Who:")),
                    _p(when, bold_label=_("When:")),
                    _p(
                        f"{item.get_status_display()} (KVÅ {item.kva.code})",
                        bold_label=_("Status:"),
                    ),
                ]
            )
        )
    if not interventions:
        story.append(_p(_("No interventions planned yet.")))

    if rehab.timetable:
        story.append(_p(_("Timetable"), "h2"))
        story += _text_flowables(rehab.timetable)

    story.append(_p(_("Follow-up"), "h2"))
    follow_ups = list(rehab.follow_ups.all())
    for f in follow_ups:
        story.append(_p(f"{_day(f.due_on)} {f.what}".strip()))
    if not follow_ups:
        story.append(_p(_("No follow-up booked yet.")))

    advice = list(rehab.self_care_advice.filter(is_active=True))
    if advice or rehab.self_care_text:
        story.append(_p(_("What you can do yourself"), "h2"))
        for area in Area:
            items = [a for a in advice if a.area == area]
            if items:
                story.append(_p(area.label, "h3"))
                for a in items:
                    story.append(_p(a.title, bold_label="•"))
                    story += _content_flowables(a)
        if rehab.self_care_text:
            story += _text_flowables(rehab.self_care_text)
            if _written_in():
                story.append(_p(_written_in(), "small"))

    # A trailing spacer that no longer fits would start a page of its own: a blank last
    # page with only the footer.
    while story and isinstance(story[-1], Spacer):
        story.pop()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=2 * cm,
        bottomMargin=2.2 * cm,
        title=title,
        author="careplan",
        lang=translation.get_language(),
    )
    footer = _plain(f"{patient.name} – {title}")[:70]
    printed_label = _("Printed")
    doc.build(
        story,
        canvasmaker=_canvas_with_footer(
            footer=_plain(f"{footer} · {printed_label} {printed}"),
            page_label=_plain(_("Page %(page)s of %(total)s")),
        ),
    )
    return buffer.getvalue()
