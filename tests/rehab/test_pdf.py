"""The rehab plan on paper."""

from __future__ import annotations

import pytest

from rehab.pdf import rehab_plan_pdf
from tests.careplan.test_pdf import pdf_text

pytestmark = pytest.mark.django_db


def test_the_pdf_holds_goals_interventions_follow_up_and_advice(cast, rehab):
    text = pdf_text(rehab_plan_pdf(rehab, language="en"))
    for expected in (
        "Rehabilitation plan",
        "Alva Andersson",
        cast.patient.personnummer_masked,
        "Orka g",  # the goal (non-ASCII is escaped in the stream)
        "500 meter",
        "Fysioterapeutisk",
        "AU010",
        "Keep moving",
        "Not yet agreed.",
    ):
        assert expected in text, expected
    assert cast.patient.personnummer not in text


def test_the_pdf_is_in_swedish_by_default(cast, rehab):
    text = pdf_text(rehab_plan_pdf(rehab, language="sv"))
    assert "Rör på dig" in text or "R\xf6r p\xe5 dig" in text


def _text_shows(data: bytes) -> list[int]:
    """How many text strings each page draws (reportlab writes one stream per page)."""
    import base64
    import contextlib
    import re
    import zlib

    counts = []
    for raw in re.findall(rb"stream\r?\n(.*?)\s*endstream", data, re.S):
        raw = raw.strip()
        if raw.endswith(b"~>"):
            raw = base64.a85decode(raw[:-2])
        with contextlib.suppress(zlib.error):
            raw = zlib.decompress(raw)
        if b" Tf" in raw:  # a page's content (font streams have no text operators)
            counts.append(len(re.findall(rb"\) Tj|\] TJ", raw)))
    return counts


@pytest.mark.parametrize("goals", range(0, 24))
def test_no_page_holds_only_the_footer(cast, rehab, goals):
    # Issue 11: with some lengths the last page was blank but for the footer (a trailing
    # spacer that no longer fitted).
    from .conftest import add_goal

    for n in range(goals):
        add_goal(rehab, f"Mål nummer {n} " * 3)
    shows = _text_shows(rehab_plan_pdf(rehab, language="sv"))
    assert shows and min(shows) > 2, shows
