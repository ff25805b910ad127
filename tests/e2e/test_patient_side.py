"""On a phone (390 px): the patient cannot change the care team's calendar entry but asks
for a change, which is on the nurse's worklist; a relative's menu holds only what is
shared; the new pages (change request, questions for the next visit, symptom advice)
pass axe in Swedish and English."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from careplan.models import CalendarEvent, EventChangeRequest
from contacts.models import Scope

from .conftest import DESKTOP, NURSE_TOTP_SECRET, login_password, login_totp
from .test_accessibility import axe_violations


def test_the_patient_asks_for_a_change_to_a_team_entry(new_browsing, people):
    team = CalendarEvent.objects.create(
        plan=people.plan,
        kind=CalendarEvent.Kind.TREATMENT,
        title="Cytostatikabehandling",
        starts_at=timezone.now() + dt.timedelta(days=5),
        created_by=people.nurse,
    )
    own = CalendarEvent.objects.create(
        plan=people.plan,
        title="Samtal med kurator",
        starts_at=timezone.now() + dt.timedelta(days=2),
        created_by=people.patient_user,
    )
    patient = new_browsing()
    page = patient.page
    login_password(patient, people.patient_user.email)
    patient.goto(f"/plan/{people.plan.pk}/calendar/")
    team_item = page.locator("li.event", has_text="Cytostatikabehandling")
    own_item = page.locator("li.event", has_text="Samtal med kurator")
    expect(own_item.get_by_role("link", name=re.compile("^Change"))).to_be_visible()
    expect(team_item.get_by_role("link", name=re.compile("^Change"))).to_have_count(0)
    expect(team_item).to_contain_text("Booked by your care team.")
    # Going to the edit address anyway is refused by the server.
    response = patient.goto(f"/plan/{people.plan.pk}/calendar/{team.pk}/edit/")
    assert response.status == 403
    patient.goto(f"/plan/{people.plan.pk}/calendar/")
    with page.expect_navigation():
        team_item.get_by_role("link", name=re.compile("^Ask for a change")).click()
    found = axe_violations(patient, "change-request")
    page.get_by_label("What would you like to change?").fill("Can we move it to Friday?")
    with page.expect_navigation():
        page.get_by_role("button", name="Send the request").click()
    expect(page.locator(".messages")).to_contain_text("Your care team has your request")
    assert EventChangeRequest.objects.get().event == team
    assert CalendarEvent.objects.get(pk=team.pk).title == "Cytostatikabehandling"
    assert CalendarEvent.objects.filter(pk=own.pk).exists()
    patient.assert_no_browser_errors()

    nurse = new_browsing(viewport=DESKTOP)
    login_password(nurse, people.nurse.email)
    login_totp(nurse, NURSE_TOTP_SECRET)
    nurse.goto("/admin/")
    # One worklist: the request is one item of it, opening the page where it is handled.
    items = nurse.page.locator("#waiting tr.work-change_request")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Calendar change asked for")
    expect(items.first).to_contain_text("Can we move it to Friday?")
    with nurse.page.expect_navigation():
        items.first.get_by_role("link").first.click()
    expect(nurse.page).to_have_url(re.compile(r"/admin/careplan/eventchangerequest/\d+/change/"))
    nurse.assert_no_browser_errors()
    assert not found, "\n".join(found)


def test_a_relative_sees_only_the_shared_menu_items(new_browsing, people):
    people.grant.scopes = [Scope.PLAN_SECTIONS, Scope.CALENDAR]
    people.grant.save()
    relative = new_browsing()
    page = relative.page
    login_password(relative, people.relative.email)
    relative.goto(f"/plan/{people.plan.pk}/")
    menu = page.locator("nav.plan-nav")
    expect(menu.get_by_role("link")).to_have_text(["Start", "Calendar", "Print (PDF)"])
    expect(page.locator(".site-links")).not_to_contain_text("Messages")
    expect(page.locator(".not-shared")).to_contain_text("Alva has not shared these parts")
    expect(page.locator(".subtitle")).to_contain_text("Alva’s care plan")
    found = axe_violations(relative, "relative-plan-menu")

    people.grant.scopes = [s.value for s in Scope]
    people.grant.save()
    relative.goto(f"/plan/{people.plan.pk}/")
    expect(menu.get_by_role("link")).to_have_text(
        ["Start", "Calendar", "Questionnaires", "Rehabilitation", "Messages", "Print (PDF)"]
    )
    expect(page.locator(".not-shared")).to_have_count(0)
    relative.assert_no_browser_errors()
    assert not found, "\n".join(found)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_new_pages_pass_axe(new_browsing, people, lang):
    people.patient_user.language = lang
    people.patient_user.save(update_fields=["language"])
    team = CalendarEvent.objects.create(
        plan=people.plan,
        title="Strålbehandling",
        starts_at=timezone.now() + dt.timedelta(days=3),
        created_by=people.nurse,
    )
    b = new_browsing(locale="sv-SE" if lang == "sv" else "en-GB")
    login_password(b, people.patient_user.email)
    found: list[str] = []
    for name, path in (
        ("change-request", f"/plan/{people.plan.pk}/calendar/{team.pk}/request-change/"),
        ("questions", "/me/questions/"),
        ("advice", "/symptoms/advice/fever/"),
        ("access-log", "/me/access-log/"),
    ):
        b.goto(path)
        expect(b.page.locator("h1").first).to_be_visible()
        assert b.page.locator("html").get_attribute("lang") == lang
        found += axe_violations(b, f"new-{lang}-{name}")
    # The question list with an error and with questions.
    b.goto("/me/questions/")
    with b.page.expect_navigation():
        b.page.locator("form.card button[type=submit]").click()
    expect(b.page.locator(".error-summary")).to_be_visible()
    found += axe_violations(b, f"new-{lang}-questions-error")
    b.page.locator("#id-text").fill("Hur länge varar tröttheten?")
    with b.page.expect_navigation():
        b.page.locator("form.card button[type=submit]").click()
    expect(b.page.locator(".card-list")).to_contain_text("Hur länge")
    found += axe_violations(b, f"new-{lang}-questions-list")
    b.assert_no_browser_errors()
    assert not found, "\n".join(found)
