"""The printed plan in Arabic (issue 14): joined letters, right-to-left lines, and Swedish
names, phone numbers and dates that keep their order inside Arabic sentences. Read back
with poppler's ``pdftotext`` (Debian's poppler-utils; .ci/run installs it), which returns
each Arabic run in logical order; presentation forms are folded back with NFKC."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import unicodedata

import pytest

from careplan.pdf import plan_pdf
from tests.careplan.test_pdf import full_plan  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
PDFTOTEXT = shutil.which("pdftotext")
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(autouse=True)
def _needs_pdftotext():
    if PDFTOTEXT is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext not found (apt-get install poppler-utils)", pytrace=False)
        pytest.skip("pdftotext not found (apt-get install poppler-utils)")


def extracted_text(data: bytes) -> str:
    done = subprocess.run([PDFTOTEXT, "-", "-"], input=data, capture_output=True, check=True)
    return BIDI_CONTROLS.sub("", unicodedata.normalize("NFKC", done.stdout.decode()))


def lines_of(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def test_the_arabic_plan_reads_in_arabic_in_logical_order(full_plan):  # noqa: F811
    data = plan_pdf(full_plan, language="ar")

    text = extracted_text(data)
    lines = lines_of(text)
    # Whole headings and sentences, word by word in reading order (a reversed or unjoined
    # rendering gives the letters or words backwards).
    assert "ممرضتك المسؤولة" in lines  # Your contact nurse
    assert "ما هو التالي" in lines  # What is next
    assert "خطة المتابعة" in lines  # Follow-up plan
    assert "إذا كان الأمر عاجلا" in lines  # If something is urgent
    assert "اتصل بوحدة الرعاية الخاصة بك" in text  # Call your care unit
    assert "في حالة الطوارئ" in text and "اتصل بالرقم" in text
    # Swedish text from the care team and the unit stays Swedish, in its own order.
    assert "Bröstmottagningen" in text and "Ring mig efter första kuren" in text
    # (The brackets and the full stop around it sit at a line's ends, where pdftotext
    # places them by its guess of the page's direction: more Arabic on the page, such as
    # content in Arabic, changes the guess, not the drawing.)
    assert "Mån–fre 8–16" in text
    # Digits keep their order inside Arabic lines: phone numbers and dates.
    assert "010-000 00 01" in text and "010-000 00 00" in text
    assert re.search(r"\d{4}-\d{2}-\d{2}", text)  # the day the plan was established
    assert not re.search(r"\d{2}-\d{2}-\d{4}", text)  # not turned around
    # The bundled font with Arabic glyphs is embedded (a subset), for body and bold.
    assert b"+DejaVuSans" in data and b"+DejaVuSans-Bold" in data


def test_a_long_arabic_text_is_broken_into_lines_in_reading_order(full_plan):  # noqa: F811
    counting = [
        "واحد",
        "اثنان",
        "ثلاثة",
        "أربعة",
        "خمسة",
        "ستة",
        "سبعة",
        "ثمانية",
        "تسعة",
        "عشرة",
    ]  # one .. ten
    words = counting * 4
    full_plan.followup_plan = " ".join(words)
    full_plan.save(update_fields=["followup_plan"])

    lines = lines_of(extracted_text(plan_pdf(full_plan, language="ar")))

    start = lines.index("خطة المتابعة")
    printed = lines[start + 1 : start + 6]
    # Line after line, the words come back in the order written (the first line holds
    # the first words, not the last: lines are broken before they are reordered).
    assert printed[0].split()[:3] == ["واحد", "اثنان", "ثلاثة"]
    joined = " ".join(printed).split()
    assert joined[: len(words)] == words, printed
    assert sum(1 for line in printed if "خمسة" in line) >= 2  # it did wrap


def test_swedish_and_english_plans_keep_the_built_in_font(full_plan):  # noqa: F811
    data = plan_pdf(full_plan, language="sv")

    assert b"DejaVuSans" not in data
    assert "Din kontaktsjuksköterska" in extracted_text(data)
