"""axe-core on every page a patient or relative sees, phone sized, in Swedish (the
default) and English: no violation of impact "serious" or "critical".

Each page is also saved as a screenshot in test-artifacts/e2e/a11y-<lang>-<page>.png.
All pages are checked before the test fails, and the message lists every violation.
"""

from __future__ import annotations

import datetime as dt

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from careplan import access, services
from careplan.models import AccessLog, CalendarEvent, Patient, PlanSection

from ..factories import PatientFactory
from .conftest import Browsing, login_password, verify_email

BLOCKING = {"serious", "critical"}
AXE = Axe()


def axe_violations(b: Browsing, name: str) -> list[str]:
    """Run axe on the page as it is now; screenshot it; return the blocking violations,
    one line per element: page, rule, impact, target, help, HTML."""
    b.shot(name)
    results = AXE.run(b.page)
    found = []
    for v in results.response["violations"]:
        if v.get("impact") not in BLOCKING:
            continue
        for node in v["nodes"]:
            found.append(
                f"[{name}] {v['id']} ({v['impact']}) at {', '.join(map(str, node['target']))}: "
                f"{v['help']}\n    {node.get('html', '')[:300]}\n    {v['helpUrl']}"
            )
    return found


def _plan_with_content(people) -> CalendarEvent:
    """Fill the plan so every part of each page renders: an upcoming entry by the patient
    and one by the nurse, a past entry, a personal note, a follow-up plan, news since the
    last visit and access-log rows (allowed and denied)."""
    plan = people.plan
    now = timezone.now()
    own = CalendarEvent.objects.create(
        plan=plan,
        kind=CalendarEvent.Kind.VISIT,
        title="Samtal med kurator",
        starts_at=now + dt.timedelta(days=2),
        ends_at=now + dt.timedelta(days=2, hours=1),
        location="Mottagningen, plan 3",
        note="Ta med läkemedelslistan.",
        created_by=people.patient_user,
    )
    CalendarEvent.objects.create(
        plan=plan,
        kind=CalendarEvent.Kind.TREATMENT,
        title="Cytostatikabehandling",
        starts_at=now + dt.timedelta(days=5),
        created_by=people.nurse,
    )
    CalendarEvent.objects.create(
        plan=plan,
        kind=CalendarEvent.Kind.EXAMINATION,
        title="Datortomografi",
        starts_at=now - dt.timedelta(days=7),
        created_by=people.nurse,
    )
    Patient.objects.filter(pk=people.patient.pk).update(
        last_seen_plan_at=now - dt.timedelta(days=1)
    )
    section = PlanSection.objects.get(plan=plan, key="treatment")
    services.section_update(
        section=section,
        by=people.nurse,
        fields={"personal_note": "Ring oss om du får feber.\n\n- Termometer\n- Telefon"},
    )
    plan.followup_plan = "Återbesök efter tre månader."
    plan.save(update_fields=["followup_plan"])
    reach = access.reach(people.nurse, people.patient)
    access.log_access(
        user=people.nurse,
        patient=people.patient,
        obj=plan,
        action=AccessLog.Action.VIEW,
        allowed=True,
        channel=AccessLog.Channel.ADMIN,
        reach_=reach,
    )
    access.log_access(
        user=people.other_nurse,
        patient=people.patient,
        obj=plan,
        action=AccessLog.Action.VIEW,
        allowed=False,
        channel=AccessLog.Channel.ADMIN,
    )
    return own


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_patient_and_relative_page_has_no_serious_accessibility_violations(
    new_browsing, people, lang
):
    for user in (people.patient_user, people.relative):
        user.language = lang
        user.save(update_fields=["language"])
    event = _plan_with_content(people)
    plan = people.plan
    locale = "sv-SE" if lang == "sv" else "en-GB"
    found: list[str] = []

    def check(b: Browsing, name: str) -> None:
        expect(b.page.locator("h1").first).to_be_visible()
        page_lang = b.page.locator("html").get_attribute("lang")
        if page_lang != lang:
            found.append(f"[a11y-{lang}-{name}] <html lang> is {page_lang!r}, not {lang!r}")
        found.extend(axe_violations(b, f"a11y-{lang}-{name}"))

    # Anonymous: the landing page and the login page (empty, then with an error).
    anon = new_browsing(locale=locale)
    anon.goto("/")
    check(anon, "landing")
    anon.goto("/accounts/login/")
    check(anon, "login")
    anon.page.locator("input[name=login]").fill(people.patient_user.email)
    anon.page.locator("input[name=password]").fill("not the password")
    with anon.page.expect_navigation():
        anon.page.locator("form:has(input[name=password]) [type=submit]").first.click()
    check(anon, "login-error")

    # The patient.
    b = new_browsing(locale=locale)
    page = b.page
    login_password(b, people.patient_user.email)
    check(b, "plan-start")
    b.goto(f"/plan/{plan.pk}/section/treatment/")
    expect(page.locator(".personal-note")).to_be_visible()
    check(b, "section")
    b.goto(f"/plan/{plan.pk}/calendar/")
    expect(page.locator("#event-form form")).to_be_visible()
    check(b, "calendar")
    # The form sent back with errors (htmx swap): nothing typed but an impossible end.
    form = page.locator("#event-form form")
    form.locator("#id_title").fill("Provtagning")
    form.locator("#id_starts_at").fill("2030-01-10T10:00")
    form.locator("#id_ends_at").fill("2030-01-10T09:00")
    form.locator("button[type=submit]").click()
    expect(page.locator("#event-form .error-summary")).to_be_visible()
    check(b, "calendar-error")
    b.goto(f"/plan/{plan.pk}/calendar/{event.pk}/edit/")
    check(b, "event-edit")
    b.goto(f"/plan/{plan.pk}/calendar/{event.pk}/delete/")
    check(b, "event-delete")
    b.goto("/me/access-log/")
    expect(page.locator(".log-day").first).to_be_visible()
    check(b, "access-log")
    b.goto("/plan/999999/")
    check(b, "not-found")
    b.assert_no_browser_errors()

    # A patient whose plan is not ready yet.
    waiting = PatientFactory(first_name="Bo", last_name="Väntar").user
    waiting.language = lang
    waiting.save(update_fields=["language"])
    verify_email(waiting)
    w = new_browsing(locale=locale)
    login_password(w, waiting.email)
    check(w, "home-no-plan")

    # The relative: the list of who shares, and the shared plan (start, section, calendar).
    r = new_browsing(locale=locale)
    login_password(r, people.relative.email)
    expect(r.page.locator(".card-list")).to_contain_text("Alva Andersson")
    check(r, "relative-home")
    r.goto(f"/plan/{plan.pk}/")
    check(r, "relative-plan-start")
    r.goto(f"/plan/{plan.pk}/section/treatment/")
    check(r, "relative-section")
    r.goto(f"/plan/{plan.pk}/calendar/")
    check(r, "relative-calendar")
    r.assert_no_browser_errors()

    assert not found, f"{len(found)} serious/critical axe violations:\n" + "\n".join(found)
