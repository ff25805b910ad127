"""Self-monitoring in real browsers: the patient answers the distress thermometer on a
phone with a distress of 8; the contact nurse sees the alert in the admin worklist and
acknowledges it with a note. axe-core checks every questionnaire page the patient sees
(no serious or critical violation)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from selfmonitor import services
from selfmonitor.models import Alert, Response

from .conftest import DESKTOP, NURSE_TOTP_SECRET, login_password, login_totp
from .test_accessibility import axe_violations


def _load_and_send(people):
    loaded = {}
    for path in sorted(services.INSTRUMENT_DIR.glob("*.json")):
        instrument, _what = services.instrument_load(
            data=services.read_instrument_file(path), source_file=path.name
        )
        loaded[instrument.key] = instrument
    return services.assignment_send(
        patient=people.patient, instrument=loaded["distress-thermometer"], by=people.nurse
    )


def test_patient_answers_distress_8_and_the_nurse_acknowledges_the_alert(new_browsing, people):
    assignment = _load_and_send(people)
    found: list[str] = []

    patient = new_browsing()  # phone sized
    page = patient.page
    login_password(patient, people.patient_user.email)
    expect(page).to_have_url(re.compile(rf"/plan/{people.plan.pk}/$"))
    page.get_by_role("link", name="Your questionnaires and how you have been").click()
    expect(page.get_by_role("heading", name="Questionnaires", exact=True)).to_be_visible()
    found += axe_violations(patient, "selfmonitor-list")
    page.get_by_role("link", name="How have you been?").click()
    expect(page).to_have_url(re.compile(rf"/questionnaires/{assignment.pk}/"))
    found += axe_violations(patient, "selfmonitor-answer-1")

    # Part 2 without the required question: the page says what is missing, keeps the rest.
    page.locator("label:has(input[name=a-distress][value='8'])").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Part 2 of 2")).to_be_visible()
    page.get_by_label("Pain").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send answers").click()
    expect(page.locator(".error-summary")).to_contain_text("Please answer this question.")
    expect(page.get_by_label("Pain")).to_be_checked()
    found += axe_violations(patient, "selfmonitor-answer-error")

    page.locator("fieldset#item-wants_contact").get_by_label("No").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send answers").click()
    expect(page.get_by_role("heading", name="Your care team has been told")).to_be_visible()
    expect(page.locator("body")).to_contain_text("1177")
    found += axe_violations(patient, "selfmonitor-result")
    response = Response.objects.get(assignment=assignment)
    assert response.scores["distress"] == 8
    assert response.answers["problems_physical"] == ["pain"]

    patient.goto(f"/plan/{people.plan.pk}/questionnaires/trend/distress-thermometer/")
    expect(page.locator("svg.trend-chart").first).to_be_visible()
    page.get_by_text("Show as a table").first.click()
    expect(page.locator("table").first).to_contain_text("8")
    found += axe_violations(patient, "selfmonitor-trend")
    patient.assert_no_browser_errors()

    # The contact nurse, in the admin.
    nurse = new_browsing(viewport=DESKTOP)
    page = nurse.page
    login_password(nurse, people.nurse.email)
    login_totp(nurse, NURSE_TOTP_SECRET)
    nurse.goto("/admin/selfmonitor/alert/")
    row = page.locator("#result_list tbody tr", has_text="Distress of 4 or more")
    expect(row).to_contain_text("High")
    expect(row).to_contain_text("Andersson, Alva")
    with page.expect_navigation():
        row.get_by_role("link", name="Acknowledge").click()
    with page.expect_navigation():
        page.locator("input[type=submit]").click()
    expect(page.locator(".errorlist")).to_contain_text("Write a note on what was done.")
    page.locator("textarea[name=note]").fill("Called Alva; a visit with the counsellor booked.")
    with page.expect_navigation():
        page.locator("input[type=submit]").click()
    expect(page.locator(".messagelist")).to_contain_text("The alert was acknowledged.")
    alert = Alert.objects.get(response=response)
    assert alert.acknowledged_by == people.nurse
    assert alert.note.startswith("Called Alva")
    nurse.assert_no_browser_errors()

    assert not found, "\n".join(found)


def test_questionnaire_pages_pass_axe_in_swedish_for_every_shipped_instrument(new_browsing, people):
    _load_and_send(people)
    people.patient_user.language = "sv"
    people.patient_user.save(update_fields=["language"])
    from selfmonitor.models import Instrument

    sent = [
        services.assignment_send(
            patient=people.patient, instrument=Instrument.current(key), by=people.nurse
        )
        for key in ("symptom-scale", "rehab-needs", "care-experience")
    ]
    patient = new_browsing(locale="sv-SE")
    login_password(patient, people.patient_user.email)
    found: list[str] = []
    for assignment in sent:
        patient.goto(f"/questionnaires/{assignment.pk}/")
        expect(patient.page.locator("h1")).to_have_text(assignment.instrument.title_sv)
        found += axe_violations(patient, f"selfmonitor-sv-{assignment.instrument.key}")
    patient.assert_no_browser_errors()
    assert not found, "\n".join(found)
