"""Trend charts as server-rendered SVG: no JavaScript, no inline style (CSP), a title
and description for screen readers; the page shows the same figures as a table.

In a right-to-left language (Arabic) the chart is mirrored: time runs from right to left,
the value axis and its labels are on the right. Every x is drawn through ``mirror`` and
the root says ``direction="rtl"``, so a text's ``text-anchor`` (start/end, which follow the
direction) still hugs the same side of the plot as in the left-to-right chart."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Sequence

from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, get_language_bidi

# Drawn at about its own size on a phone (a 360 px screen leaves ~330 px), so the 12-unit
# text stays at least 12 px there; the stylesheet caps the width on larger screens.
WIDTH, HEIGHT = 320, 200
LEFT, RIGHT, TOP, BOTTOM = 30, 8, 12, 34


def escape(text) -> str:
    """Django's ``escape`` without its lazy-string wrapper (the same text: a chart escapes
    a date per point)."""
    return html.escape(str(text))


def _fmt(value: float) -> str:
    """A value as the active language writes numbers (one decimal at most: 4,5 in
    Swedish and Finnish)."""
    value = round(float(value), 1)
    return str(int(value)) if value == int(value) else number_format(value, 1)


# Language -> the twelve short month names (``date_format(d, "M")``), once per process.
_SHORT_MONTHS: dict[str, list[str]] = {}


def month_names(*, escaped: bool = False) -> list[str]:
    """The twelve short month names (``date_format(d, "M")``) of the active language,
    looked up once per process; ``escaped``: each HTML-escaped."""
    lang = get_language() or ""
    key = f"{lang}:html" if escaped else lang
    months = _SHORT_MONTHS.get(key)
    if months is None:
        if escaped:
            months = [escape(m) for m in month_names()]
        else:
            months = [str(date_format(dt.date(2000, m, 1), "M")) for m in range(1, 13)]
        _SHORT_MONTHS[key] = months
    return months


def day_label(*, escaped: bool = False) -> Callable[[dt.date], str]:
    """``date_format(d, "j M Y")`` for the active language, with the twelve month names
    looked up once per language: a chart of 200 answers formats 200 dates twice (chart
    and table). ``escaped``: HTML-escaped, as ``escape(label(d))`` (only the month name
    can hold a character to escape: the rest is digits and spaces)."""
    months = month_names(escaped=escaped)
    tz = timezone.get_current_timezone()  # once, not once per date (a thread-local lookup)

    def label(d: dt.date) -> str:
        # The day in Europe/Stockholm: an answer at 00:15 on the 30th shows on the 30th.
        if isinstance(d, dt.datetime) and d.utcoffset() is not None:
            d = d.astimezone(tz)
        return f"{d.day} {months[d.month - 1]} {d.year}"

    return label


def trend_svg(
    points: Sequence[tuple[dt.datetime, float]],
    *,
    lo: float,
    hi: float,
    thresholds: Sequence[tuple[float, str]] = (),
    title: str,
    desc: str,
    chart_id: str,
    rtl: bool | None = None,
) -> SafeString:
    """A line over time with dots, y from ``lo`` to ``hi``, thresholds as dashed lines;
    each point's date written as ``day_label()`` writes it (in local time).
    ``rtl``: mirrored for a right-to-left reader (default: the active language's)."""
    label = day_label(escaped=True)
    return labelled_svg(
        [(when, value, label(when)) for when, value in points],
        lo=lo,
        hi=hi,
        thresholds=thresholds,
        title=title,
        desc=desc,
        chart_id=chart_id,
        rtl=rtl,
    )


def labelled_svg(
    points: Sequence[tuple[dt.datetime, float, str]],
    *,
    lo: float,
    hi: float,
    thresholds: Sequence[tuple[float, str]] = (),
    title: str,
    desc: str,
    chart_id: str,
    rtl: bool | None = None,
) -> SafeString:
    """``trend_svg`` of points given as (local time, value, its day label escaped): a
    page that writes each day label anyway (the trend page's table) hands it over rather
    than have it looked up again per point."""
    rtl = get_language_bidi() if rtl is None else rtl
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (hi - lo) or 1

    def mirror(x: float) -> str:
        return f"{(WIDTH - x) if rtl else x:.1f}"

    def y(value: float) -> float:
        value = min(max(value, lo), hi)
        return TOP + plot_h - (value - lo) / span * plot_h

    parts = [
        f'<svg class="trend-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" direction="{"rtl" if rtl else "ltr"}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f'<rect x="{RIGHT if rtl else LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" '
        'fill="#ffffff" stroke="#6b6b6b" stroke-width="1"/>',
    ]
    step = 1 if span <= 10 else max(1, round(span / 5))
    tick = lo
    while tick <= hi:
        parts.append(
            f'<text x="{mirror(LEFT - 6)}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="12" '
            f'fill="#1a1a1a">{_fmt(tick)}</text>'
        )
        tick += step * (2 if span == 10 else 1)
    for value, label in thresholds:
        ty = y(value)
        parts.append(
            f'<line x1="{mirror(LEFT)}" x2="{mirror(LEFT + plot_w)}" y1="{ty:.1f}" y2="{ty:.1f}" '
            'stroke="#a4262c" stroke-width="1.5" stroke-dasharray="6 4"/>'
            f'<text x="{mirror(LEFT + plot_w - 4)}" y="{ty - 4:.1f}" text-anchor="end" '
            f'font-size="12" fill="#a4262c">{escape(label)}</text>'
        )
    if not points:
        parts.append("</svg>")
        return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
    # The line's coordinates and the dots in one pass; a scale has a few distinct values,
    # each one's y and text written once.
    first, last = points[0][0], points[-1][0]
    total = (last - first).total_seconds() or 1
    single = len(points) == 1
    shown: dict = {}
    line, dots = [], []
    for when, value, day in points:
        x = LEFT + (plot_w / 2 if single else (when - first).total_seconds() / total * plot_w)
        xx = f"{(WIDTH - x) if rtl else x:.1f}"  # as mirror()
        found = shown.get(value)
        if found is None:
            found = shown[value] = (f"{y(value):.1f}", _fmt(value))
        yy, text = found
        line.append(f"{xx},{yy}")
        dots.append(
            f'<circle cx="{xx}" cy="{yy}" r="4.5" fill="#005ea5"><title>{day}: {text}</title></circle>'
        )
    if not single:
        parts.append(
            f'<polyline points="{" ".join(line)}" fill="none" stroke="#005ea5" stroke-width="2.5"/>'
        )
    parts += dots
    for x, day in ((LEFT, points[0][2]), (LEFT + plot_w, points[-1][2])):
        anchor = "start" if x == LEFT else "end"
        parts.append(
            f'<text x="{mirror(x)}" y="{HEIGHT - 12}" text-anchor="{anchor}" font-size="12" '
            f'fill="#1a1a1a">{day}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
