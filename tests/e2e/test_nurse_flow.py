"""The contact nurse in the admin, in a real browser: log in with password and TOTP,
individualise the patient's plan; then the patient, in a browser of their own, sees
what changed and who read the record."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import expect

from careplan.models import AccessLog, Patient, PlanSection

from .conftest import DESKTOP, NURSE_TOTP_SECRET, login_password, login_totp

NOTE = "Call us straight away if you get a fever over 38 degrees."
FOLLOWUP = "A visit to the clinic three months after the last treatment."


def test_nurse_logs_in_with_totp_and_edits_the_plan_the_patient_sees_the_change(
    new_browsing, people
):
    plan = people.plan
    # The patient has looked at the plan before: the start page shows what is new since.
    Patient.objects.filter(pk=people.patient.pk).update(
        last_seen_plan_at=timezone.now() - dt.timedelta(days=1)
    )

    nurse = new_browsing(viewport=DESKTOP)
    page = nurse.page

    # Password first, then the TOTP code at allauth's second step.
    login_password(nurse, people.nurse.email)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    expect(page).not_to_have_url(re.compile(r"/admin/"))
    login_totp(nurse, NURSE_TOTP_SECRET)
    expect(page).to_have_url(re.compile(r"/admin/$"))
    nurse.shot("nurse-admin-index")

    # The plan, through the admin's own navigation.
    page.locator("#content").get_by_role("link", name="Care plans", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/careplan/careplan/"))
    page.locator("#result_list").get_by_role("link", name=plan.title).click()
    expect(page).to_have_url(re.compile(rf"/admin/careplan/careplan/{plan.pk}/change/$"))
    expect(page.locator("#content")).to_contain_text("Alva Andersson")

    # A section's personal note (the sections are folded away) and the follow-up plan.
    page.locator("#sections-group summary").first.click()
    section = page.locator("#sections-group .inline-related", has_text="Section treatment")
    section.locator("textarea[name$='-personal_note']").fill(NOTE)
    page.locator("textarea[name=followup_plan]").fill(FOLLOWUP)
    nurse.shot("nurse-plan-change")
    with page.expect_navigation():
        page.locator("input[name=_continue]").click()

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.locator("textarea[name=followup_plan]")).to_have_value(FOLLOWUP)
    expect(page.locator("#changes-group")).to_contain_text(
        "The section “Section treatment” was updated."
    )
    assert PlanSection.objects.get(plan=plan, key="treatment").personal_note == NOTE
    nurse.assert_no_browser_errors()

    # The patient, in a browser of their own, sees what changed ...
    patient = new_browsing()
    ppage = patient.page
    login_password(patient, people.patient_user.email)
    expect(ppage).to_have_url(re.compile(rf"/plan/{plan.pk}/$"))
    changes = ppage.locator(".change-list")
    expect(changes).to_contain_text("The section “Section treatment” was updated.")
    expect(changes).to_contain_text("Your care plan was updated: follow-up plan.")
    expect(changes).to_contain_text("Karin Kontakt")
    expect(ppage.locator(".prose", has_text=FOLLOWUP)).to_be_visible()
    patient.shot("patient-plan-start-changed")

    # ... reads the new note first in the section ...
    changes.locator("li", has_text="Section treatment").get_by_role("link", name="Read").click()
    expect(ppage).to_have_url(re.compile(rf"/plan/{plan.pk}/section/treatment/$"))
    expect(ppage.locator(".personal-note")).to_contain_text(NOTE)

    # ... and who read the record: the nurse, through the admin.
    patient.goto("/me/access-log/")
    expect(ppage.locator(".log-day").first).to_contain_text("Karin Kontakt")
    assert AccessLog.objects.filter(
        patient=people.patient, user=people.nurse, channel=AccessLog.Channel.ADMIN
    ).exists()
    patient.assert_no_browser_errors()


def test_staff_cannot_reach_the_admin_without_the_totp_step(new_browsing, people):
    b = new_browsing(viewport=DESKTOP)
    login_password(b, people.nurse.email)
    expect(b.page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    # Skipping the second step does not open the admin.
    b.goto("/admin/")
    expect(b.page).not_to_have_url(re.compile(r"/admin/$"))
    expect(b.page.locator("input[name=password], input[name=code]").first).to_be_visible()
