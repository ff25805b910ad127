"""The contact nurse's day in Chromium (issue 10): the patient sends a message; the nurse
(password + TOTP) sees it on the worklist and the header's counter, opens the patient
overview and answers. A high questionnaire score: the overview shows the score, the
answers and the phone number; acknowledged with a note, the item leaves the worklist.
axe on the admin pages of this issue; no page wider than 1366 px; the worklist and the
alert acknowledgement at 390 px; a logged-in patient at /admin/ gets a page with a link
home."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from selfmonitor import services as sm_services
from selfmonitor.models import Alert

from .conftest import NURSE_TOTP_SECRET, PHONE, Browsing, login_password, login_totp
from .test_accessibility import axe_violations as _axe

SUBJECT = "Fever since last night"
QUESTION = "I have 38.5 degrees since last night. Should I come in?"
ANSWER = "Call us now on the unit's number, we will see you today."
ADMIN = {"width": 1366, "height": 900}


@pytest.fixture
def instruments(transactional_db):
    loaded = {}
    for path in sorted(sm_services.INSTRUMENT_DIR.glob("*.json")):
        instrument, _what = sm_services.instrument_load(
            data=sm_services.read_instrument_file(path), source_file=path.name
        )
        loaded[instrument.key] = instrument
    return loaded


def axe_violations(b: Browsing, name: str) -> list[str]:
    """axe, minus what axe itself causes on admin form pages: it re-reads the admin's
    forms.css as an inline <style> (refused by our CSP) and resolves its ``@import
    'widgets.css'`` against the page's address (a 404). Nothing else is dropped."""
    console, failed = len(b.problems.console_errors), len(b.problems.failed_requests)
    found = _axe(b, name)
    b.problems.console_errors[console:] = [
        p for p in b.problems.console_errors[console:] if "Applying inline style" not in p
    ]
    b.problems.failed_requests[failed:] = [
        p for p in b.problems.failed_requests[failed:] if "/widgets.css" not in p
    ]
    return found


def page_width(b: Browsing) -> int:
    return b.page.evaluate("document.documentElement.scrollWidth")


def fits(b: Browsing, width: int, found: list[str], name: str) -> None:
    wide = page_width(b)
    if wide > width:
        culprits = b.page.evaluate(
            """w => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > w)
            .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id)""",
            width,
        )
        found.append(f"{name}: {wide} px wide at {width} px ({', '.join(culprits)})")


def test_message_and_alert_from_the_worklist_through_the_overview(
    new_browsing, people, instruments
):
    people.patient.phone = "070-123 45 67"
    people.patient.save(update_fields=["phone"])
    problems: list[str] = []

    # The patient writes to the care team.
    patient = new_browsing()
    ppage = patient.page
    login_password(patient, people.patient_user.email)
    patient.goto("/messages/new/")
    ppage.get_by_role("textbox", name="Subject").fill(SUBJECT)
    ppage.get_by_role("textbox", name="Your message").fill(QUESTION)
    with ppage.expect_navigation():
        ppage.get_by_role("button", name="Send").click()
    expect(ppage.locator(".message--patient")).to_contain_text(QUESTION)
    # A logged-in patient at /admin/ is told where they are, with a link home.
    patient.goto("/admin/")
    expect(ppage.locator("h1")).to_contain_text("care team's workspace")
    expect(ppage.get_by_role("link", name="Go to your start page")).to_be_visible()

    # The nurse: password, TOTP; the worklist and the counter show the message.
    nurse = new_browsing(viewport=ADMIN)
    npage = nurse.page
    login_password(nurse, people.nurse.email)
    login_totp(nurse, NURSE_TOTP_SECRET)
    expect(npage).to_have_url(re.compile(r"/admin/$"))
    waiting = npage.get_by_role("region", name="Waiting for the care team")
    expect(waiting).to_contain_text(SUBJECT)
    expect(waiting).to_contain_text("New message")
    expect(npage.locator("#unread-counter")).to_contain_text("1 new")
    problems += axe_violations(nurse, "nurse-day-worklist")
    fits(nurse, 1366, problems, "worklist")

    # The overview from the worklist, then the answer.
    waiting.get_by_role("link", name=re.compile("Andersson, Alva")).first.click()
    expect(npage).to_have_url(re.compile(r"/admin/careplan/patient/\d+/overview/$"))
    expect(npage.locator("#content")).to_contain_text(QUESTION)
    problems += axe_violations(nurse, "nurse-day-overview-message")
    fits(nurse, 1366, problems, "overview")
    npage.get_by_role("link", name="Answer a message").click()
    npage.locator("textarea[name=answer]").fill(ANSWER)
    with npage.expect_navigation():
        npage.locator("input[name=_continue]").click()
    expect(npage.locator(".messagelist")).to_contain_text("Your answer was sent.")
    nurse.goto("/admin/")
    expect(npage.get_by_role("region", name="Waiting for the care team")).not_to_contain_text(
        SUBJECT
    )
    expect(npage.locator("#unread-counter")).to_contain_text("0 new")

    # A high questionnaire score.
    assignment = sm_services.assignment_send(
        patient=people.patient, instrument=instruments["distress-thermometer"], by=people.nurse
    )
    sm_services.response_submit(
        assignment=assignment,
        by=people.patient_user,
        raw={"distress": ["9"], "wants_contact": ["no"]},
    )
    alert = Alert.objects.get()
    nurse.goto("/admin/")
    waiting = npage.get_by_role("region", name="Waiting for the care team")
    expect(waiting).to_contain_text("Alert from a questionnaire")
    waiting.get_by_role("link", name=re.compile("Andersson, Alva")).first.click()
    alerts = npage.get_by_role("region", name="Open alerts")
    expect(alerts).to_contain_text(alert.text_en)
    expect(alerts).to_contain_text("9")  # the score
    expect(alerts).to_contain_text("070-123 45 67")
    expect(alerts.locator("dt").first).to_be_visible()  # a question in words
    assert "{" not in alerts.inner_text()
    problems += axe_violations(nurse, "nurse-day-overview-alert")
    fits(nurse, 1366, problems, "overview with alert")

    # Acknowledge with a note, from the overview; back on it, and off the worklist.
    alerts.get_by_label("Note on what was done").fill("Called her, visit booked today.")
    with npage.expect_navigation():
        alerts.get_by_role("button", name="Acknowledge").click()
    expect(npage.locator(".messagelist")).to_contain_text("The alert was acknowledged.")
    expect(npage.get_by_role("region", name="Open alerts")).to_contain_text("No open alerts.")
    nurse.goto("/admin/")
    waiting = npage.get_by_role("region", name="Waiting for the care team")
    expect(waiting).not_to_contain_text("Alert from a questionnaire")
    expect(waiting).not_to_contain_text(SUBJECT)  # answered: off the list too
    expect(waiting).to_contain_text("Rehabilitation needs to (re)assess")  # planning stays
    nurse.goto("/admin/notifications/")
    problems += axe_violations(nurse, "nurse-day-notifications")
    fits(nurse, 1366, problems, "notifications")
    nurse.assert_no_browser_errors()
    patient.assert_no_browser_errors()
    assert not problems, "\n".join(problems)


