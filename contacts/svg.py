"""The care map as a picture: a server-rendered, accessible SVG.

Concentric circles with the patient in the centre; each person or care contact sits on the
circle of its closeness (inner, middle, outer), people on the left half and care contacts
on the right half; the line to the centre shows how often (solid thick: daily, dashed:
weekly, dotted: now and then) and its arrows who cares for whom. The picture has a
``<title>`` and ``<desc>``; the page shows the same content as a list (the alternative).

No inline ``style`` (the CSP forbids it): only SVG presentation attributes. Works from a
snapshot (``CareMapEntry.as_snapshot``) so earlier versions draw the same way.

In a right-to-left language (Arabic) the picture is mirrored: people on the right (where
reading starts), care contacts on the left; every x goes through ``mirror`` and the root
says ``direction="rtl"``, so each text's anchor keeps hugging the same side.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext as _

from .models import Closeness, Direction, EntryKind, Frequency

SIZE = 680
CENTRE = SIZE / 2
RADIUS = {Closeness.INNER: 115, Closeness.MIDDLE: 195, Closeness.OUTER: 265}
RING_FILL = {Closeness.INNER: "#e8f1fb", Closeness.MIDDLE: "#f1f6fc", Closeness.OUTER: "#f8fafd"}
LINE = {
    Frequency.DAILY: {"stroke-width": "4", "stroke-dasharray": None},
    Frequency.WEEKLY: {"stroke-width": "2.5", "stroke-dasharray": "10 6"},
    Frequency.SOMETIMES: {"stroke-width": "2", "stroke-dasharray": "2 6"},
}
# Half-circles (degrees, 0 = right, counter-clockwise as in mathematics; y grows down).
HALF = {EntryKind.PERSON: (100.0, 260.0), EntryKind.CARE_CONTACT: (-80.0, 80.0)}
INK = "#1b1b1b"
PERSON_FILL = "#ffffff"
CONTACT_FILL = "#fff4d6"
FLAG = "#b3261e"


def _attrs(**values) -> str:
    return " ".join(
        f'{k.replace("_", "-")}="{escape(v)}"' for k, v in values.items() if v is not None
    )


def _short(text: str, n: int = 18) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def positions(entries: list[dict]) -> list[tuple[dict, float, float]]:
    """Where each entry goes: its ring by closeness, its half by kind; within a half the
    entries are spread evenly (closest first), so no two share a direction."""
    order = {Closeness.INNER: 0, Closeness.MIDDLE: 1, Closeness.OUTER: 2}
    halves: dict[str, list[dict]] = {}
    for e in entries:
        kind = e.get("kind") if e.get("kind") in HALF else EntryKind.PERSON
        halves.setdefault(kind, []).append(e)
    placed = []
    for kind, group in halves.items():
        group = sorted(group, key=lambda e: order.get(e.get("closeness"), 1))
        start, end = HALF[kind]
        step = (end - start) / (len(group) + 1)
        for i, e in enumerate(group, start=1):
            r = RADIUS.get(e.get("closeness"), RADIUS[Closeness.MIDDLE])
            angle = math.radians(start + i * step)
            x = CENTRE + r * math.cos(angle)
            y = CENTRE - r * math.sin(angle)
            placed.append((e, round(x, 1), round(y, 1)))
    return placed


def describe(entry: dict) -> str:
    """One line in words: the same text the list alternative shows."""
    labels_kind = dict(EntryKind.choices)
    labels_close = dict(Closeness.choices)
    labels_dir = dict(Direction.choices)
    labels_freq = dict(Frequency.choices)
    parts = [entry.get("name", "")]
    if entry.get("relation"):
        parts.append(entry["relation"])
    parts.append(str(labels_kind.get(entry.get("kind"), "")))
    parts.append(str(labels_close.get(entry.get("closeness"), "")))
    parts.append(str(labels_dir.get(entry.get("direction"), "")))
    parts.append(str(labels_freq.get(entry.get("frequency"), "")))
    if entry.get("is_child"):
        parts.append(_("a child"))
    if entry.get("needs_support"):
        parts.append(_("needs support themselves"))
    return ", ".join(p for p in parts if p)


def render(
    entries: Iterable[dict],
    *,
    patient_name: str,
    ident: str = "care-map",
    rtl: bool | None = None,
) -> SafeString:
    """The SVG markup for a care map (a list of snapshot dicts); ``rtl``: mirrored for a
    right-to-left reader (default: the active language's)."""
    entries = list(entries)
    rtl = get_language_bidi() if rtl is None else rtl

    def mirror(x: float) -> float:
        return round(SIZE - x, 1) if rtl else x

    title = _("Care map of %(name)s") % {"name": patient_name}
    people = sum(1 for e in entries if e.get("kind") == EntryKind.PERSON)
    contacts = len(entries) - people
    if rtl:
        desc = _(
            "Concentric circles with %(name)s in the centre: closest people in the inner "
            "circle. %(people)d people on the right, %(contacts)d care contacts on the left. "
            "Solid thick lines: daily contact, dashed: weekly, dotted: now and then. "
            "The same content is listed below the picture."
        )
    else:
        desc = _(
            "Concentric circles with %(name)s in the centre: closest people in the inner circle. "
            "%(people)d people on the left, %(contacts)d care contacts on the right. "
            "Solid thick lines: daily contact, dashed: weekly, dotted: now and then. "
            "The same content is listed below the picture."
        )
    desc %= {"name": patient_name, "people": people, "contacts": contacts}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" '
        f'class="care-map__svg" role="img" aria-labelledby="{ident}-title {ident}-desc" '
        f'id="{ident}" focusable="false" direction="{"rtl" if rtl else "ltr"}">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
        "<defs>",
        f'<marker id="{ident}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="16" '
        f'markerHeight="16" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" '
        f'fill="{INK}"/></marker>',
        "</defs>",
    ]
    # Rings, outer first so the inner ones paint on top.
    for closeness in (Closeness.OUTER, Closeness.MIDDLE, Closeness.INNER):
        out.append(
            f"<circle {_attrs(cx=CENTRE, cy=CENTRE, r=RADIUS[closeness])} "
            f'fill="{RING_FILL[closeness]}" stroke="#8aa4c2" stroke-width="1.5"/>'
        )
    # The halves' labels.
    out.append(
        f'<text x="{mirror(24)}" y="30" font-size="21" font-family="sans-serif" '
        f'fill="{INK}" class="care-map__half care-map__half--person">'
        f"{escape(_('People'))}</text>"
    )
    out.append(
        f'<text x="{mirror(SIZE - 24)}" y="30" font-size="21" font-family="sans-serif" '
        f'text-anchor="end" fill="{INK}" class="care-map__half care-map__half--care_contact">'
        f"{escape(_('Care contacts'))}</text>"
    )
    placed = [(e, mirror(x), y) for e, x, y in positions(entries)]
    # Lines first, then the nodes over them.
    for e, x, y in placed:
        line = LINE.get(e.get("frequency"), LINE[Frequency.SOMETIMES])
        direction = e.get("direction")
        marker = f"url(#{ident}-arrow)"
        start = marker if direction in (Direction.CARES_FOR_PATIENT, Direction.BOTH) else None
        end = marker if direction in (Direction.CARED_FOR_BY_PATIENT, Direction.BOTH) else None
        # From the edge of the patient's circle to the edge of the node.
        dx, dy = x - CENTRE, y - CENTRE
        dist = math.hypot(dx, dy) or 1
        x1, y1 = CENTRE + dx / dist * 52, CENTRE + dy / dist * 52
        x2, y2 = x - dx / dist * 28, y - dy / dist * 28
        out.append(
            "<line "
            + _attrs(
                x1=round(x1, 1),
                y1=round(y1, 1),
                x2=round(x2, 1),
                y2=round(y2, 1),
                stroke=INK,
                marker_start=start,
                marker_end=end,
                stroke_linecap="round",
                **line,
            )
            + f' class="care-map__line care-map__line--{escape(e.get("frequency", ""))}"/>'
        )
    # The patient.
    out.append(
        f'<g class="care-map__patient"><circle {_attrs(cx=CENTRE, cy=CENTRE, r=48)} '
        f'fill="#0b5cad"/><text x="{CENTRE}" y="{CENTRE + 6}" text-anchor="middle" '
        f'font-size="20" font-weight="bold" font-family="sans-serif" fill="#ffffff">'
        f"{escape(_short(patient_name, 12))}</text></g>"
    )
    for e, x, y in placed:
        flagged = e.get("kind") == EntryKind.PERSON and (
            e.get("is_child") or e.get("needs_support")
        )
        out.append(f'<g class="care-map__node care-map__node--{escape(e.get("kind", ""))}">')
        out.append(f"<title>{escape(describe(e))}</title>")
        if flagged:
            out.append(
                f'<circle {_attrs(cx=x, cy=y, r=29)} fill="none" stroke="{FLAG}" '
                'stroke-width="3" stroke-dasharray="5 3"/>'
            )
        if e.get("kind") == EntryKind.CARE_CONTACT:
            out.append(
                f"<rect {_attrs(x=x - 21, y=y - 21, width=42, height=42, rx=6)} "
                f'fill="{CONTACT_FILL}" stroke="{INK}" stroke-width="2"/>'
            )
        else:
            out.append(
                f'<circle {_attrs(cx=x, cy=y, r=22)} fill="{PERSON_FILL}" stroke="{INK}" '
                'stroke-width="2"/>'
            )
        initial = (e.get("name") or "?")[:1].upper()
        out.append(
            f'<text x="{x}" y="{y + 7}" text-anchor="middle" font-size="20" '
            f'font-family="sans-serif" fill="{INK}">{escape(initial)}</text>'
        )
        label = _short(e.get("name", ""))
        half = len(label) * 5.5  # about half the label's width at this size
        lx = round(min(max(x, half + 4), SIZE - half - 4), 1)  # kept inside the picture
        out.append(
            f'<text x="{lx}" y="{y + 46}" text-anchor="middle" font-size="19" '
            f'font-family="sans-serif" fill="{INK}">{escape(label)}</text>'
        )
        out.append("</g>")
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
