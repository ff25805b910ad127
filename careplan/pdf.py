"""The care plan on paper (reportlab).

Written for someone who may not use a computer: large type, everything they need to act
on (who to call, when, what comes next) on the paper itself. Relatives get only the parts
the patient shared with them. The personnummer is shown masked, never in full.

Right-to-left languages (Arabic): reportlab neither joins Arabic letters nor reorders
bidirectional text, so such a plan is set in the bundled DejaVu Sans (static/fonts, it has
Arabic and Latin), each line broken in logical order, then shaped (arabic-reshaper) and put
in visual order (python-bidi). Phone numbers, the personnummer and dates are isolated left
to right so their digits keep their order inside Arabic sentences.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from xml.sax.saxutils import escape

import arabic_reshaper
from bidi import get_display
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from . import content
from .models import (
    CalendarEvent,
    CarePlan,
    CareRelation,
    CareUnit,
    ContactNurseAssignment,
    PlanDocument,
    PlanSection,
    Scope,
)
from .prepared import prepared
from .templatetags.careplan_tags import phase_text, status_text, text_blocks

UPCOMING_EVENTS_PRINTED = 30
FONT = "Helvetica"
FONT_BOLD = "Helvetica-Bold"
INK = colors.HexColor("#1a1a1a")
ACCENT = colors.HexColor("#0b4f6c")
URGENT_BG = colors.HexColor("#fff4e5")
URGENT_BORDER = colors.HexColor("#b34700")

_BODY = ParagraphStyle(
    "body", fontName=FONT, fontSize=13, leading=18, textColor=INK, alignment=TA_LEFT
)
STYLES = {
    "body": _BODY,
    "small": ParagraphStyle("small", parent=_BODY, fontSize=12, leading=15),
    "title": ParagraphStyle(
        "title", parent=_BODY, fontName=FONT_BOLD, fontSize=22, leading=27, textColor=ACCENT
    ),
    "h2": ParagraphStyle(
        "h2",
        parent=_BODY,
        fontName=FONT_BOLD,
        fontSize=16,
        leading=20,
        spaceBefore=14,
        spaceAfter=6,
        textColor=ACCENT,
        keepWithNext=1,
    ),
    "h3": ParagraphStyle(
        "h3",
        parent=_BODY,
        fontName=FONT_BOLD,
        fontSize=14,
        leading=19,
        spaceBefore=8,
        keepWithNext=1,
    ),
    "note": ParagraphStyle(
        "note",
        parent=_BODY,
        backColor=colors.HexColor("#eef6f9"),
        borderPadding=6,
        spaceBefore=4,
        spaceAfter=10,
    ),
    "cell": ParagraphStyle("cell", parent=_BODY, fontSize=12, leading=15),
    "cell_head": ParagraphStyle("cell_head", parent=_BODY, fontName=FONT_BOLD, fontSize=12),
}


# --- Right to left ----------------------------------------------------------------------------

RTL_FONT = "CareplanSans"
RTL_FONT_BOLD = "CareplanSans-Bold"
FONT_DIR = settings.BASE_DIR / "static" / "fonts"
# Unicode bidi controls: left-to-right isolate, first-strong isolate, end of isolate.
LRI, FSI, PDI = "\u2066", "\u2068", "\u2069"
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Digits joined by dashes, colons, dots, slashes or spaces (dates, times, phone numbers):
# after Arabic letters the bidi algorithm would read each group right to left.
_DIGIT_RUN = re.compile(r"\d(?:[\d\-\u2013:./ ]*\d)?")


def _rtl() -> bool:
    """Is the plan being printed in a right-to-left language (the active one)?"""
    return translation.get_language_bidi()


@cache
def _register_rtl_fonts() -> None:
    pdfmetrics.registerFont(TTFont(RTL_FONT, FONT_DIR / "DejaVuSans.ttf"))
    pdfmetrics.registerFont(TTFont(RTL_FONT_BOLD, FONT_DIR / "DejaVuSans-Bold.ttf"))
    # <b> inside a paragraph; Arabic has no oblique glyphs here, so <i> stays upright.
    pdfmetrics.registerFontFamily(
        RTL_FONT, normal=RTL_FONT, bold=RTL_FONT_BOLD, italic=RTL_FONT, boldItalic=RTL_FONT_BOLD
    )


@cache
def _rtl_style(name: str) -> ParagraphStyle:
    base = STYLES[name]
    font = RTL_FONT_BOLD if base.fontName == FONT_BOLD else RTL_FONT
    return ParagraphStyle(f"{name}-rtl", parent=base, fontName=font, alignment=TA_RIGHT)


def _ltr(text: object) -> str:
    """Digits and dashes that must read left to right even inside Arabic (phone numbers,
    the personnummer, dates in digits)."""
    return f"{LRI}{text}{PDI}" if text else ""


def _visual(text: str) -> str:
    """One line of logical text as it must be drawn: Arabic joined, bidi reordered,
    paragraph direction right to left."""
    isolated = _DIGIT_RUN.sub(lambda m: f"{LRI}{m.group(0)}{PDI}", text)
    shaped = arabic_reshaper.reshape(isolated)
    return _BIDI_CONTROLS.sub("", get_display(shaped, base_dir="R"))


class _RtlParagraph(Flowable):
    """A paragraph in a right-to-left language. Lines are broken in logical order at the
    width the paragraph is given (a page, a table cell), each put in visual order, then set
    right aligned as a reportlab Paragraph whose lines already fit. A leading bold label
    stays the first thing read: the rightmost words of the first line."""

    def __init__(self, lines: list[tuple[str, str]], style: ParagraphStyle):
        super().__init__()
        self.lines = lines  # (bold label, text) per hard line break
        self.style = style
        self._para: Paragraph | None = None
        self._for_width: float | None = None

    def _break(self, label: str, text: str, width: float) -> list[tuple[str, str]]:
        size = self.style.fontSize
        space = pdfmetrics.stringWidth(" ", RTL_FONT, size)
        words = [(w, True) for w in label.split()] + [(w, False) for w in text.split()]
        out: list[tuple[list[str], list[str]]] = []
        used = width + 1
        for word, bold in words:
            font = RTL_FONT_BOLD if bold or self.style.fontName == RTL_FONT_BOLD else RTL_FONT
            w = pdfmetrics.stringWidth(arabic_reshaper.reshape(word), font, size)
            if not out or used + space + w > width:
                out.append(([], []))
                used = w
            else:
                used += space + w
            out[-1][0 if bold else 1].append(word)
        return [(" ".join(b), " ".join(t)) for b, t in out] or [("", "")]

    def _build(self, width: float) -> Paragraph:
        if self._para is None or self._for_width != width:
            inner = width - self.style.leftIndent - self.style.rightIndent - 2
            rows = []
            for label, text in self.lines:
                for bold, rest in self._break(label, text, inner):
                    row = escape(_visual(rest)) if rest else ""
                    if bold:
                        row = f"{row} <b>{escape(_visual(bold))}</b>".strip()
                    rows.append(row)
            self._para = Paragraph("<br/>".join(rows), self.style)
            self._for_width = width
        return self._para

    def wrap(self, availWidth, availHeight):  # noqa: N803 - reportlab's names
        self.width, self.height = self._build(availWidth).wrap(availWidth, availHeight)
        return self.width, self.height

    def split(self, availWidth, availHeight):  # noqa: N803
        return self._build(availWidth).split(availWidth, availHeight)

    def draw(self):
        self._para.drawOn(self.canv, 0, 0)

    def getSpaceBefore(self):  # noqa: N802
        return self.style.spaceBefore

    def getSpaceAfter(self):  # noqa: N802
        return self.style.spaceAfter


# --- Text -------------------------------------------------------------------------------------


def _plain(text: object) -> str:
    """Characters the built-in font lacks (outside Windows-1252) become "?"."""
    value = _BIDI_CONTROLS.sub("", str(text if text is not None else ""))
    return value.encode("cp1252", "replace").decode("cp1252")


def _t(text: object) -> str:
    """Text for a Paragraph: markup escaped, unknown characters replaced."""
    return escape(_plain(text))


def _lines(lines: list[tuple[str, str]], style: str = "body", *, emphasis: str = "") -> Flowable:
    """Lines of (bold label, text) as one paragraph, in the reading direction.
    ``emphasis`` ("i") sets the text of every line but the first in italics."""
    if _rtl():
        return _RtlParagraph([(str(b), str(t)) for b, t in lines], _rtl_style(style))
    rows = []
    for number, (bold, text) in enumerate(lines):
        body = _t(text)
        if emphasis and number and body:
            body = f"<{emphasis}>{body}</{emphasis}>"
        rows.append(f"<b>{_t(bold)}</b> {body}".strip() if bold else body)
    return Paragraph("<br/>".join(rows), STYLES[style])


def _p(text: object, style: str = "body", *, bold_label: str | None = None) -> Flowable:
    return _lines([(bold_label or "", str(text if text is not None else ""))], style)


def _when(value) -> str:
    return formats.date_format(timezone.localtime(value), "l j F Y, H:i")


def _text_flowables(text: str) -> list:
    """Plain plan text (paragraphs, "- " bullets) as flowables."""
    out: list = []
    for kind, lines in text_blocks(text):
        if kind == "ul" and _rtl():
            # The bullet goes first in reading order: at the right.
            out += [_p(f"\u2022 {line}") for line in lines]
            out.append(Spacer(1, 6))
        elif kind == "ul":
            out.append(
                ListFlowable(
                    [ListItem(_p(line), leftIndent=18) for line in lines],
                    bulletType="bullet",
                    start="\u2022",
                    bulletFontName=FONT,
                    bulletFontSize=12,
                    leftIndent=18,
                    spaceAfter=6,
                )
            )
        else:
            out.append(_lines([("", line) for line in lines]))
            out.append(Spacer(1, 6))
    return out


def _content_flowables(obj, field: str = "body") -> list:
    """A content text in the reader's language version (careplan/content.py), with the
    same notes as on screen: Swedish shown for want of a version, or a draft translation."""
    shown = content.shown(obj, field)
    out: list = []
    if shown.fallback and shown.text:
        out.append(
            _p(
                _("This text is not yet available in your language. It is shown in Swedish."),
                "small",
            )
        )
    out += _text_flowables(shown.text)
    if shown.is_draft:
        out.append(_p(_("Translated text – ask your care team if anything is unclear"), "small"))
    return out


def _written_in(lang: str = content.ORIGINAL) -> str:
    """The note under a text the care team wrote, when it is not in the reader's language."""
    if lang == content.reader_language():
        return ""
    name = translation.get_language_info(lang)["name_translated"]
    return _("Written by your care team in %(language)s.") % {"language": name}