def test_the_worklist_and_the_acknowledgement_work_on_a_phone(new_browsing, people, instruments):
    assignment = sm_services.assignment_send(
        patient=people.patient, instrument=instruments["distress-thermometer"], by=people.nurse
    )
    sm_services.response_submit(
        assignment=assignment,
        by=people.patient_user,
        raw={"distress": ["8"], "wants_contact": ["no"]},
    )
    problems: list[str] = []
    nurse = new_browsing(viewport=PHONE)
    npage = nurse.page
    login_password(nurse, people.nurse.email)
    login_totp(nurse, NURSE_TOTP_SECRET)
    waiting = npage.get_by_role("region", name="Waiting for the care team")
    expect(waiting).to_contain_text("Alert from a questionnaire")
    fits(nurse, PHONE["width"], problems, "worklist at 390 px")
    waiting.get_by_role("link", name=re.compile("Alert from a questionnaire")).click()
    expect(npage.locator(".alert-details")).to_contain_text("8")
    fits(nurse, PHONE["width"], problems, "acknowledge at 390 px")
    problems += axe_violations(nurse, "nurse-day-acknowledge-phone")
    npage.locator("textarea[name=note]").fill("Called, all well.")
    with npage.expect_navigation():
        npage.locator(".submit-row input[type=submit]").click()
    expect(npage.locator(".messagelist")).to_contain_text("The alert was acknowledged.")
    assert Alert.objects.get().acknowledged_at is not None
    nurse.assert_no_browser_errors()
    assert not problems, "\n".join(problems)


def test_no_admin_page_is_wider_than_1366_px(new_browsing, people, instruments):
    """Every list and add page the nurse reaches from the start page, and the patient's
    own pages (change, overview, contact nurse), at 1366 px."""
    sm_services.response_submit(
        assignment=sm_services.assignment_send(
            patient=people.patient, instrument=instruments["distress-thermometer"], by=people.nurse
        ),
        by=people.patient_user,
        raw={"distress": ["5"], "wants_contact": ["no"]},
    )
    nurse = new_browsing(viewport=ADMIN)
    login_password(nurse, people.nurse.email)
    login_totp(nurse, NURSE_TOTP_SECRET)
    links = nurse.page.eval_on_selector_all(
        "#content-main .app-list a[href^='/admin/'], #content-main table a[href^='/admin/']",
        "els => [...new Set(els.map(e => e.getAttribute('href')))]",
    )
    pk = people.patient.pk
    links += [
        f"/admin/careplan/patient/{pk}/change/",
        f"/admin/careplan/patient/{pk}/overview/",
        f"/admin/careplan/careplan/{people.plan.pk}/change/",
        "/admin/notifications/",
    ]
    too_wide: list[str] = []
    for href in sorted(set(links)):
        nurse.goto(href)
        fits(nurse, ADMIN["width"], too_wide, href)
    assert len(links) > 20
    assert not too_wide, "\n".join(too_wide)
