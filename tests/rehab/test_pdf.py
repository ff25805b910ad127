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