def _urgent_box(unit) -> Table:
    lines = [_p(_("If something is urgent"), "h3")]
    if unit is not None and unit.phone:
        # Written by the care team, maybe in another script: kept whole, in its own direction.
        reach = f" {FSI}({unit.reachable}){PDI}" if unit.reachable else ""
        lines.append(
            _p(
                _("Call your care unit, %(unit)s: %(phone)s%(reach)s.")
                % {"unit": unit.name, "phone": _ltr(unit.phone), "reach": reach}
            )
        )
    else:
        lines.append(_p(_("Call your care unit.")))
    lines.append(_p(_("For medical advice at any time, call 1177.")))
    emergency = _("In an emergency, call 112.")  # outside the f-string: makemessages skips those
    lines.append(_p("", bold_label=emergency))
    box = Table([[lines]], colWidths=["100%"])
    box.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 12),
                ("BOX", (0, 0), (-1, -1), 2, URGENT_BORDER),
                ("BACKGROUND", (0, 0), (-1, -1), URGENT_BG),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
            ]
        )
    )
    return box


def _events_table(events: list[CalendarEvent]) -> Table:
    rows = [
        [
            _p(_("When"), "cell_head"),
            _p(_("What"), "cell_head"),
            _p(_("Where"), "cell_head"),
        ]
    ]
    for e in events:
        what = [("", f"{e.get_kind_display()}: {e.title}")] + ([("", e.note)] if e.note else [])
        rows.append(
            [
                _p(_when(e.starts_at), "cell"),
                _lines(what, "cell", emphasis="i"),
                _p(e.location or "–", "cell"),
            ]
        )
    widths = [5.2 * cm, 7 * cm, 4.8 * cm]
    if _rtl():  # the first column at the right
        rows = [row[::-1] for row in rows]
        widths = widths[::-1]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 12),
                ("GRID", (0, 0), (-1, -1), 0.75, colors.HexColor("#7a7a7a")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3eef3")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def _canvas_with_footer(footer: str, page_label: str, *, rtl: bool = False):
    """A canvas that writes "<footer> · Page X of Y" at the foot of every page (mirrored
    in a right-to-left language: the footer at the right, the page number at the left)."""

    class FooterCanvas(canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self.setFont(RTL_FONT if rtl else FONT, 12)
                self.setFillColor(INK)
                page = page_label % {"page": number, "total": total}
                if rtl:
                    self.drawRightString(A4[0] - 2 * cm, 1.2 * cm, _visual(footer))
                    self.drawString(2 * cm, 1.2 * cm, _visual(page))
                else:
                    self.drawString(2 * cm, 1.2 * cm, footer)
                    self.drawRightString(A4[0] - 2 * cm, 1.2 * cm, page)
                super().showPage()
            super().save()

    return FooterCanvas


# Part of every document's fingerprint: change it when the layout or its texts change, and
# every kept document is built again on its next print.
LAYOUT_VERSION = "3"  # 2: right-to-left layout for Arabic; 3: content language versions


@dataclass
class _Inputs:
    """Everything a document shows, read once: hashed for the fingerprint, then laid out."""

    nurse: ContactNurseAssignment | None
    unit: CareUnit | None
    events: list[CalendarEvent]
    sections: list[PlanSection]
    printed: str


def plan_pdf(plan: CarePlan, *, language: str, scopes: Collection[str] | None = None) -> bytes:
    """The whole plan as a PDF. ``scopes`` limits a relative's copy to the shared parts
    (None: everything, for the patient and the care team).

    The document is kept in the database (``PlanDocument``) under a fingerprint of what it
    shows: printed again with nothing changed, the kept one is served without layout work.
    The caller has checked access; a kept document is never served without that check."""
    shown = frozenset(Scope.values if scopes is None else scopes)
    with translation.override(language):
        inputs = _inputs(plan, shown)
        variant = f"{language}:{','.join(sorted(shown))}"
        fingerprint = _fingerprint(plan, shown, variant, inputs)
        kept = _kept(plan_id=plan.pk, variant=variant, fingerprint=fingerprint)
        if kept:
            return bytes(kept[0])
        data = _build(plan, shown, inputs)
    try:
        with transaction.atomic():
            PlanDocument.objects.update_or_create(
                plan=plan,
                variant=variant,
                defaults={"fingerprint": fingerprint, "pdf": data, "created_at": timezone.now()},
            )
    except IntegrityError:
        pass  # another request stored the same plan at the same moment: theirs is kept
    return data


# What a document shows, read by queries compiled once per process (careplan.prepared):
# a reprint of an unchanged plan, the common case, does no more than read them and the
# kept document. "Upcoming" is by the database's clock (Now()), as the plan page's.
_kept = prepared(
    lambda plan_id, variant, fingerprint: (
        PlanDocument.objects.filter(plan_id=plan_id, variant=variant, fingerprint=fingerprint)
        .order_by("pk")
        .values_list("pdf", flat=True)[:1]
    )
)
_nurse = prepared(
    lambda patient_id: (
        ContactNurseAssignment.objects.filter(patient_id=patient_id, ended_on__isnull=True)
        .select_related("nurse", "unit")
        .order_by("-started_on", "-id")[:1]  # Patient.contact_nurse_assignment()
    )
)
_relation = prepared(
    lambda patient_id: (
        CareRelation.objects.filter(patient_id=patient_id, ended_at__isnull=True)
        .select_related("unit")
        .order_by("-started_at")[:1]  # Patient.responsible_relation()
    )
)
_events = prepared(
    lambda plan_id: (
        CalendarEvent.objects.filter(plan_id=plan_id)
        .filter(Q(ends_at__gte=Now()) | Q(ends_at__isnull=True, starts_at__gte=Now()))
        .order_by("starts_at", "id")[:UPCOMING_EVENTS_PRINTED]
    )
)
_sections = prepared(
    lambda plan_id: PlanSection.objects.filter(plan_id=plan_id).order_by("order", "id")
)


def _inputs(plan: CarePlan, shown: frozenset[str]) -> _Inputs:
    nurse = unit = None
    if Scope.CONTACT_NURSE in shown:
        nurse = next(iter(_nurse(patient_id=plan.patient_id)), None)
        if nurse is not None:
            unit = nurse.unit
        else:
            relation = next(iter(_relation(patient_id=plan.patient_id)), None)
            unit = relation.unit if relation else None
    events: list[CalendarEvent] = []
    if Scope.CALENDAR in shown:
        events = _events(plan_id=plan.pk)
    sections: list[PlanSection] = []
    if Scope.PLAN_SECTIONS in shown:
        sections = _sections(plan_id=plan.pk)
        for section in sections:
            section.plan = plan  # as plan.sections.all() gives them
    printed = formats.date_format(timezone.localdate(), "j F Y")
    return _Inputs(nurse=nurse, unit=unit, events=events, sections=sections, printed=printed)


def _fields(obj, names: tuple[str, ...] | None = None) -> list:
    """The stored values of a row (every one, or ``names``; None for no row)."""
    if obj is None:
        return [None]
    attnames = names or tuple(f.attname for f in obj._meta.concrete_fields)
    return [obj._meta.label, *(getattr(obj, name) for name in attnames)]


# Of the patient and the nurse, only what is printed: a patient's visit to the plan page
# (last_seen_plan_at) or a nurse's login (last_login) must not make a new document.
PATIENT_SHOWN = ("id", "first_name", "last_name", "personnummer")
NURSE_SHOWN = ("id", "first_name", "last_name", "title", "email")


def _fingerprint(plan: CarePlan, shown: frozenset[str], variant: str, inputs: _Inputs) -> str:
    nurse = inputs.nurse
    parts = [
        LAYOUT_VERSION,
        variant,
        inputs.printed,
        _fields(plan),
        _fields(plan.patient, PATIENT_SHOWN),
        _fields(nurse),
        _fields(nurse.nurse if nurse is not None else None, NURSE_SHOWN),
        _fields(inputs.unit),
        [_fields(e) for e in inputs.events],
        [_fields(s) for s in inputs.sections],
    ]
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def _build(plan: CarePlan, shown: frozenset[str], inputs: _Inputs) -> bytes:
    rtl = _rtl()
    if rtl:
        _register_rtl_fonts()
    patient = plan.patient
    nurse, unit = inputs.nurse, inputs.unit
    printed = inputs.printed
    story: list = [
        _p(plan.title or _("My care plan"), "title"),
        Spacer(1, 4),
        _p(f"{patient.name}, {_ltr(patient.personnummer_masked)}", bold_label=_("For:")),
        _p(printed, "small", bold_label=_("Printed:")),
    ]
    if plan.diagnosis and Scope.PLAN_SECTIONS in shown:
        story.append(_p(plan.diagnosis, bold_label=_("Diagnosis:")))
    story.append(_p(phase_text(plan), bold_label=_("Now:")))
    story.append(_p(status_text(plan)))
    story += [Spacer(1, 10), _urgent_box(unit)]

    if Scope.CONTACT_NURSE in shown:
        story.append(_p(_("Your contact nurse"), "h2"))
        if nurse is not None:
            title = f", {nurse.nurse.title}" if nurse.nurse.title else ""
            card = [
                _p(f"{nurse.nurse.get_full_name() or nurse.nurse}{title}", "h3"),
                _p(_ltr(nurse.phone) or "–", bold_label=_("Phone:")),
            ]
            if nurse.when_reachable:
                card.append(_p(nurse.when_reachable, bold_label=_("Reachable:")))
            card.append(
                _p(
                    f"{nurse.unit.name}"
                    + (f", {_ltr(nurse.unit.phone)}" if nurse.unit.phone else ""),
                    bold_label=_("Unit:"),
                )
            )
            story.append(KeepTogether(card))
        else:
            story.append(_p(_("No contact nurse has been named yet. Call your care unit.")))
            if unit is not None:
                story.append(_p(f"{unit.name} {_ltr(unit.phone)}".strip(), bold_label=_("Unit:")))

    if Scope.CALENDAR in shown:
        events = inputs.events
        story.append(_p(_("What is next"), "h2"))
        if events:
            story.append(_events_table(events))
        else:
            story.append(_p(_("Nothing is booked in the calendar yet.")))

    if Scope.PLAN_SECTIONS in shown:
        for section in inputs.sections:
            story.append(_p(section.title, "h2"))
            if section.personal_note:
                from_team = _("From your care team:")
                note = [(from_team, "")] + [
                    ("", line) for line in section.personal_note.splitlines()
                ]
                written_in = _written_in()
                if written_in:
                    note.append(("", written_in))
                story.append(_lines(note, "note"))
            story += _content_flowables(section)
        if plan.treatment_summary:
            story.append(_p(_("Summary of diagnosis and treatment"), "h2"))
            story += _text_flowables(plan.treatment_summary)
        if plan.followup_plan:
            story.append(_p(_("Follow-up plan"), "h2"))
            story += _text_flowables(plan.followup_plan)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=2 * cm,
        bottomMargin=2.2 * cm,
        title=plan.title or _("My care plan"),
        author="careplan",
        lang=translation.get_language(),
    )
    text = (lambda value: value) if rtl else _plain
    footer = text(f"{patient.name} – {plan.title}")[:70]
    printed_label = _("Printed")
    doc.build(
        story,
        canvasmaker=_canvas_with_footer(
            footer=text(f"{footer} · {printed_label} {printed}"),
            page_label=text(_("Page %(page)s of %(total)s")),
            rtl=rtl,
        ),
    )
    return buffer.getvalue()
