"""The printed care plan (reportlab), without a PDF library: the page streams are
decompressed with zlib and their text operators read directly."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import re
import zlib
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from careplan import pdf as pdf_module
from careplan.models import AccessLog, PlanDocument
from careplan.pdf import plan_pdf
from tests.factories import CalendarEventFactory

pytestmark = pytest.mark.django_db


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


# --- The kept document (PlanDocument): printed again unchanged, no layout work ----------------


def _print(plan, **kwargs):
    plan.refresh_from_db()
    return plan_pdf(plan, language=kwargs.pop("language", "sv"), **kwargs)


def test_a_reprint_with_nothing_changed_serves_the_kept_document(cast, full_plan, monkeypatch):
    first = _print(cast.plan)
    assert PlanDocument.objects.filter(plan=cast.plan).count() == 1

    def no_layout(*args, **kwargs):
        raise AssertionError("laid out again although nothing changed")

    monkeypatch.setattr(pdf_module, "_build", no_layout)
    assert _print(cast.plan) == first


@pytest.mark.parametrize(
    "change",
    [
        "section_note",
        "plan_title",
        "new_event",
        "event_moved",
        "nurse_phone",
        "unit_phone",
        "patient_name",
        "next_day",
    ],
)
def test_every_change_that_shows_in_the_document_makes_a_new_one(cast, full_plan, change):
    before = pdf_text(_print(cast.plan))
    plan = cast.plan
    if change == "section_note":
        plan.sections.filter(key="treatment").update(personal_note="Ny anteckning från teamet.")
        expect = "Ny anteckning"
    elif change == "plan_title":
        plan.title = "Min nya plan"
        plan.save()
        expect = "Min nya plan"
    elif change == "new_event":
        CalendarEventFactory(
            plan=plan, title="Extra provtagning", starts_at=timezone.now() + dt.timedelta(days=5)
        )
        expect = "Extra provtagning"
    elif change == "event_moved":
        plan.events.filter(title="Cytostatika").update(location="Avdelning 7")
        expect = "Avdelning 7"
    elif change == "nurse_phone":
        assignment = plan.patient.contact_nurse_assignment()
        type(assignment).objects.filter(pk=assignment.pk).update(direct_phone="010-999 99 99")
        expect = "010-999 99 99"
    elif change == "unit_phone":
        assignment = plan.patient.contact_nurse_assignment()
        type(assignment.unit).objects.filter(pk=assignment.unit_id).update(phone="010-123 45 67")
        expect = "010-123 45 67"
    elif change == "patient_name":
        type(plan.patient).objects.filter(pk=plan.patient_id).update(last_name="Nyberg")
        expect = "Nyberg"
    else:  # a new day: printed date (and what is upcoming) change
        tomorrow = timezone.now() + dt.timedelta(days=1)
        with mock.patch("django.utils.timezone.now", return_value=tomorrow):
            after = pdf_text(_print(cast.plan))
        assert after != before
        assert PlanDocument.objects.filter(plan=plan).count() == 1
        return
    assert expect not in before
    after = pdf_text(_print(cast.plan))
    assert expect in after
    # One kept document per plan and variant: the old one was replaced.
    assert PlanDocument.objects.filter(plan=plan).count() == 1


def test_a_relatives_copy_and_each_language_are_kept_apart(cast, full_plan):
    patients = pdf_text(_print(cast.plan))
    relatives = pdf_text(_print(cast.plan, scopes={"calendar"}))
    english = pdf_text(_print(cast.plan, language="en"))
    assert PlanDocument.objects.filter(plan=cast.plan).count() == 3
    # Served again from what was kept, each is still its own document.
    assert pdf_text(_print(cast.plan, scopes={"calendar"})) == relatives
    assert "Ring mig efter första kuren." in patients
    assert "Ring mig efter första kuren." not in relatives
    assert pdf_text(_print(cast.plan, language="en")) == english != patients


def test_a_kept_document_is_served_only_after_the_access_check(cast, full_plan):
    url = reverse("plan_pdf", args=[cast.plan.pk])
    assert cast.client("patient").get(url).status_code == 200
    assert PlanDocument.objects.filter(plan=cast.plan).exists()
    for who in ("other_nurse", "stranger_relative"):
        assert cast.client(who).get(url).status_code == 404
    response = cast.client("anonymous").get(url)
    assert response.status_code == 302 and "pdf" not in response["Content-Type"]
    # The nurse's print is logged every time, kept document or not.
    client = cast.client("nurse")
    for _i in range(2):
        assert client.get(url).status_code == 200
    assert (
        AccessLog.objects.filter(user=cast.nurse, patient=cast.plan.patient, action="print").count()
        == 2
    )


def test_printing_the_kept_document_costs_a_fixed_number_of_queries(
    cast, full_plan, django_assert_num_queries
):
    client = cast.client("patient")
    url = reverse("plan_pdf", args=[cast.plan.pk])
    client.get(url)
    # 1 session, 2 user, 3 plan with patient and template, 4 contact nurse with nurse and
    # unit, 5 upcoming events, 6 sections, 7 the kept document
    with django_assert_num_queries(7):
        assert client.get(url).status_code == 200


def test_a_visit_or_a_login_that_changes_nothing_printed_keeps_the_document(
    cast, full_plan, monkeypatch
):
    first = _print(cast.plan)
    cast.client("patient").get(reverse("plan_detail", args=[cast.plan.pk]))  # last seen
    type(cast.nurse).objects.filter(pk=cast.nurse.pk).update(last_login=timezone.now())

    def no_layout(*args, **kwargs):
        raise AssertionError("laid out again although nothing printed changed")

    monkeypatch.setattr(pdf_module, "_build", no_layout)
    assert _print(cast.plan) == first
