"""The printed care plan (reportlab), without a PDF library: the page streams are
decompressed with zlib and their text operators read directly."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import re
import zlib

import pytest
from django.urls import reverse
from django.utils import timezone

from careplan.models import AccessLog
from careplan.pdf import plan_pdf
from tests.factories import CalendarEventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pdf_text(data: bytes) -> str:
    """All content streams, decoded (reportlab writes ASCII85 over Flate), as text; the
    built-in fonts use cp1252."""
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)\s*endstream", data, re.S):
        raw = raw.strip()
        if raw.endswith(b"~>"):
            raw = base64.a85decode(raw[:-2])
        with contextlib.suppress(zlib.error):  # not every stream is compressed
            raw = zlib.decompress(raw)
        # Undo the string escapes: \ddd (octal, for non-ASCII) and \( \) \\.
        raw = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), raw)
        raw = re.sub(rb"\\([()\\])", rb"\1", raw)
        out.append(raw.decode("cp1252", "replace"))
    return "\n".join(out)


@pytest.fixture
def full_plan(cast):
    section = cast.plan.sections.get(key="treatment")
    section.personal_note = "Ring mig efter första kuren."
    section.body_sv = "Behandlingen ges på dagvården.\n\nTa med:\n- läkemedelslista\n- glasögon"
    section.save()
    cast.plan.followup_plan = "Återbesök efter tre månader."
    cast.plan.save()
    CalendarEventFactory(
        plan=cast.plan,
        title="Cytostatika",
        location="Dagvården",
        starts_at=timezone.now() + dt.timedelta(days=2),
    )
    CalendarEventFactory(
        plan=cast.plan, title="Förra besöket", starts_at=timezone.now() - dt.timedelta(days=9)
    )
    return cast.plan


def test_the_pdf_holds_everything_a_patient_needs_on_paper(cast, full_plan):
    data = plan_pdf(full_plan, language="sv")

    text = pdf_text(data)
    assert data.startswith(b"%PDF")
    assert "Alva Andersson" in text
    assert cast.patient.personnummer_masked in text
    assert cast.patient.personnummer not in text and cast.patient.personnummer not in str(data)
    assert "Karin Kontakt" in text and "010-000 00 01" in text and "Mån–tor 8–12" in text
    assert "Bröstmottagningen" in text
    assert "Cytostatika" in text and "Dagvården" in text
    assert "Förra besöket" not in text  # only what is coming up
    assert "Ring mig efter första kuren." in text
    assert "läkemedelslista" in text and "glasögon" in text
    assert "Återbesök efter tre månader." in text
    assert "1177" in text and "112" in text
    assert "Behandling: den tid då du får behandling." in text  # phase in plain words
    assert "Vårdplanen upprättades" in text
    assert "Från ditt vårdteam:" in text  # above the personal note
    assert "Ring 112 vid akut sjukdom eller skada." in text
    assert "Sida 1 av" in text and "Utskriven" in text  # footer


def test_the_pdf_uses_large_type_throughout(full_plan):
    text = pdf_text(plan_pdf(full_plan, language="sv"))

    sizes = [float(s) for s in re.findall(r"/F\d+ ([\d.]+) Tf", text)]
    assert sizes and min(sizes) >= 12


def test_a_relatives_copy_leaves_out_what_was_not_shared(cast, full_plan):
    text = pdf_text(plan_pdf(full_plan, language="sv", scopes={"plan_sections"}))

    assert "läkemedelslista" in text
    assert "Cytostatika" not in text
    assert "Karin Kontakt" not in text and "010-000 00 01" not in text


def test_the_pdf_is_served_inline_without_personnummer_and_logged_as_print(cast, full_plan):
    response = cast.client("nurse").get(reverse("plan_pdf", args=[full_plan.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and len(response.content) > 2000
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline;") and ".pdf" in disposition
    assert cast.patient.personnummer[:8] not in disposition
    assert "no-store" in response["Cache-Control"]
    row = AccessLog.objects.get(user=cast.nurse)
    assert (row.action, row.channel, row.outcome) == (
        AccessLog.Action.PRINT,
        AccessLog.Channel.PDF,
        AccessLog.Outcome.ALLOWED,
    )


def test_the_relative_gets_only_the_shared_parts_through_the_web(cast, full_plan):
    cast.grant.scopes = ["plan_sections"]
    cast.grant.save()

    response = cast.client("relative").get(reverse("plan_pdf", args=[full_plan.pk]))

    text = pdf_text(response.content)
    assert response.status_code == 200
    assert "läkemedelslista" in text
    assert "Cytostatika" not in text and "Karin Kontakt" not in text


def test_the_pdf_follows_the_language(full_plan):
    english = pdf_text(plan_pdf(full_plan, language="en"))

    assert "Your contact nurse" in english
    assert "Section treatment" in english  # the section's English title
    assert "In an emergency, call 112." in english and "Page 1 of" in english
    assert "Din kontaktsjuksköterska" not in english


def test_text_with_markup_characters_is_printed_as_typed(cast):
    cast.plan.followup_plan = "Värde < 5 & > 2 <b>inte fet</b> → pil"
    cast.plan.save()

    text = pdf_text(plan_pdf(cast.plan, language="sv"))

    assert "inte fet" in text
    assert "? pil" in text  # a character the built-in font lacks is replaced, not dropped
