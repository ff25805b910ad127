"""The patient's way through the site in a real browser, phone sized: log in, read the
plan, use the calendar (with and without JavaScript), print the plan."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import expect

from careplan.models import CalendarEvent

from .conftest import login_password

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _in_days(days: int, hour: int, minute: int = 0) -> dt.datetime:
    """A local (Europe/Stockholm) time some days from now, as the patient types it."""
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute))


def _fill_event(page, *, title: str, starts: dt.datetime, ends: dt.datetime) -> None:
    form = page.locator("#event-form form")
    form.locator("#id_title").fill(title)
    form.locator("#id_starts_at").fill(starts.strftime(DATETIME_LOCAL))
    form.locator("#id_ends_at").fill(ends.strftime(DATETIME_LOCAL))


def _submit_event(page) -> None:
    page.locator("#event-form form button[type=submit]").click()


def test_patient_logs_in_reads_the_plan_uses_the_calendar_and_prints(new_browsing, people):
    b = new_browsing()
    page = b.page
    plan = people.plan

    # Log in with e-mail and password; the start page is the own plan.
    login_password(b, people.patient_user.email)
    expect(page).to_have_url(re.compile(rf"/plan/{plan.pk}/$"))
    expect(page.locator("h1")).to_have_text(plan.title)
    expect(page.locator(".contact-card")).to_contain_text("Karin Kontakt")
    b.shot("patient-plan-start")

    # A section: its text, in the patient's language.
    page.get_by_role("link", name="Section treatment").click()
    expect(page).to_have_url(re.compile(rf"/plan/{plan.pk}/section/treatment/$"))
    expect(page.locator("h1")).to_have_text("Section treatment")
    expect(page.locator(".prose").first).to_contain_text("Text about treatment.")
    b.shot("patient-section")

    # The calendar, reached from the start page.
    page.get_by_role("link", name="Back to the start of the plan").click()
    page.get_by_role("link", name="Open the calendar").click()
    expect(page).to_have_url(re.compile(rf"/plan/{plan.pk}/calendar/$"))
    expect(page.locator("h1")).to_have_text("Calendar")

    # Add an entry (htmx swaps the list in): it is listed with who added it.
    _fill_event(page, title="Blood test", starts=_in_days(2, 9, 30), ends=_in_days(2, 10))
    _submit_event(page)
    added = page.locator("#event-list li.event", has_text="Blood test")
    expect(added).to_be_visible()
    expect(added.locator(".event__by")).to_have_text("Added by Alva Andersson")
    expect(page.locator("#calendar-notice")).to_contain_text("Added to the calendar: Blood test")
    # The form is emptied for the next entry.
    expect(page.locator("#id_title")).to_have_value("")
    b.shot("patient-calendar")

    # An entry that ends before it starts: the error, and what was typed is kept.
    _fill_event(page, title="Radiotherapy", starts=_in_days(3, 14), ends=_in_days(3, 13))
    _submit_event(page)
    summary = page.locator("#event-form .error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("The event cannot end before it starts.")
    expect(page.locator("#id_title")).to_have_value("Radiotherapy")
    expect(page.locator("#id_starts_at")).to_have_value(_in_days(3, 14).strftime(DATETIME_LOCAL))
    expect(page.locator("#id_ends_at")).to_have_value(_in_days(3, 13).strftime(DATETIME_LOCAL))
    b.shot("patient-calendar-error")
    assert list(CalendarEvent.objects.filter(plan=plan).values_list("title", flat=True)) == [
        "Blood test"
    ]

    # Print: the PDF link, fetched with the page's own session.
    page.get_by_role("link", name="Start", exact=True).click()
    href = page.get_by_role("link", name="Print the plan (PDF)").get_attribute("href")
    response = page.request.get(b.base_url + href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    b.assert_no_browser_errors()


def test_patient_calendar_works_without_javascript(new_browsing, people):
    b = new_browsing(javascript=False)
    page = b.page
    plan = people.plan
    login_password(b, people.patient_user.email)
    b.goto(f"/plan/{plan.pk}/calendar/")

    _fill_event(page, title="Physiotherapy", starts=_in_days(4, 8), ends=_in_days(4, 7))
    with page.expect_navigation():
        _submit_event(page)
    expect(page.locator(".error-summary")).to_contain_text("The event cannot end before it starts.")
    expect(page.locator("#id_title")).to_have_value("Physiotherapy")

    page.locator("#id_ends_at").fill(_in_days(4, 9).strftime(DATETIME_LOCAL))
    with page.expect_navigation():
        _submit_event(page)
    expect(page).to_have_url(re.compile(rf"/plan/{plan.pk}/calendar/$"))
    expect(page.locator(".messages")).to_contain_text("Added to the calendar: Physiotherapy")
    added = page.locator("#event-list li.event", has_text="Physiotherapy")
    expect(added.locator(".event__by")).to_have_text("Added by Alva Andersson")


def test_patient_changes_a_calendar_entry(new_browsing, people):
    b = new_browsing()
    page = b.page
    plan = people.plan
    event = CalendarEvent.objects.create(
        plan=plan,
        title="Doctor's visit",
        starts_at=timezone.make_aware(_in_days(5, 10)),
        created_by=people.patient_user,
    )
    login_password(b, people.patient_user.email)
    b.goto(f"/plan/{plan.pk}/calendar/")
    # The link's name carries the entry's title (a visually hidden span).
    page.get_by_role("link", name=re.compile(r"^Change\s*: Doctor's visit$")).click()
    expect(page).to_have_url(re.compile(rf"/calendar/{event.pk}/edit/$"))
    page.locator("#id_location").fill("Room 12")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(rf"/plan/{plan.pk}/calendar/$"))
    expect(page.locator("#event-list li.event", has_text="Doctor's visit")).to_contain_text(
        "Room 12"
    )
    b.assert_no_browser_errors()
