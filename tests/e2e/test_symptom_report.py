"""The patient's side on a phone (390 px): report fever during chemotherapy and be told to
call the unit now with its number; the report is on the nurse's worklist once, however
often the form is sent. A new questionnaire shows in the to-do card and the
notifications. axe-core (no serious or critical violation) on each new page, sv and en."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from selfmonitor import services
from selfmonitor.models import Alert, SymptomReport

from .conftest import DESKTOP, NURSE_TOTP_SECRET, login_password, login_totp
from .test_accessibility import axe_violations


def test_fever_during_chemotherapy_says_call_now_and_reaches_the_worklist_once(
    new_browsing, people
):
    people.unit.phone = "010-111 22 33"
    people.unit.reachable = "Mon–Fri 8–16"
    people.unit.save()
    found: list[str] = []

    patient = new_browsing()  # 390 px
    page = patient.page
    login_password(patient, people.patient_user.email)
    expect(page).to_have_url(re.compile(rf"/plan/{people.plan.pk}/$"))
    with page.expect_navigation():
        page.get_by_role("link", name="Report a symptom").click()
    expect(page.get_by_role("heading", name="Report a symptom")).to_be_visible()
    found += axe_violations(patient, "symptom-pick")
    page.get_by_label("Fever").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="How much does it trouble you?")).to_be_visible()
    found += axe_violations(patient, "symptom-severity")
    page.get_by_label("38.0 °C or higher", exact=True).check()
    page.locator("fieldset#item-since").get_by_label("Since today").check()
    page.get_by_label("Anything you want to add? (optional)").fill("Chills last night")
    with page.expect_navigation():
        page.get_by_role("button", name="Send and get advice").click()
    expect(page.get_by_role("heading", name="Call your care unit now")).to_be_visible()
    expect(page.locator(".triage")).to_contain_text("010-111 22 33")
    expect(page.locator(".triage a[href='tel:0101112233']")).to_be_visible()
    expect(page.locator(".triage")).to_contain_text("112")
    expect(page.locator("body")).to_contain_text("to be reviewed by the care team before use")
    found += axe_violations(patient, "symptom-advice")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width

    # Back and send the same form again: still one report, one alert.
    page.go_back()
    with page.expect_navigation():
        page.get_by_role("button", name="Send and get advice").click()
    expect(page.get_by_role("heading", name="Call your care unit now")).to_be_visible()
    assert SymptomReport.objects.count() == 1
    alert = Alert.objects.get(patient=people.patient)
    assert alert.severity == Alert.Severity.HIGH
    patient.assert_no_browser_errors()

    # The same pages in Swedish pass axe too.
    people.patient_user.language = "sv"
    people.patient_user.save(update_fields=["language"])
    sv = new_browsing(locale="sv-SE")
    login_password(sv, people.patient_user.email)
    sv.goto("/symptoms/new/")
    found += axe_violations(sv, "symptom-pick-sv")
    sv.goto("/symptoms/new/?s=fever&s=bleeding&step=2")
    found += axe_violations(sv, "symptom-severity-sv")
    sv.goto(f"/symptoms/{alert.response.symptom_report.pk}/")
    expect(sv.page.get_by_role("heading", name="Ring din vårdenhet nu")).to_be_visible()
    found += axe_violations(sv, "symptom-advice-sv")

    # The contact nurse's worklist: the report once, graded high.
    nurse = new_browsing(viewport=DESKTOP)
    login_password(nurse, people.nurse.email)
    login_totp(nurse, NURSE_TOTP_SECRET)
    nurse.goto("/admin/selfmonitor/alert/")
    rows = nurse.page.locator("#result_list tbody tr", has_text="Call your care unit now")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("High")
    expect(rows.first).to_contain_text("Fever: 38.0 °C or higher")
    # ... and on the one worklist of the start page, once, graded high, in words.
    nurse.goto("/admin/")
    items = nurse.page.locator("#waiting tr.work-alert")
    expect(items).to_have_count(1)
    expect(items.first).to_have_class(re.compile(r"\bseverity-3\b"))
    expect(items.first).to_contain_text("Symptom reported by the patient")
    expect(items.first).to_contain_text("Call your care unit now")
    expect(items.first).to_contain_text("(priority High)")
    nurse.assert_no_browser_errors()
    assert not found, "\n".join(found)


def test_a_new_questionnaire_shows_in_the_todo_card_and_the_notifications(new_browsing, people):
    instrument, _what = services.instrument_load(
        data=services.read_instrument_file(services.INSTRUMENT_DIR / "distress-thermometer.v1.json")
    )
    assignment = services.assignment_send(
        patient=people.patient, instrument=instrument, by=people.nurse
    )
    patient = new_browsing()
    page = patient.page
    login_password(patient, people.patient_user.email)
    card = page.locator(".todo-card")
    expect(card).to_contain_text(f"Answer the questionnaire “{instrument.title_en}”")
    expect(card).to_contain_text("answer by")
    expect(page.locator(".notification-link .badge")).to_contain_text("1")
    with page.expect_navigation():
        page.locator(".notification-link").click()
    expect(page.locator("main")).to_contain_text("A questionnaire is waiting for you")
    found = axe_violations(patient, "todo-notifications")
    patient.goto(f"/plan/{people.plan.pk}/")
    found += axe_violations(patient, "todo-card")
    with page.expect_navigation():
        card.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/questionnaires/{assignment.pk}/"))
    patient.assert_no_browser_errors()
    assert not found, "\n".join(found)
