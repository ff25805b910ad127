"""The handover summary on paper (reportlab), in the style of the care plan's PDF
(``careplan/pdf.py``: large type, the masked personnummer, a page footer)."""

from __future__ import annotations

import io

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.platypus import SimpleDocTemplate, Spacer

from careplan.pdf import _canvas_with_footer, _p, _plain, _text_flowables

from ..models import Handover


def _when(value) -> str:
    return formats.date_format(timezone.localtime(value), "j F Y, H:i") if value else "–"


def handover_pdf(handover: Handover, *, language: str) -> bytes:
    with translation.override(language):
        return _build(handover)


def _build(handover: Handover) -> bytes:
    patient = handover.patient
    story: list = [
        _p(_("Handover summary"), "title"),
        Spacer(1, 4),
        _p(f"{patient.name}, {patient.personnummer_masked}", bold_label=_("For:")),
        _p(handover.from_unit.name, bold_label=_("From:")),
        _p(handover.to_unit.name, bold_label=_("To:")),
        _p(handover.get_state_display(), bold_label=_("State:")),
        _p(_when(handover.sent_at), bold_label=_("Sent:")),
    ]
    if handover.accepted_at:
        story += [
            _p(
                f"{_when(handover.accepted_at)} ({handover.accepted_by})", bold_label=_("Accepted:")
            ),
            _p(str(handover.contact_nurse), bold_label=_("New contact nurse:")),
            _p(
                f"{handover.contact_made_on}, {handover.contact_how}",
                bold_label=_("Contact with the patient:"),
            ),
        ]
    if handover.decline_reason:
        story.append(_p(handover.decline_reason, bold_label=_("Reason for declining:")))
    for title, text in (
        (_("Situation"), handover.situation),
        (_("Background"), handover.background),
        (_("Current assessment"), handover.assessment),
        (_("Recommendation"), handover.recommendation),
        (_("The patient's needs and wishes"), handover.needs_and_wishes),
    ):
        story.append(_p(title, "h2"))
        story += _text_flowables(text) if text.strip() else [_p("–")]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=2 * cm,
        bottomMargin=2 * cm,
        title=_("Handover summary"),
        author="careplan",
        lang=translation.get_language(),
    )
    footer = _plain(f"{patient.name} – {_('Handover summary')}")[:70]
    doc.build(
        story,
        canvasmaker=_canvas_with_footer(
            footer=footer, page_label=_plain(_("Page %(page)s of %(total)s"))
        ),
    )
    return buffer.getvalue()
