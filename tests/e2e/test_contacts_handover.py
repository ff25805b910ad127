"""An active handover across both units and the patient, in a real browser: the sending
nurse starts it from the patient, the patient adds needs and wishes to the draft, the
nurse sends it, the receiving unit's nurse finds it on the worklist, is refused without a
contact nurse (keeping what was typed) and accepts; the patient's plan shows the handover
in progress and then the new unit and contact nurse; the sender's access has ended.
axe runs on the patient's pages."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from careplan.models import CareUnit
from contacts.models import Handover

from .conftest import (
    DESKTOP,
    NURSE_TOTP_SECRET,
    TOTP,
    Browsing,
    login_password,
    login_totp,
    verify_email,
)
from .test_accessibility import axe_violations

RECEIVER_TOTP_SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"


def _nurse(new_browsing, email: str, secret: str) -> Browsing:
    b = new_browsing(viewport=DESKTOP)
    login_password(b, email)
    login_totp(b, secret)
    expect(b.page).to_have_url(re.compile(r"/admin/$"))
    return b


def test_a_handover_from_the_clinic_to_primary_care_across_both_units(new_browsing, people):
    cast = people
    receiving = cast.other_unit
    receiving.name, receiving.kind = "Vårdcentralen Exempelby", CareUnit.Kind.PRIMARY
    receiving.save()
    verify_email(cast.other_nurse)
    cast.other_nurse.language = "en"
    cast.other_nurse.save(update_fields=["language"])
    TOTP.activate(cast.other_nurse, RECEIVER_TOTP_SECRET)
    found: list[str] = []

    # --- The sending nurse starts a handover from the patient.
    sender = _nurse(new_browsing, cast.nurse.email, NURSE_TOTP_SECRET)
    page = sender.page
    sender.goto(f"/admin/careplan/patient/{cast.patient.pk}/change/")
    page.get_by_role("link", name="Start a handover").click()
    expect(page).to_have_url(re.compile(r"/admin/contacts/handover/add/\?patient="))
    page.locator("#id_to_unit").select_option(label="Vårdcentralen Exempelby (Primary care)")
    page.locator("#id_situation").fill("Treatment finished; follow-up moves to primary care.")
    page.locator("#id_recommendation").fill("Yearly mammography. Watch for lymphoedema.")
    page.locator(".submit-row input[type=submit]").click()
    expect(page.locator(".messagelist")).to_contain_text("The handover is saved as a draft.")
    handover = Handover.objects.get()
    sender.shot("handover-sender-draft")

    # --- The patient sees the draft and adds needs and wishes.
    patient = new_browsing()
    p = patient.page
    login_password(patient, cast.patient_user.email)
    patient.goto(f"/plan/{cast.plan.pk}/")
    expect(p.locator(".handover-card")).to_contain_text(
        "Your care team is preparing a handover to Vårdcentralen Exempelby"
    )
    found.extend(axe_violations(patient, "handover-patient-draft"))
    p.get_by_role("link", name="Add your needs and wishes").click()
    expect(p.locator("h1")).to_have_text("My needs and wishes")
    found.extend(axe_violations(patient, "handover-patient-needs"))
    p.locator("#id_needs_and_wishes").fill("I want to be seen at home when possible.")
    p.get_by_role("button", name="Save").click()
    expect(p).to_have_url(re.compile(rf"/plan/{cast.plan.pk}/$"))
    handover.refresh_from_db()
    assert handover.needs_and_wishes == "I want to be seen at home when possible."

    # --- The sender sends it; the patient sees it in progress.
    page.reload()
    page.get_by_role("link", name="Send to the receiving unit").click()
    # A page says what sending does before it is done (issue 10).
    expect(page.locator("#content")).to_contain_text("stays responsible until they accept")
    page.get_by_role("button", name="Yes, send the handover").click()
    expect(page.locator("#handover-state")).to_have_text("Sent")
    patient.goto(f"/plan/{cast.plan.pk}/")
    expect(p.locator(".handover-card")).to_contain_text(
        "Handover in progress to Vårdcentralen Exempelby"
    )
    found.extend(axe_violations(patient, "handover-patient-in-progress"))

    # --- The receiving unit finds it on the worklist, opens the summary and accepts.
    receiver = _nurse(new_browsing, cast.other_nurse.email, RECEIVER_TOTP_SECRET)
    r = receiver.page
    worklist = r.get_by_role("region", name="Waiting for the care team")
    expect(worklist).to_contain_text("Handover waiting for acceptance")
    expect(worklist).to_contain_text("Andersson, Alva")
    worklist.get_by_role("link", name=re.compile("Handover waiting for acceptance")).click()
    expect(r.locator("#content-main")).to_contain_text("I want to be seen at home when possible.")
    receiver.shot("handover-receiver-summary")
    r.get_by_role("link", name="Accept", exact=True).click()
    r.locator("#id_contact_how").fill("By phone with the patient")
    r.locator(".submit-row input[type=submit]").click()
    expect(r.locator(".errornote")).to_be_visible()
    expect(r.locator("#content-main")).to_contain_text("Name the patient's new contact nurse.")
    expect(r.locator("#id_contact_how")).to_have_value("By phone with the patient")
    r.locator("#id_contact_nurse").select_option(value=str(cast.other_nurse.pk))
    r.locator(".submit-row input[type=submit]").click()
    expect(r.locator(".messagelist")).to_contain_text("The handover is accepted.")
    expect(r.locator("#handover-state")).to_have_text("Accepted")

    # --- Responsibility moved; the patient sees the new unit and contact nurse.
    assert cast.patient.responsible_relation().unit == receiving
    assert cast.patient.contact_nurse_assignment().nurse == cast.other_nurse
    patient.goto(f"/plan/{cast.plan.pk}/")
    expect(p.locator(".handover-card")).to_contain_text(
        "Vårdcentralen Exempelby is now responsible"
    )
    expect(p.locator(".handover-card")).to_contain_text("The contact nurse is Olle Annan.")
    expect(p.locator(".contact-card")).to_contain_text("Olle Annan")
    found.extend(axe_violations(patient, "handover-patient-accepted"))

    # --- The sender's access has ended.
    response = sender.goto(f"/admin/contacts/handover/{handover.pk}/change/")
    assert response.status == 404

    patient.assert_no_browser_errors()
    receiver.assert_no_browser_errors()
    assert not found, f"{len(found)} serious/critical axe violations:\n" + "\n".join(found)
